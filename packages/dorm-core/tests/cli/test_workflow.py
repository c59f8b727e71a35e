"""The user's path through the CLI, end to end, on every backend."""

from __future__ import annotations

import re

from .project import Project

MODELS_V1 = """
class Author(dorm.Model):
    name = dorm.CharField(max_length=100)
    email = dorm.EmailField(max_length=200, unique=True)


class Tag(dorm.Model):
    label = dorm.SlugField(max_length=40, unique=True)


class Post(dorm.Model):
    title = dorm.CharField(max_length=200)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE)
    tags = dorm.ManyToManyField(Tag)
    score = dorm.IntegerField(default=0)

    class Meta:
        unique_together = [("title", "author")]
"""

MODELS_V2 = MODELS_V1.replace(
    "title = dorm.CharField(max_length=200)",
    "title = dorm.CharField(max_length=250)\n    subtitle = dorm.CharField(max_length=50, null=True)",
)


def test_init_scaffolds_a_project(sqlite_project: Project) -> None:
    root = sqlite_project.root
    assert (root / "settings.py").exists()
    assert (root / "blog" / "models.py").read_text().count("class Item(dorm.Model)") == 1
    assert (root / "blog" / "migrations" / "__init__.py").exists()
    again = sqlite_project.run("init", "blog", check=1)
    assert "never overwrites" in again.stderr and "Traceback" not in again.stderr


def test_full_workflow(project: Project) -> None:
    project.write_models(MODELS_V1)
    out = project.run("makemigrations").stdout
    assert "0001_initial.py" in out and "Create model Post" in out
    source = (project.app / "migrations" / "0001_initial.py").read_text()
    assert "from dorm import migrations" in source and "class Migration(migrations.Migration):" in source
    assert "dorm.CharField(max_length=100)" in source and "import dorm" in source
    assert project.run("makemigrations", "--check").returncode == 0

    project.run("migrate")
    assert {"blog_author", "blog_tag", "blog_post", "blog_post_tags", "dorm_migrations"} <= project.tables()
    assert " [X] 0001_initial" in project.run("showmigrations").stdout
    assert project.run("dbcheck").returncode == 0

    project.sql("INSERT INTO blog_author (name, email) VALUES ('Ann', 'ann@example.com')")
    project.sql("INSERT INTO blog_post (title, author_id, score) VALUES ('Hello', 1, 3)")

    # Change a field and add one.
    project.write_models(MODELS_V2)
    check = project.run("makemigrations", "--check", check=1)
    assert "Alter field title on Post" in check.stdout
    assert project.migration_files() == ["0001_initial.py"]  # --check writes nothing
    dry = project.run("makemigrations", "--dry-run")
    assert "0002_" in dry.stdout and project.migration_files() == ["0001_initial.py"]
    project.run("makemigrations")
    files = project.migration_files()
    assert len(files) == 2 and files[1].startswith("0002_")
    shown = project.run("showmigrations", "blog").stdout
    assert re.search(r"\[ \] 0002_", shown)

    sql = project.run("sqlmigrate", "blog", "0002").stdout
    assert "subtitle" in sql and "250" in sql

    project.run("migrate")
    assert re.search(r"\[X\] 0002_", project.run("showmigrations").stdout)
    assert project.run("dbcheck").returncode == 0
    # Data survived the change.
    assert project.sql("SELECT title, score FROM blog_post") == [("Hello", 3)]
    assert project.run("makemigrations").stdout.startswith("No changes detected")

    # Roll back one step, then to zero.
    project.run("migrate", "blog", "0001")
    assert re.search(r"\[ \] 0002_", project.run("showmigrations").stdout)
    assert project.sql("SELECT title FROM blog_post") == [("Hello",)]
    project.run("migrate", "blog", "zero")
    assert not ({"blog_author", "blog_tag", "blog_post", "blog_post_tags"} & project.tables())
    assert " [ ] 0001_initial" in project.run("showmigrations").stdout

    # And forward again from nothing.
    project.run("migrate")
    assert project.run("dbcheck").returncode == 0


def test_migrate_plan_runs_nothing(project: Project) -> None:
    project.write_models(MODELS_V1)
    project.run("makemigrations")
    plan = project.run("migrate", "--plan", "-v", "2").stdout
    assert "blog.0001_initial" in plan and "Create model Author" in plan and "CREATE TABLE" in plan
    assert "blog_author" not in project.tables()


def test_fake_records_without_running(project: Project) -> None:
    project.write_models(MODELS_V1)
    project.run("makemigrations")
    out = project.run("migrate", "--fake").stdout
    assert "FAKED" in out
    assert "blog_author" not in project.tables()
    assert " [X] 0001_initial" in project.run("showmigrations").stdout


def test_schema_evolution_each_step_is_clean(project: Project) -> None:
    """Every kind of change the autodetector knows, each checked against the live schema."""
    steps = [
        MODELS_V1,
        # rename a field
        MODELS_V1.replace("score = dorm.IntegerField(default=0)", "points = dorm.IntegerField(default=0)"),
        # index, constraint, db_index, unique_together change
        MODELS_V1.replace(
            "score = dorm.IntegerField(default=0)", "points = dorm.IntegerField(default=0, db_index=True)"
        ).replace(
            'unique_together = [("title", "author")]',
            'unique_together = [("title",)]\n'
            '        indexes = [dorm.Index(fields=["title", "points"], name="post_title_points_idx")]\n'
            '        constraints = [dorm.CheckConstraint(check=dorm.Q(points__gte=0), name="post_points_gte_0")]',
        ),
        # remove the index and constraint, remove a field, nullable FK
        MODELS_V1.replace("score = dorm.IntegerField(default=0)\n", "").replace(
            "on_delete=dorm.CASCADE)", "on_delete=dorm.SET_NULL, null=True)"
        ),
        # rename a model, delete another
        MODELS_V1.replace("score = dorm.IntegerField(default=0)\n", "")
        .replace("on_delete=dorm.CASCADE)", "on_delete=dorm.SET_NULL, null=True)")
        .replace(
            "class Tag(dorm.Model):\n    label = dorm.SlugField(max_length=40, unique=True)\n",
            "class Topic(dorm.Model):\n    label = dorm.SlugField(max_length=40, unique=True)\n",
        )
        .replace("tags = dorm.ManyToManyField(Tag)\n", "")
        + "\n\nclass Gone(dorm.Model):\n    x = dorm.IntegerField()\n",
        MODELS_V1.replace("score = dorm.IntegerField(default=0)\n", "")
        .replace("on_delete=dorm.CASCADE)", "on_delete=dorm.SET_NULL, null=True)")
        .replace(
            "class Tag(dorm.Model):\n    label = dorm.SlugField(max_length=40, unique=True)\n",
            "class Topic(dorm.Model):\n    label = dorm.SlugField(max_length=40, unique=True)\n",
        )
        .replace("tags = dorm.ManyToManyField(Tag)\n", ""),
    ]
    for number, models in enumerate(steps, start=1):
        project.write_models(models)
        made = project.run("makemigrations").stdout
        assert f"{number:04d}_" in made, made
        project.run("migrate")
        drift = project.run("dbcheck", check=None)
        assert drift.returncode == 0, f"step {number}:\n{made}\n{drift.stdout}"
        assert project.run("makemigrations", "--check", check=None).returncode == 0, f"step {number} left changes"
    migration_2 = (project.app / "migrations").glob("0002_*.py")
    assert "RenameField" in next(migration_2).read_text()
    assert "blog_topic" in project.tables() and "blog_tag" not in project.tables()
    project.run("migrate", "blog", "zero")
    assert not any(t.startswith("blog_") for t in project.tables())


SHOP_MODELS = """
import dorm
from blog.models import Item


class Order(dorm.Model):
    item = dorm.ForeignKey(Item, on_delete=dorm.PROTECT)
    extras = dorm.ManyToManyField("blog.Item", related_name="extra_orders", through="shop.OrderLine")


class OrderLine(dorm.Model):
    order = dorm.ForeignKey(Order, on_delete=dorm.CASCADE)
    item = dorm.ForeignKey(Item, on_delete=dorm.CASCADE, related_name="lines")
    qty = dorm.IntegerField(default=1)
"""


def test_two_apps_with_cross_app_relations_and_a_model_rename(project: Project) -> None:
    shop = project.root / "shop"
    (shop / "migrations").mkdir(parents=True)
    (shop / "__init__.py").write_text("")
    (shop / "migrations" / "__init__.py").write_text("")
    (shop / "models.py").write_text(SHOP_MODELS)
    settings = (
        (project.root / "settings.py")
        .read_text()
        .replace('INSTALLED_APPS = ["blog"]', 'INSTALLED_APPS = ["blog", "shop"]')
    )
    (project.root / "settings.py").write_text(settings)
    project.write_models("class Item(dorm.Model):\n    name = dorm.CharField(max_length=100)\n")
    project.run("makemigrations")
    shop_initial = (shop / "migrations" / "0001_initial.py").read_text()
    assert "('blog', '0001_initial')" in shop_initial and "through='shop.OrderLine'" in shop_initial
    project.run("migrate")
    assert project.run("dbcheck").returncode == 0
    assert "shop_order_extras" not in project.tables()  # an explicit through model has its own table

    # Rename the target model: one RenameModel in blog, nothing to change in shop.
    project.write_models("class Product(dorm.Model):\n    name = dorm.CharField(max_length=100)\n")
    (shop / "models.py").write_text(SHOP_MODELS.replace("Item", "Product"))
    made = project.run("makemigrations").stdout
    assert "Rename model Item to Product" in made and "shop" not in made
    project.run("migrate")
    assert project.run("dbcheck").returncode == 0

    # Rolling back blog to zero takes shop's migration (which depends on it) along, dependents first.
    out = project.run("migrate", "blog", "zero").stdout
    assert out.index("Unapply shop.0001_initial") < out.index("Unapply blog.0001_initial")
    assert not any(t.startswith(("blog_", "shop_")) for t in project.tables())
    # From scratch, the rename and the relations line up.
    project.run("migrate")
    assert project.run("dbcheck").returncode == 0
