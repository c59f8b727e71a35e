"""``dorm shell``: a Python shell with settings loaded and every installed app's models imported."""

from __future__ import annotations

import argparse
import code
from typing import Any

from dorm.cli.base import Command, load_apps


class ShellCommand(Command):
    name = "shell"
    help = "Start IPython (when installed) or the plain Python shell with dorm and your models loaded."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-c", "--command", help="run this code instead of an interactive shell")
        parser.add_argument(
            "--plain", action="store_true", help="use the plain Python shell even if IPython is installed"
        )

    def handle(self, args: argparse.Namespace) -> int:
        import dorm
        from dorm.models.registry import apps

        load_apps()
        namespace: dict[str, Any] = {"dorm": dorm}
        for model in apps.get_models(include_auto_created=False):
            namespace.setdefault(model.__name__, model)
        if args.command:
            exec(compile(args.command, "<dorm shell -c>", "exec"), namespace)
            return 0
        banner = f"dorm shell; models loaded: {', '.join(sorted(k for k in namespace if k != 'dorm')) or 'none'}"
        if not args.plain:
            try:
                import IPython  # type: ignore[import-not-found]
            except ImportError:
                pass
            else:
                IPython.start_ipython(argv=[], user_ns=namespace)
                return 0
        code.interact(banner=banner, local=namespace)
        return 0
