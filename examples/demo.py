"""djanorm demo on SQLite: configuration and raw SQL.

Run it from anywhere after installing djanorm from the checkout::

    python examples/demo.py

Each step is one small function so later parts of the project (models,
migrations, queries) can add their own step to ``STEPS``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import dorm


def configure(db_path: str) -> None:
    """Settings in code; DORM_SETTINGS_MODULE or a settings.py in the working directory work too."""
    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": db_path}})
    default = dorm.settings.DATABASES["default"]
    print(f"configured alias 'default': ENGINE={default['ENGINE']!r} NAME={default['NAME']!r}")


def raw_sql() -> None:
    """Raw SQL through dorm.get_connection(): %s placeholders, values always passed as parameters."""
    conn = dorm.get_connection()
    conn.execute_script("CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, born INTEGER);")
    for name, born in [("Ada Lovelace", 1815), ("Grace Hopper", 1906), ("Alan Turing", 1912)]:
        conn.execute("INSERT INTO author (name, born) VALUES (%s, %s)", [name, born])
    rows = conn.execute("SELECT name, born FROM author WHERE born > %s ORDER BY born", [1900])
    print(f"authors born after 1900: {rows}")
    try:
        conn.execute("INSERT INTO author (name, born) VALUES (%s, %s)", ["Ada Lovelace", 1815])
    except dorm.IntegrityError as exc:
        print(f"duplicate name refused: dorm.IntegrityError: {exc}")


SHOP_MODELS = """
import dorm


class Book(dorm.Model):
    title = dorm.CharField(max_length=100)
    year = dorm.IntegerField()
"""


def migrations_and_queries() -> None:
    """An app package, `dorm makemigrations` + `dorm migrate` (the CLI's main()), then a few queries."""
    import sys

    from dorm.cli import main as dorm_cli

    root = os.path.dirname(dorm.settings.DATABASES["default"]["NAME"])
    os.makedirs(os.path.join(root, "shop", "migrations"))
    for name, text in [("__init__.py", ""), ("migrations/__init__.py", ""), ("models.py", SHOP_MODELS)]:
        with open(os.path.join(root, "shop", name), "w") as fh:
            fh.write(text)
    sys.path.insert(0, root)
    dorm.configure(DATABASES=dict(dorm.settings.DATABASES), INSTALLED_APPS=["shop"])
    dorm_cli(["makemigrations"])  # writes shop/migrations/0001_initial.py
    dorm_cli(["migrate"])
    from shop.models import Book  # type: ignore[import-not-found]

    Book.objects.create(title="Dune", year=1965)
    Book.objects.create(title="Neuromancer", year=1984)
    print(f"books after 1970: {list(Book.objects.filter(year__gt=1970).values_list('title', flat=True))}")
    print(f"book count: {Book.objects.count()}")


STEPS: list[Callable[[], None]] = [raw_sql, migrations_and_queries]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="djanorm-demo-") as tmp:
        configure(os.path.join(tmp, "demo.sqlite3"))
        try:
            for step in STEPS:
                step()
        finally:
            dorm.close_all()
    print("demo finished")


if __name__ == "__main__":
    main()
