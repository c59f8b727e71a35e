"""``dorm makemigrations``: write migration files for model changes."""

from __future__ import annotations

import argparse
import re
from typing import Any

from dorm.cli.base import Command, CommandError, load_apps


class MakeMigrationsCommand(Command):
    name = "makemigrations"
    help = "Create new migrations from changes to your models (always with the next free number)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app", nargs="*", help="only these app labels")
        parser.add_argument("--name", "-n", help="suffix of the file name (NNNN_<name>.py)")
        parser.add_argument("--empty", action="store_true", help="write an empty migration (for RunSQL / RunPython)")
        parser.add_argument(
            "--check", action="store_true", help="exit 1 if there are model changes without a migration; write nothing"
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would be written; write nothing")

    def handle(self, args: argparse.Namespace) -> int:
        from dorm.migrations.autodetector import MigrationAutodetector, suggest_name
        from dorm.migrations.loader import MigrationLoader
        from dorm.migrations.state import ProjectState
        from dorm.migrations.writer import MigrationWriter
        from dorm.models.registry import apps as registry

        labels = load_apps()
        if args.name and not re.fullmatch(r"\w+", args.name):
            raise CommandError(
                f"--name {args.name!r} must be a valid Python identifier suffix (letters, digits, underscores)."
            )
        for app in args.app:
            if app not in labels:
                raise CommandError(
                    f"No installed app with label {app!r}. Installed app labels: {', '.join(labels) or 'none'} (INSTALLED_APPS)."
                )
        loader = MigrationLoader()
        wanted = list(args.app) or labels
        models = [m for m in registry.get_models(include_auto_created=False) if m._meta.app_label in labels]
        detector = MigrationAutodetector(loader.project_state(), ProjectState.from_models(models))
        changes = detector.changes(wanted)
        if args.empty:
            if not args.app:
                raise CommandError("--empty needs an app label: dorm makemigrations <app> --empty")
            changes = {app: [] for app in args.app}
        for conflict in loader.conflicts:
            if conflict.app in wanted:
                print(
                    f"note: {conflict.refused}.py in app '{conflict.app}' is refused (numbering collision with "
                    f"{conflict.kept}.py), so its operations are not counted here; once the model changes are in a "
                    f"migration with a free number, delete {conflict.refused}.py.",
                    file=self.stderr,
                )
        if not changes:
            self.write("No changes detected" + (f" in app '{wanted[0]}'" if len(wanted) == 1 else ""))
            return 0
        names: dict[str, str] = {}
        for app, ops in changes.items():
            number = loader.next_number(app)
            initial = not loader.app_migrations(app) and not any(a == app for a, _ in loader.refused)
            names[app] = f"{number:04d}_{args.name or suggest_name(ops, initial and bool(ops))}"
        for app, ops in changes.items():
            deps: list[tuple[str, str]] = [leaf for leaf in loader.graph.leaf_nodes(app)]
            for other, _model in sorted(detector.dependencies.get(app, ())):
                if other in names:
                    dep = (other, names[other])
                else:
                    leaves = loader.graph.leaf_nodes(other)
                    if not leaves:
                        continue
                    dep = leaves[-1]
                if dep not in deps:
                    deps.append(dep)
            initial = not loader.app_migrations(app)
            writer = MigrationWriter(app, names[app], ops, deps, initial=initial and bool(ops))
            self.write(f"Migrations for '{app}':")
            if args.check or args.dry_run:
                self.write(f"  {writer.filename}")
            else:
                path = loader.migrations_dir(app) / writer.filename
                path.write_text(writer.as_string())
                self.write(f"  {path}")
            for op in ops:
                self.write(f"    - {op.describe()}")
                warning = _not_null_warning(op)
                if warning:
                    self.write(f"      warning: {warning}")
            if args.dry_run and self.verbosity(args) >= 2:
                self.write(writer.as_string())
        if args.check:
            self.write("Model changes are not covered by migrations: run `dorm makemigrations`.")
            return 1
        return 0


def _not_null_warning(op: object) -> str | None:
    """Adding a NOT NULL column without any default fails on a table that has rows."""
    from dorm.migrations.operations.fields import AddField

    if type(op) is not AddField:
        return None
    field = op.field
    if field.null or getattr(field, "many_to_many", False) or field.has_default() or field.has_db_default():
        return None
    if getattr(field, "empty_strings_allowed", False):
        return None  # existing rows get ''
    return (
        f"{op.model_name}.{op.name} is NOT NULL without a default: `dorm migrate` fails if the table has rows. "
        "Give it a default=, make it null=True, or use AddFieldOnline + BackfillBatch + SetNotNullOnline (docs/online-migrations.md)."
    )


def pending_changes(labels: list[str]) -> dict[str, list[Any]]:
    """Model changes of ``labels`` not yet covered by migration files."""
    from dorm.migrations.autodetector import MigrationAutodetector
    from dorm.migrations.loader import MigrationLoader
    from dorm.migrations.state import ProjectState
    from dorm.models.registry import apps as registry

    loader = MigrationLoader()
    models = [m for m in registry.get_models(include_auto_created=False) if m._meta.app_label in labels]
    return MigrationAutodetector(loader.project_state(), ProjectState.from_models(models)).changes(labels)
