"""``dorm sqlmigrate app name``: print the SQL a migration runs, without running it."""

from __future__ import annotations

import argparse

from dorm.cli.base import Command, load_apps


class SqlMigrateCommand(Command):
    name = "sqlmigrate"
    help = "Print the SQL statements of one migration for an alias's backend."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app", help="app label")
        parser.add_argument("name", help="migration name or number prefix")
        parser.add_argument("--database", default="default", help="alias whose backend writes the SQL")
        parser.add_argument("--backwards", action="store_true", help="the SQL that rolls it back")

    def handle(self, args: argparse.Namespace) -> int:
        from dorm.migrations.executor import MigrationExecutor, PlanStep

        load_apps()
        executor = MigrationExecutor(args.database)
        migration = executor.loader.get(args.app, args.name)
        for line in executor.collect_sql([PlanStep(migration, args.backwards)]):
            self.write(line)
        return 0
