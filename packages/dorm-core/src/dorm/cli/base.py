"""The command protocol: built-in commands and plugin commands (``dorm_cli_commands``) alike."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from dorm.exceptions import DormError

__all__ = ["Command", "CommandError", "load_apps", "setup_settings"]


class CommandError(DormError):
    """A command failed for a reason the user can fix; printed without a traceback."""


class Command:
    """One ``dorm <name>`` sub-command.

    Subclasses set :attr:`name` and :attr:`help`, add their options in
    :meth:`add_arguments` and do the work in :meth:`handle`, returning the
    exit status.  ``--settings`` and ``-v`` are added by the CLI.
    """

    name: str = ""
    help: str = ""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments to its sub-parser."""

    def handle(self, args: argparse.Namespace) -> int:
        """Do the work; return the process exit status."""
        raise NotImplementedError

    def write(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def verbosity(self, args: Any) -> int:
        return int(getattr(args, "verbosity", 1) or 0)


def setup_settings(settings_module: str | None) -> None:
    """``--settings=module``: set ``DORM_SETTINGS_MODULE`` and make the working directory importable."""
    import os

    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if settings_module:
        os.environ["DORM_SETTINGS_MODULE"] = settings_module
        from dorm.conf import settings

        if settings.configured and settings.source != settings_module:
            settings.reset()


def load_apps() -> list[str]:
    """Import each installed app's ``models`` module so its models are registered; returns the app labels."""
    import importlib

    from dorm.conf import settings
    from dorm.migrations.loader import app_label_of, installed_apps

    settings.INSTALLED_APPS  # noqa: B018 - triggers discovery (a clean error when there are no settings)
    labels: list[str] = []
    for app in installed_apps():
        try:
            importlib.import_module(app)
        except ImportError as exc:
            raise CommandError(
                f"INSTALLED_APPS entry {app!r} cannot be imported: {exc}. Run dorm from the project root (the folder that holds the app package) or fix the entry."
            ) from exc
        try:
            importlib.import_module(f"{app}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.models":
                raise
        labels.append(app_label_of(app))
    return labels
