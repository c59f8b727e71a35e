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
    conn.execute_script(
        "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, born INTEGER);"
    )
    for name, born in [("Ada Lovelace", 1815), ("Grace Hopper", 1906), ("Alan Turing", 1912)]:
        conn.execute("INSERT INTO author (name, born) VALUES (%s, %s)", [name, born])
    rows = conn.execute("SELECT name, born FROM author WHERE born > %s ORDER BY born", [1900])
    print(f"authors born after 1900: {rows}")
    try:
        conn.execute("INSERT INTO author (name, born) VALUES (%s, %s)", ["Ada Lovelace", 1815])
    except dorm.IntegrityError as exc:
        print(f"duplicate name refused: dorm.IntegrityError: {exc}")


STEPS: list[Callable[[], None]] = [raw_sql]


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
