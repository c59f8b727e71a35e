"""Live-schema introspection for ``dbcheck`` / ``inspectdb``.  Filled in by the migrations work."""

from __future__ import annotations

from dorm.backends.base.introspection import BaseDatabaseIntrospection


class DatabaseIntrospection(BaseDatabaseIntrospection):
    pass
