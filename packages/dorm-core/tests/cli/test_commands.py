"""Individual commands: --version, errors, inspectdb, shell, dbshell, plugins, concurrency."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .project import Project

MODELS = """
class Item(dorm.Model):
    name = dorm.CharField(max_length=100)
    price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)


class Note(dorm.Model):
    item = dorm.ForeignKey(Item, on_delete=dorm.CASCADE)
    text = dorm.TextField()
"""


def test_version_lists_installed_distributions(sqlite_project: Project) -> None:
    from importlib.metadata import version

    out = sqlite_project.run("--version").stdout
    assert f"dorm-core {version('dorm-core')}" in out
    assert f"dorm-sqlite {version('dorm-sqlite')}" in out


def test_console_script_and_python_m_agree(sqlite_project: Project) -> None:
    script = sqlite_project.run("--version", script=True).stdout
    module = sqlite_project.run("--version").stdout
    assert script == module and "dorm-core" in script


def test_no_settings_is_a_clean_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dorm.cli", "migrate"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "DATABASES is not configured" in result.stderr and "DORM_SETTINGS_MODULE" in result.stderr
    assert "Traceback" not in result.stderr
    # the line carries the exception name, as in the seed's heading and a traceback's last line
    assert result.stderr.startswith("Error: ImproperlyConfigured: DATABASES is not configured")


def test_dorm_errors_are_named_command_errors_are_not(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    alias = project.run("migrate", "--database", "replica", check=1)
    assert alias.stderr.startswith("Error: ImproperlyConfigured: Database alias 'replica' not found")
    usage = project.run("showmigrations", "shop", check=1)  # a usage error of the command: no class name
    assert usage.stderr.startswith("Error: No installed app with label 'shop'")


def test_settings_flag_before_the_command(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    (project.root / "settings.py").rename(project.root / "prod_settings.py")
    project.run("--settings=prod_settings", "makemigrations")
    project.run("--settings", "prod_settings", "migrate")
    assert "[X] 0001_initial" in project.run("--settings=prod_settings", "showmigrations").stdout
    # after the command still works, and wins when both are given
    missing = project.run("--settings=prod_settings", "showmigrations", "--settings=nope_settings", check=1)
    assert "nope_settings" in missing.stderr


def test_settings_flag_selects_the_module(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    (project.root / "settings.py").rename(project.root / "prod_settings.py")
    project.run("makemigrations", "--settings=prod_settings")
    project.run("migrate", "--settings", "prod_settings")
    assert "[X] 0001_initial" in project.run("showmigrations", "--settings=prod_settings").stdout
    assert project.run("dbcheck", "--settings=prod_settings").returncode == 0
    missing = project.run("showmigrations", "--settings=nope_settings", check=1)
    assert "nope_settings" in missing.stderr and "Traceback" not in missing.stderr


def test_unknown_app_and_migration_are_clean_errors(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    bad_app = project.run("migrate", "shop", check=1)
    assert "No installed app with label 'shop'" in bad_app.stderr and "Traceback" not in bad_app.stderr
    bad_name = project.run("sqlmigrate", "blog", "0042", check=1)
    assert "has no migration '0042'" in bad_name.stderr and "0001_initial" in bad_name.stderr


def test_verbosity_two_logs_sql(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    result = project.run("migrate", "-v", "2")
    assert "CREATE TABLE" in result.stderr
    quiet = project.run("showmigrations", "-v", "0")
    assert "CREATE TABLE" not in quiet.stderr


def test_inspectdb_generates_importable_models(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    source = project.run("inspectdb").stdout
    assert "class BlogItem(dorm.Model):" in source and "db_table = 'blog_item'" in source
    assert 'dorm.ForeignKey("BlogItem", on_delete=dorm.DO_NOTHING)' in source
    assert "name = dorm.CharField(max_length=100)" in source
    assert "dorm_migrations" not in source
    compile(source, "inspected.py", "exec")


def test_inspectdb_names_the_reverse_side_of_two_keys_to_one_table(project: Project) -> None:
    project.write_models(
        """
class Depot(dorm.Model):
    name = dorm.CharField(max_length=100)


class Shipment(dorm.Model):
    origin = dorm.ForeignKey(Depot, on_delete=dorm.CASCADE, related_name="departures")
    destination = dorm.ForeignKey(Depot, on_delete=dorm.CASCADE, related_name="arrivals")
    note = dorm.ForeignKey("Note", on_delete=dorm.CASCADE, null=True)


class Note(dorm.Model):
    text = dorm.TextField()
"""
    )
    project.run("makemigrations")
    project.run("migrate")
    source = project.run("inspectdb").stdout
    assert "related_name='blogshipment_origin_set'" in source
    assert "related_name='blogshipment_destination_set'" in source
    assert 'note = dorm.ForeignKey("BlogNote", on_delete=dorm.DO_NOTHING, null=True)' in source  # the only one
    (project.root / "inspected.py").write_text(source)
    # the generated module defines its models without a reverse-accessor clash
    shown = project.run("shell", "-c", "import inspected; print(sorted(vars(inspected.BlogDepot)))").stdout
    assert "blogshipment_origin_set" in shown and "blogshipment_destination_set" in shown


def test_shell_command_runs_code_with_models(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    out = project.run("shell", "-c", "print(Item.__name__, Note._meta.db_table)").stdout
    assert "Item blog_note" in out


def test_dbshell_prints_the_client_command(sqlite_project: Project) -> None:
    out = sqlite_project.run("dbshell", "--print").stdout
    assert out.startswith("sqlite3 ") and "db.sqlite3" in out


def test_concurrent_migrate_runs_are_serialised(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    for number in range(2, 6):
        (project.app / "migrations" / f"{number:04d}_step{number}.py").write_text(
            "import dorm\nfrom dorm import migrations\n\n\nclass Migration(migrations.Migration):\n"
            f"    dependencies = [('blog', '{sorted(p.stem for p in (project.app / 'migrations').glob('0*.py'))[-1]}')]\n"
            f"    operations = [migrations.AddField('Item', 'f{number}', dorm.IntegerField(null=True))]\n"
        )
    import os

    env = {k: v for k, v in os.environ.items() if k != "DORM_SETTINGS_MODULE"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dorm.cli", "migrate"],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(code == 0 for _out, _err, code in results), results
    rows = project.sql("SELECT app, name FROM dorm_migrations")
    assert len(rows) == 5 and len(set(rows)) == 5
    assert project.run("dbcheck").returncode == 0


# -- plugin commands (in-process: the kernel is per process) ---------------------------


class HelloCommand:
    name = "hello"
    help = "say hello"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("who")

    def handle(self, args: Any) -> int:
        print(f"hello {args.who}")
        return 3


class _Plugin:
    from dorm.plugins import hookimpl

    @hookimpl
    def dorm_cli_commands(self) -> list[Any]:
        return [HelloCommand()]


@pytest.fixture
def hello_plugin() -> Iterator[None]:
    from dorm.plugins import kernel

    plugin = _Plugin()
    kernel.register(plugin, name="h7-hello")
    try:
        yield
    finally:
        kernel.unregister(plugin)


def test_plugin_contributes_a_command(hello_plugin: None, capsys: pytest.CaptureFixture[str]) -> None:
    from dorm.cli import main

    assert main(["hello", "world"]) == 3
    assert "hello world" in capsys.readouterr().out


def test_makemigrations_warns_about_not_null_without_default(sqlite_project: Project) -> None:
    project = sqlite_project
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    project.sql("INSERT INTO blog_item (name) VALUES ('x')")
    project.write_models(
        MODELS.replace(
            "price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)",
            "price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)\n    qty = dorm.IntegerField()",
        )
    )
    made = project.run("makemigrations").stdout
    assert "warning: Item.qty is NOT NULL without a default" in made and "AddFieldOnline" in made
    failed = project.run("migrate", check=1)
    assert "NOT NULL" in failed.stderr and "Traceback" not in failed.stderr
    assert "[ ] 0002_" in project.run("showmigrations").stdout


ONLINE = """
import dorm
from dorm import migrations


class Migration(migrations.Migration):
    dependencies = [("blog", "0001_initial")]
    atomic = False
    operations = [
        migrations.AddFieldOnline("Item", "status", dorm.CharField(max_length=10, default="new")),
        migrations.BackfillBatch("Item", "status", value="new", batch_size=2),
        migrations.SetNotNullOnline("Item", "status"),
        migrations.AddIndexConcurrently("Item", dorm.Index(fields=["status"], name="item_status_idx")),
    ]
"""


def test_online_recipe_through_the_cli_prints_progress(project: Project) -> None:
    project.write_models(MODELS)
    project.run("makemigrations")
    project.run("migrate")
    for i in range(5):
        project.sql(f"INSERT INTO blog_item (name) VALUES ('i{i}')")
    (project.app / "migrations" / "0002_status_online.py").write_text(ONLINE)
    out = project.run("migrate").stdout
    assert "Backfill Item.status: 2/5 rows (40.0%)" in out and "Backfill Item.status: 5/5 rows (100.0%)" in out
    assert "rows/s" in out and "Apply blog.0002_status_online... OK" in out
    assert project.sql("SELECT COUNT(*) FROM blog_item WHERE status = 'new'") == [(5,)]
    project.write_models(
        MODELS.replace(
            "price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)\n",
            "price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)\n"
            '    status = dorm.CharField(max_length=10, default="new")\n\n'
            '    class Meta:\n        indexes = [dorm.Index(fields=["status"], name="item_status_idx")]\n',
        )
    )
    assert project.run("makemigrations", "--check").returncode == 0
    assert project.run("dbcheck").returncode == 0
    project.run("migrate", "blog", "0001")
    assert "status = " not in project.run("inspectdb", "blog_item").stdout
