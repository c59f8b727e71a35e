"""Migrations: ``from dorm import migrations`` in every migration file.

``migrations.Migration`` is the base class; every operation (the online ones
included) is importable from here: ``migrations.CreateModel``,
``migrations.RunPython``, ``migrations.AddFieldOnline``, ...

The engine lives in submodules: :mod:`.state` (project state),
:mod:`.autodetector`, :mod:`.writer`, :mod:`.loader` / :mod:`.graph`,
:mod:`.recorder`, :mod:`.executor`.
"""

from dorm.migrations.api import create_tables, migrate
from dorm.migrations.exceptions import (
    InconsistentMigrationHistory,
    IrreversibleError,
    MigrationConflictError,
    MigrationError,
)
from dorm.migrations.migration import Migration
from dorm.migrations.operations import (
    AddConstraint,
    AddField,
    AddFieldOnline,
    AddIndex,
    AddIndexConcurrently,
    AlterField,
    AlterUniqueTogether,
    BackfillBatch,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameModel,
    RunPython,
    RunSQL,
    SeparateDatabaseAndState,
    SetNotNullOnline,
)

__all__ = [
    "AddConstraint",
    "AddField",
    "AddFieldOnline",
    "AddIndex",
    "AddIndexConcurrently",
    "AlterField",
    "AlterUniqueTogether",
    "BackfillBatch",
    "CreateModel",
    "DeleteModel",
    "InconsistentMigrationHistory",
    "IrreversibleError",
    "Migration",
    "MigrationConflictError",
    "MigrationError",
    "Operation",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RenameField",
    "RenameModel",
    "RunPython",
    "RunSQL",
    "SeparateDatabaseAndState",
    "SetNotNullOnline",
    "create_tables",
    "migrate",
]
