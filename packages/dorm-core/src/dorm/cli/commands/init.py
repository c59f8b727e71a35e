"""``dorm init``: scaffold ``settings.py`` and an app package in the current directory."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dorm.cli.base import Command, CommandError

SETTINGS = '''"""dorm settings (found automatically when you run from this folder)."""

DATABASES = {{
    "default": {{"ENGINE": "sqlite", "NAME": "{db}"}},
}}

INSTALLED_APPS = ["{app}"]
'''

MODELS = '''"""Models of the {app} app.  After editing: `dorm makemigrations` then `dorm migrate`."""

import dorm


class Item(dorm.Model):
    name = dorm.CharField(max_length=100)
    created = dorm.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
'''


class InitCommand(Command):
    name = "init"
    help = "Create settings.py and an app package (models.py, migrations/) in the current directory."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app", nargs="?", default="app", help="name of the app package to create (default: app)")
        parser.add_argument(
            "--db", default="db.sqlite3", help="SQLite file for the default alias (default: db.sqlite3)"
        )
        parser.add_argument("--directory", default=".", help="where to create the project (default: current directory)")

    def handle(self, args: argparse.Namespace) -> int:
        app = args.app
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", app):
            raise CommandError(f"{app!r} is not a valid Python package name: use letters, digits and underscores.")
        root = Path(args.directory)
        root.mkdir(parents=True, exist_ok=True)
        settings = root / "settings.py"
        package = root / app
        if settings.exists():
            raise CommandError(
                f"{settings} already exists; dorm init never overwrites files. Remove it or run in an empty folder."
            )
        if package.exists():
            raise CommandError(f"{package} already exists; choose another app name (dorm init <name>).")
        settings.write_text(SETTINGS.format(db=args.db, app=app))
        (package / "migrations").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "migrations" / "__init__.py").write_text("")
        (package / "models.py").write_text(MODELS.format(app=app))
        self.write(f"Created {settings}, {package}/models.py and {package}/migrations/.")
        self.write("Next: edit the models, then run `dorm makemigrations` and `dorm migrate`.")
        return 0
