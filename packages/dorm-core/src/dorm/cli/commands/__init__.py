"""Built-in ``dorm`` commands, one module each."""

from dorm.cli.commands.dbcheck import DbCheckCommand
from dorm.cli.commands.dbshell import DbShellCommand
from dorm.cli.commands.init import InitCommand
from dorm.cli.commands.inspectdb import InspectDbCommand
from dorm.cli.commands.makemigrations import MakeMigrationsCommand
from dorm.cli.commands.migrate import MigrateCommand
from dorm.cli.commands.shell import ShellCommand
from dorm.cli.commands.showmigrations import ShowMigrationsCommand
from dorm.cli.commands.sqlmigrate import SqlMigrateCommand

ALL = (
    InitCommand,
    MakeMigrationsCommand,
    MigrateCommand,
    ShowMigrationsCommand,
    SqlMigrateCommand,
    DbCheckCommand,
    ShellCommand,
    DbShellCommand,
    InspectDbCommand,
)

__all__ = ["ALL"]
