"""``dorm makemigrations`` / ``migrate`` / ``dbcheck`` / rollback on a DuckDB project, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

SETTINGS = """
DATABASES = {"default": {"ENGINE": "duckdb", "NAME": "db.duckdb"}}
INSTALLED_APPS = ["shop"]
"""

MODELS_V1 = """
import dorm


class Product(dorm.Model):
    name = dorm.CharField(max_length=100, unique=True)
    created = dorm.DateTimeField(auto_now_add=True)
"""

MODELS_V2 = """
import dorm


class Product(dorm.Model):
    title = dorm.CharField(max_length=100, unique=True)
    created = dorm.DateTimeField(auto_now_add=True)
    stock = dorm.IntegerField(default=0, db_index=True)


class Review(dorm.Model):
    product = dorm.ForeignKey(Product, on_delete=dorm.CASCADE, related_name="reviews")
    stars = dorm.SmallIntegerField(default=5)
"""


def dorm_cli(project: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run(
        [sys.executable, "-m", "dorm.cli", *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_migration_loop(tmp_path: Path) -> None:
    app = tmp_path / "shop"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (tmp_path / "settings.py").write_text(SETTINGS)
    (app / "models.py").write_text(MODELS_V1)
    dorm_cli(tmp_path, "makemigrations")
    assert "Apply shop.0001" in dorm_cli(tmp_path, "migrate")
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        con.execute("INSERT INTO shop_product (name, created) VALUES ('kept', now())")
    (app / "models.py").write_text(MODELS_V2)
    # the rename is a question for the autodetector; write the migration by hand instead
    (app / "migrations" / "0002_evolve.py").write_text(
        """
import dorm
from dorm import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(model_name="Product", name="stock", field=dorm.IntegerField(default=0, db_index=True)),
        migrations.RenameField(model_name="Product", old_name="name", new_name="title"),
        migrations.CreateModel(
            name="Review",
            fields=[
                ("id", dorm.BigAutoField(primary_key=True)),
                ("product", dorm.ForeignKey("shop.Product", on_delete=dorm.CASCADE, related_name="reviews")),
                ("stars", dorm.SmallIntegerField(default=5)),
            ],
        ),
    ]
"""
    )
    assert "Apply shop.0002_evolve... OK" in dorm_cli(tmp_path, "migrate")
    assert "No drift" in dorm_cli(tmp_path, "dbcheck")
    assert "Unapply shop.0002_evolve... OK" in dorm_cli(tmp_path, "migrate", "shop", "0001")
    assert rows(tmp_path, "SELECT name FROM shop_product") == [("kept",)]
    assert "Apply shop.0002_evolve... OK" in dorm_cli(tmp_path, "migrate")
    assert "[X] 0002_evolve" in dorm_cli(tmp_path, "showmigrations")
    assert "No drift" in dorm_cli(tmp_path, "dbcheck")
    assert rows(tmp_path, "SELECT title, stock FROM shop_product") == [("kept", 0)]


def rows(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / "db.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()
