"""Finds migration files of every installed app and builds the dependency graph.

Apps are the ``INSTALLED_APPS`` entries: importable packages whose
``models`` module defines models and whose ``migrations`` package holds
``NNNN_name.py`` files.  An app's label is the entry's last component.

Two files with the same number in one app are a conflict: the first (by
file name) is loaded, the rest are refused (see :attr:`MigrationLoader.conflicts`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from dorm.migrations.exceptions import MigrationConflictError, MigrationError
from dorm.migrations.graph import MigrationGraph, Node
from dorm.migrations.migration import Migration

__all__ = ["Conflict", "MigrationLoader", "app_label_of", "installed_apps"]

MIGRATION_NAME = re.compile(r"^(\d{4,})_(\w+)$")


def app_label_of(app: str) -> str:
    return app.rpartition(".")[2]


def installed_apps() -> list[str]:
    from dorm.conf import settings

    return [a for a in (settings.get("INSTALLED_APPS", ()) or ()) if isinstance(a, str)]


@dataclass(frozen=True)
class Conflict:
    """``refused`` shares its number with ``kept`` (which applies)."""

    app: str
    number: str
    kept: str
    refused: str
    directory: str

    def message(self) -> str:
        return (
            f"Migration numbering collision in app '{self.app}': {self.kept}.py and {self.refused}.py both use number "
            f"{self.number} (in {self.directory}). {self.kept} applies; {self.refused} is refused. "
            f"Fix: renumber your branch's migrations after merging main -- delete {self.refused}.py and run "
            f"`dorm makemigrations {self.app} --name <suffix>`, which regenerates it with the next available number."
        )


class MigrationLoader:
    """Loads every installed app's migrations (import errors propagate, with the file named)."""

    def __init__(self, apps: list[str] | None = None) -> None:
        self.apps = installed_apps() if apps is None else list(apps)
        self.migrations: dict[Node, Migration] = {}
        self.conflicts: list[Conflict] = []
        self.refused: dict[Node, Conflict] = {}
        self.app_modules: dict[str, str] = {app_label_of(a): a for a in self.apps}
        self.migration_dirs: dict[str, Path] = {}
        self.graph = MigrationGraph()
        self._load()

    # -- discovery --------------------------------------------------------------

    def migrations_module(self, app: str) -> ModuleType | None:
        name = f"{app}.migrations"
        importlib.invalidate_caches()
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name in (name, app) or (exc.name and name.startswith(exc.name + ".")):
                return None
            raise

    def migrations_dir(self, label: str) -> Path:
        """Where ``makemigrations`` writes files for ``label`` (created if needed)."""
        found = self.migration_dirs.get(label)
        if found is not None:
            return found
        app = self.app_modules.get(label)
        if app is None:
            raise MigrationError(
                f"No installed app with label {label!r}. Installed apps: {', '.join(self.app_modules) or 'none'} (INSTALLED_APPS)."
            )
        package = importlib.import_module(app)
        paths = list(getattr(package, "__path__", []) or [])
        if not paths:
            raise MigrationError(f"App {app!r} is a module, not a package: make it a package to hold migrations/.")
        directory = Path(paths[0]) / "migrations"
        directory.mkdir(exist_ok=True)
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
        self.migration_dirs[label] = directory
        return directory

    def _load(self) -> None:
        for app in self.apps:
            label = app_label_of(app)
            module = self.migrations_module(app)
            if module is None:
                continue
            paths = list(getattr(module, "__path__", []) or [])
            if not paths:
                continue
            self.migration_dirs[label] = Path(paths[0])
            names = sorted(
                info.name for info in pkgutil.iter_modules(paths) if not info.ispkg and MIGRATION_NAME.match(info.name)
            )
            seen_numbers: dict[str, str] = {}
            for name in names:
                number = MIGRATION_NAME.match(name).group(1)  # type: ignore[union-attr]
                if number in seen_numbers:
                    conflict = Conflict(label, number, seen_numbers[number], name, str(paths[0]))
                    self.conflicts.append(conflict)
                    self.refused[(label, name)] = conflict
                    continue
                seen_numbers[number] = name
                self.migrations[(label, name)] = self._load_one(app, label, name, paths[0])
        for key, migration in self.migrations.items():
            self.graph.add_node(key, migration)
        # A migration that depends on a refused one is refused too.
        changed = True
        while changed:
            changed = False
            for key, migration in list(self.migrations.items()):
                for dep in migration.dependencies:
                    if dep in self.refused and key not in self.refused:
                        self.refused[key] = self.refused[dep]
                        del self.migrations[key]
                        del self.graph.nodes[key]
                        changed = True
                        break
        for key, migration in self.migrations.items():
            for dep in migration.dependencies:
                dep_key: Node = (dep[0], dep[1])
                if dep_key[0] not in self.app_modules and dep_key not in self.migrations:
                    continue  # an app that is not installed: nothing to wait for
                self.graph.add_dependency(key, dep_key)

    def _load_one(self, app: str, label: str, name: str, directory: str) -> Migration:
        module_name = f"{app}.migrations.{name}"
        sys.modules.pop(module_name, None)
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise MigrationError(
                f"Could not import migration {directory}/{name}.py: {type(exc).__name__}: {exc}"
            ) from exc
        cls = getattr(module, "Migration", None)
        if not isinstance(cls, type) or not issubclass(cls, Migration):
            raise MigrationError(
                f"{directory}/{name}.py has no `class Migration(migrations.Migration)`. Every migration file defines one "
                "(`from dorm import migrations`)."
            )
        return cls(name, label, path=str(Path(directory) / f"{name}.py"))

    # -- queries ---------------------------------------------------------------------

    def app_migrations(self, label: str) -> list[Migration]:
        return [m for (app, _), m in sorted(self.migrations.items()) if app == label]

    def next_number(self, label: str) -> int:
        """The next free number in ``label`` (files on disk count, refused ones included)."""
        numbers = [int(n.split("_", 1)[0]) for (app, n) in [*self.migrations, *self.refused] if app == label]
        directory = self.migration_dirs.get(label)
        if directory is not None and directory.exists():
            for path in directory.glob("*.py"):
                match = MIGRATION_NAME.match(path.stem)
                if match:
                    numbers.append(int(match.group(1)))
        return max(numbers, default=0) + 1

    def get(self, label: str, name: str) -> Migration:
        """A migration by name or unique prefix (``0002``)."""
        if (label, name) in self.migrations:
            return self.migrations[(label, name)]
        matches = [m for (app, n), m in self.migrations.items() if app == label and n.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        for (app, n), conflict in self.refused.items():
            if app == label and n.startswith(name):
                raise MigrationConflictError(conflict.message())
        if not matches:
            known = ", ".join(m.name for m in self.app_migrations(label)) or "none"
            raise MigrationError(f"App {label!r} has no migration {name!r}. Its migrations: {known}.")
        raise MigrationError(
            f"More than one migration in {label!r} starts with {name!r}: {', '.join(m.name for m in matches)}."
        )

    def project_state(self, nodes: list[Node] | None = None) -> ProjectState:
        """The state after applying ``nodes`` (default: every loaded migration) in graph order."""
        from dorm.migrations.state import ProjectState

        state = ProjectState()
        for key in self.graph.full_order(nodes):
            migration = self.migrations[key]
            for op in migration.operations:
                op.state_forwards(key[0], state)
        return state


from dorm.migrations.state import ProjectState  # noqa: E402  (annotation only; avoids an import cycle at load)
