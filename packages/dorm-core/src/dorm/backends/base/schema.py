"""The schema editor: DDL for migrations, generated through the backend.

Each backend subclasses :class:`BaseDatabaseSchemaEditor` and overrides only
what differs (SQLite rebuilds tables where it cannot ALTER; PostgreSQL adds
online operations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseConnection

__all__ = ["BaseDatabaseSchemaEditor"]


class BaseDatabaseSchemaEditor:
    """Builds and runs DDL.  With ``collect_sql=True`` statements are only collected
    (``sqlmigrate``, ``--plan``) in :attr:`collected_sql`."""

    def __init__(self, wrapper: BaseDatabaseWrapper, connection: BaseConnection | None, *, collect_sql: bool = False) -> None:
        self.wrapper = wrapper
        self.connection = connection
        self.collect_sql = collect_sql
        self.collected_sql: list[str] = []
        self.quote_name = wrapper.ops.quote_name

    def execute(self, sql: str, params: Any = None) -> None:
        """Run (or collect) one DDL statement."""
        if self.collect_sql or self.connection is None:
            self.collected_sql.append(sql + ";")
            return
        from dorm.backends.base.statement import FETCH_NONE, Statement
        from dorm.db.executor import run_on

        run_on(self.connection, Statement(self.wrapper.alias, sql, params, fetch=FETCH_NONE))
