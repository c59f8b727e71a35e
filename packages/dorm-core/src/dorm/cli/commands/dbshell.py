"""``dorm dbshell``: the database's own command-line client for an alias."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

from dorm.cli.base import Command, CommandError


def client_command(settings: dict[str, object], vendor: str) -> tuple[list[str], dict[str, str]]:
    """The client argv and extra environment for an alias."""
    env: dict[str, str] = {}
    name = str(settings.get("NAME") or "")
    if vendor == "sqlite":
        return ["sqlite3", name], env
    if vendor in ("postgresql", "postgres"):
        argv = ["psql"]
        for key, flag in (("HOST", "-h"), ("PORT", "-p"), ("USER", "-U")):
            value = settings.get(key)
            if value:
                argv += [flag, str(value)]
        if settings.get("PASSWORD"):
            env["PGPASSWORD"] = str(settings["PASSWORD"])
        argv.append(name)
        return argv, env
    if vendor == "duckdb":
        return ["duckdb", name], env
    raise CommandError(f"dbshell does not know the command-line client of the {vendor!r} backend.")


class DbShellCommand(Command):
    name = "dbshell"
    help = "Open the database client (sqlite3, psql, duckdb) connected to an alias."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="alias to connect to (default: default)")
        parser.add_argument(
            "--print", dest="print_only", action="store_true", help="print the client command instead of running it"
        )

    def handle(self, args: argparse.Namespace) -> int:
        from dorm.db.connections import connections

        wrapper = connections[args.database]
        argv, env = client_command(wrapper.settings_dict, wrapper.vendor)
        if args.print_only:
            self.write(" ".join(argv))
            return 0
        if shutil.which(argv[0]) is None:
            raise CommandError(
                f"The {argv[0]!r} client is not installed or not on PATH; install it to use dbshell with the {wrapper.vendor} backend."
            )
        return subprocess.call(argv, env={**os.environ, **env})
