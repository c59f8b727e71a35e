"""The seed's migration entries: each symptom reproduced, each fix shown to work."""

from __future__ import annotations

import textwrap

from .project import Project, database_settings

MODELS = """
class Item(dorm.Model):
    name = dorm.CharField(max_length=100)
"""


def _write_migration(project: Project, filename: str, body: str) -> None:
    (project.app / "migrations" / filename).write_text(textwrap.dedent(body).lstrip())


# -- "Migrations in a long-lived branch don't apply" (numbering collision) -------------


def test_numbering_collision_first_applies_rest_refused(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    # Two branches both added 0002_*.
    _write_migration(
        project,
        "0002_item_price.py",
        """
        import dorm
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("blog", "0001_initial")]
            operations = [migrations.AddField("Item", "price", dorm.IntegerField(null=True))]
        """,
    )
    _write_migration(
        project,
        "0002_item_stock.py",
        """
        import dorm
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("blog", "0001_initial")]
            operations = [migrations.AddField("Item", "stock", dorm.IntegerField(null=True))]
        """,
    )
    result = project.run("migrate", check=1)
    assert "Apply blog.0002_item_price... OK" in result.stdout
    err = result.stderr
    assert "0002_item_price.py" in err and "0002_item_stock.py" in err
    assert "dorm makemigrations blog --name <suffix>" in err and "next available number" in err
    assert "Traceback" not in err
    shown = project.run("showmigrations", check=1).stdout
    assert "[X] 0002_item_price" in shown and "[!] 0002_item_stock" in shown
    columns = _columns(project, "blog_item")
    assert "price" in columns and "stock" not in columns

    # The fix: drop the refused file and regenerate it with the next free number.
    (project.app / "migrations" / "0002_item_stock.py").unlink()
    project.write_models(
        MODELS + "    price = dorm.IntegerField(null=True)\n    stock = dorm.IntegerField(null=True)\n"
    )
    made = project.run("makemigrations", "blog", "--name", "item_stock").stdout
    assert "0003_item_stock.py" in made
    project.run("migrate")
    assert "stock" in _columns(project, "blog_item")
    assert project.run("dbcheck").returncode == 0


def test_makemigrations_takes_the_next_free_number_even_with_a_collision(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    for name in ("0002_a.py", "0002_b.py"):
        _write_migration(
            project,
            name,
            "from dorm import migrations\n\nclass Migration(migrations.Migration):\n    dependencies = [('blog', '0001_initial')]\n",
        )
    project.write_models(MODELS + "    extra = dorm.IntegerField(null=True)\n")
    made = project.run("makemigrations", "--name", "extra")
    assert "0003_extra.py" in made.stdout
    # and says that the refused file's operations were not counted, and to delete it
    assert "note: 0002_b.py in app 'blog' is refused (numbering collision with 0002_a.py)" in made.stderr
    assert "delete 0002_b.py" in made.stderr
    (project.app / "migrations" / "0002_b.py").unlink()
    assert "note:" not in project.run("makemigrations").stderr


def _columns(project: Project, table: str) -> set[str]:
    if project.backend == "sqlite":
        return {r[1] for r in project.sql(f"PRAGMA table_info({table})")}
    return {
        r[0] for r in project.sql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")
    }


# -- "Rolled-back migration leaves an orphan table" (adapted: the rollback is refused) ---


IRREVERSIBLE = """
import dorm
from dorm import migrations


def fill(apps, schema_editor):
    schema_editor.execute('INSERT INTO "blog_item" ("name") VALUES (\\'seeded\\')')


class Migration(migrations.Migration):
    dependencies = [("blog", "0001_initial")]
    operations = [
        migrations.CreateModel("Label", [("id", dorm.BigAutoField(primary_key=True)), ("text", dorm.CharField(max_length=20))]),
        migrations.RunPython(fill{reverse}),
    ]
"""


def test_rollback_through_runpython_without_reverse_code_is_refused(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    _write_migration(project, "0002_labels.py", IRREVERSIBLE.format(reverse=""))
    project.run("migrate")
    before = project.tables()
    assert "blog_label" in before

    result = project.run("migrate", "blog", "zero", check=1)
    err = result.stderr
    assert "Cannot roll back blog.0002_labels" in err
    assert "reverse_code=" in err and "RunPython.noop" in err and "0002_labels.py" in err
    assert "Traceback" not in err
    # Nothing ran: both tables, the data and the records are still there.
    assert project.tables() == before
    assert project.sql("SELECT name FROM blog_item") == [("seeded",)]
    shown = project.run("showmigrations").stdout
    assert "[X] 0001_initial" in shown and "[X] 0002_labels" in shown


def test_faked_rollback_through_runpython_without_reverse_code_only_records(sqlite_project: Project) -> None:
    # --fake runs nothing, so there is nothing irreversible to refuse: only the record goes.
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    _write_migration(project, "0002_labels.py", IRREVERSIBLE.format(reverse=""))
    project.run("migrate")
    before = project.tables()
    result = project.run("migrate", "blog", "0001", "--fake")
    assert "Unapply blog.0002_labels... FAKED" in result.stdout
    assert project.tables() == before  # blog_label is still there: nothing ran
    shown = project.run("showmigrations").stdout
    assert "[X] 0001_initial" in shown and "[ ] 0002_labels" in shown


ORM_DATA_MIGRATION = """
from dorm import migrations


def seed(apps, schema_editor):
    Item = apps.get_model("blog", "Item")
    Item.objects.create(name="from RunPython")
    assert Item.objects.count() == 1


def unseed(apps, schema_editor):
    apps.get_model("blog", "Item").objects.filter(name="from RunPython").delete()


class Migration(migrations.Migration):
    dependencies = [("blog", "0001_initial")]
    operations = [migrations.RunPython(seed, reverse_code=unseed)]
"""


def test_runpython_uses_the_orm_inside_the_migration_transaction(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    _write_migration(project, "0002_seed.py", ORM_DATA_MIGRATION)
    project.run("migrate")
    assert project.sql("SELECT name FROM blog_item") == [("from RunPython",)]
    project.run("migrate", "blog", "0001")
    assert project.sql("SELECT name FROM blog_item") == []


def test_rollback_works_with_runpython_noop(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    _write_migration(project, "0002_labels.py", IRREVERSIBLE.format(reverse=", reverse_code=migrations.RunPython.noop"))
    project.run("migrate")
    project.run("migrate", "blog", "zero")
    assert not {"blog_item", "blog_label"} & project.tables()
    assert "[ ] 0002_labels" in project.run("showmigrations").stdout


def test_failed_migration_leaves_no_partial_schema(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    _write_migration(
        project,
        "0002_broken.py",
        """
        import dorm
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("blog", "0001_initial")]
            operations = [
                migrations.CreateModel("Half", [("id", dorm.BigAutoField(primary_key=True))]),
                migrations.AddField("Item", "price", dorm.IntegerField(null=True)),
                migrations.RunSQL("THIS IS NOT SQL", reverse_sql=migrations.RunSQL.noop),
            ]
        """,
    )
    result = project.run("migrate", check=1)
    assert "Traceback" not in result.stderr
    assert "Apply blog.0002_broken failed at operation 3 (Raw SQL operation)" in result.stderr
    assert "Nothing of this migration was applied" in result.stderr
    assert "blog_half" not in project.tables()
    assert "price" not in _columns(project, "blog_item")
    assert "[ ] 0002_broken" in project.run("showmigrations").stdout


# -- "dbcheck reports drift but the migration looks applied" ------------------------------


def test_dbcheck_drift_when_applied_to_another_alias(project: Project) -> None:
    project.aliases["other"] = database_settings(project.backend, project.root, "other")
    project.write_settings()
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")  # default only
    assert project.run("dbcheck").returncode == 0

    drift = project.run("dbcheck", "--database", "other", check=1)
    assert "table blog_item: missing" in drift.stdout
    assert "not applied on 'other'" in drift.stdout and "showmigrations" in drift.stdout
    assert "[ ] 0001_initial" in project.run("showmigrations", "blog", "--database", "other").stdout

    # The fix: migrate that alias.
    project.run("migrate", "--database", "other")
    assert project.run("dbcheck", "--database", "other").returncode == 0


def test_dbcheck_drift_after_hand_edit_and_runsql_fix(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    # Someone hand-edits the table in production.
    project.sql('CREATE INDEX "item_name_hand_idx" ON "blog_item" ("name")')
    project.sql('ALTER TABLE "blog_item" ADD COLUMN "note" varchar(30)')
    drift = project.run("dbcheck", check=1)
    assert "+ blog_item: index item_name_hand_idx on (name)" in drift.stdout
    assert "+ blog_item.note: column in the database but not in the migration state" in drift.stdout
    assert "RunSQL" in drift.stdout

    # The fix: a migration that encodes the diff (RunSQL for the database, the same change for the state).
    project.write_models(
        MODELS
        + "    note = dorm.CharField(max_length=30, null=True)\n\n"
        + '    class Meta:\n        indexes = [dorm.Index(fields=["name"], name="item_name_hand_idx")]\n'
    )
    project.run("makemigrations", "blog", "--empty", "--name", "encode_hand_edit")
    _write_migration(
        project,
        "0002_encode_hand_edit.py",
        """
        import dorm
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("blog", "0001_initial")]
            operations = [
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL(
                            'CREATE INDEX IF NOT EXISTS "item_name_hand_idx" ON "blog_item" ("name")',
                            reverse_sql='DROP INDEX "item_name_hand_idx"',
                        ),
                    ],
                    state_operations=[
                        migrations.AddField("Item", "note", dorm.CharField(max_length=30, null=True)),
                        migrations.AddIndex("Item", dorm.Index(fields=["name"], name="item_name_hand_idx")),
                    ],
                ),
            ]
        """,
    )
    project.run("migrate")
    assert project.run("dbcheck").returncode == 0
    assert project.run("makemigrations", "--check").returncode == 0


def test_dbcheck_reports_changed_type_and_nullability(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    project.sql("DROP TABLE blog_item")
    project.sql('CREATE TABLE "blog_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NULL)')
    drift = project.run("dbcheck", check=1).stdout
    assert "type is 'varchar(50)' in the database, 'varchar(100)' in the migration state" in drift
    assert "NULL allowed in the database, NOT NULL in the migration state" in drift
