"""``dorm showmigrations``: every migration with [X] applied / [ ] not applied on an alias."""

from __future__ import annotations

import argparse

from dorm.cli.base import Command, CommandError, load_apps


class ShowMigrationsCommand(Command):
    name = "showmigrations"
    help = "List migrations per app: [X] applied, [ ] not applied, [!] refused (numbering collision)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app", nargs="*", help="only these app labels")
        parser.add_argument("--database", default="default", help="alias to inspect (default: default)")

    def handle(self, args: argparse.Namespace) -> int:
        from dorm.migrations.loader import MigrationLoader
        from dorm.migrations.recorder import MigrationRecorder

        labels = load_apps()
        for app in args.app:
            if app not in labels:
                raise CommandError(
                    f"No installed app with label {app!r}. Installed app labels: {', '.join(labels) or 'none'}."
                )
        loader = MigrationLoader()
        applied = set(MigrationRecorder(args.database).applied_migrations())
        for label in args.app or labels:
            self.write(label)
            migrations = loader.app_migrations(label)
            refused = sorted((n, c) for (a, n), c in loader.refused.items() if a == label)
            if not migrations and not refused:
                self.write(" (no migrations)")
            rows = [(m.name, "[X]" if m.key in applied else "[ ]", "") for m in migrations]
            rows += [(n, "[!]", f"  (refused: number collision with {c.kept})") for n, c in refused]
            for name, mark, note in sorted(rows):
                self.write(f" {mark} {name}{note}")
        return 1 if loader.conflicts else 0
