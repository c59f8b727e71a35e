"""``dorm migrate``: apply or roll back migrations on one alias."""

from __future__ import annotations

import argparse

from dorm.cli.base import Command, load_apps


class MigrateCommand(Command):
    name = "migrate"
    help = "Apply migrations (or roll back to a target, or to zero) on one database alias."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app", nargs="?", help="app label (default: every app)")
        parser.add_argument("target", nargs="?", help="migration name or number prefix to migrate to, or 'zero'")
        parser.add_argument("--database", default="default", help="alias to migrate (default: default)")
        parser.add_argument(
            "--fake", action="store_true", help="record the migrations as applied/unapplied without running them"
        )
        parser.add_argument(
            "--plan", action="store_true", help="show the steps (and with -v 2 their SQL) without running them"
        )

    def handle(self, args: argparse.Namespace) -> int:
        from dorm.migrations.executor import MigrationExecutor

        labels = load_apps()
        executor = MigrationExecutor(args.database, progress=self.write)
        plan = executor.plan(args.app, args.target)
        if args.plan:
            executor.check_reversible(plan)
            self.write(f"Planned operations on '{args.database}':")
            if not plan:
                self.write("  No planned migration operations.")
            for step in plan:
                self.write(
                    f"{step.migration.app_label}.{step.migration.name}{' (backwards)' if step.backwards else ''}"
                )
                for op in step.migration.operations if not step.backwards else reversed(step.migration.operations):
                    self.write(f"    {'Undo ' if step.backwards else ''}{op.describe()}")
            if self.verbosity(args) >= 2 and plan:
                for line in executor.collect_sql(plan):
                    self.write(line)
            executor.raise_conflicts()
            return 0
        self.write(f"Running migrations on '{args.database}':")
        if not plan:
            self.write("  No migrations to apply.")
        executor.migrate(plan, fake=args.fake)
        from dorm.cli.commands.makemigrations import pending_changes

        pending = pending_changes(labels)
        if pending:
            self.write(
                f"  Your models in app(s) {', '.join(sorted(pending))} have changes that are not yet reflected in a migration: "
                "run `dorm makemigrations`, then `dorm migrate` again."
            )
        return 0
