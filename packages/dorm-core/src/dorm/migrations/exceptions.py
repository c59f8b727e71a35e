"""Errors of the migration engine; each says what happened, why, and the fix.

``IrreversibleError`` and ``MigrationConflictError`` are the kernel's classes
(``dorm.exceptions``), re-exported here.
"""

from __future__ import annotations

from dorm.exceptions import DormError, IrreversibleError, MigrationConflictError

__all__ = ["InconsistentMigrationHistory", "IrreversibleError", "MigrationConflictError", "MigrationError"]


class MigrationError(DormError):
    """A migration file, dependency or target is wrong."""


class InconsistentMigrationHistory(MigrationError):
    """A migration is applied but one it depends on is not."""
