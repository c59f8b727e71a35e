"""Every migration operation (also exported from :mod:`dorm.migrations`)."""

from dorm.migrations.operations.base import Operation
from dorm.migrations.operations.fields import AddField, AlterField, RemoveField, RenameField
from dorm.migrations.operations.models import (
    AddConstraint,
    AddIndex,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    RemoveConstraint,
    RemoveIndex,
    RenameModel,
)
from dorm.migrations.operations.online import AddFieldOnline, AddIndexConcurrently, BackfillBatch, SetNotNullOnline
from dorm.migrations.operations.special import RunPython, RunSQL, SeparateDatabaseAndState

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
]
