"""Schema editor for this backend (DDL for migrations).  Filled in by the migrations work."""

from __future__ import annotations

from dorm.backends.base.schema import BaseDatabaseSchemaEditor


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    pass
