"""The ``dorm`` command line (argparse only).

``main(argv)`` builds one sub-parser per command (built-in ones and those
plugins contribute through the ``dorm_cli_commands`` hook), applies
``--settings``, runs the command and turns dorm errors into a clean message
on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from dorm.cli.base import Command, CommandError, setup_settings

__all__ = ["Command", "CommandError", "builtin_commands", "main"]

DISTRIBUTIONS = (
    "djanorm",
    "dorm-core",
    "dorm-sqlite",
    "dorm-postgres",
    "dorm-duckdb",
    "dorm-tenancy",
    "dorm-resilience",
    "pytest-djanorm",
    "djanorm-mypy",
)


def builtin_commands() -> list[Command]:
    from dorm.cli.commands import ALL

    return [cls() for cls in ALL]


def version_text() -> str:
    """Every installed djanorm distribution with its version."""
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for dist in DISTRIBUTIONS:
        try:
            lines.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="print every installed djanorm distribution and its version",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(version_text())
        parser.exit(0)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings", metavar="MODULE", help="settings module (sets DORM_SETTINGS_MODULE), e.g. myproject.settings"
    )
    common.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=(0, 1, 2, 3),
        default=1,
        help="0 quiet, 1 normal, 2 verbose (SQL), 3 debug with tracebacks",
    )
    common.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    return common


def build_parser(commands: list[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dorm", description="djanorm command line: migrations, schema checks, shells."
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(  # `dorm --settings=x migrate` as well as `dorm migrate --settings=x`
        "--settings",
        dest="global_settings",
        metavar="MODULE",
        help="settings module for the command (see <command> -h)",
    )
    common = _common()
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for command in commands:
        sp = sub.add_parser(command.name, help=command.help, description=command.help, parents=[common])
        command.add_arguments(sp)
        sp.set_defaults(_command=command)
    return parser


def _plugin_commands(builtin: list[Command]) -> list[Command]:
    from dorm.plugins import kernel

    names = {c.name for c in builtin}
    extra: list[Command] = []
    for command in kernel.cli_commands():
        if command.name in names:
            raise CommandError(
                f"A plugin contributes a command named {command.name!r}, which clashes with a built-in command. Rename the plugin's command."
            )
        names.add(command.name)
        extra.append(command)
    return extra


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dorm`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = builtin_commands()
    try:
        commands += _plugin_commands(commands)
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the CLI down
        print(f"warning: plugin commands unavailable: {exc}", file=sys.stderr)
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        parser.print_help()
        return 2
    verbosity = int(getattr(args, "verbosity", 1))
    _configure_logging(verbosity)
    try:
        setup_settings(getattr(args, "settings", None) or getattr(args, "global_settings", None))
        return int(command.handle(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        from dorm.exceptions import DormError

        if getattr(args, "traceback", False) or verbosity >= 3:
            traceback.print_exc()
        if isinstance(exc, CommandError):  # a usage error of the command itself: the message says it all
            print(f"Error: {exc}", file=sys.stderr)
        elif isinstance(exc, DormError):  # named like the traceback line users search for
            print(f"Error: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:  # not one of ours: name the type, and say how to see where it came from
            print(f"Error: {type(exc).__name__}: {exc} (run again with --traceback to see where)", file=sys.stderr)
        return 1
    finally:
        try:
            from dorm.db.connections import close_all

            close_all()
        except Exception:  # noqa: BLE001
            pass


def _configure_logging(verbosity: int) -> None:
    logger = logging.getLogger("dorm.migrations")
    if not any(getattr(h, "_dorm_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._dorm_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
    logger.propagate = False
    if verbosity >= 2:
        db = logging.getLogger("dorm.db")
        db.setLevel(logging.DEBUG)
        if not db.handlers:
            db.addHandler(logging.StreamHandler(sys.stderr))
