"""The DuckDB backend of djanorm (``ENGINE: "duckdb"``), sync and async, on the ``duckdb`` driver.

Quirks it covers:

* One database instance per alias: the parent connection, opened at first
  use and kept until :meth:`close`.  Every thread gets its own connection
  made with ``parent.cursor()`` (its own transaction, same database), so
  ``:memory:`` is one database shared by every thread and the async path.
* Autocommit outside transactions; ``atomic()`` issues ``BEGIN TRANSACTION``.
* No SAVEPOINT: ``features.supports_savepoints`` is False, so nested
  ``atomic()`` blocks are no-op boundaries and an error escaping one makes
  the outermost block roll back everything.
* Async: each async connection owns one worker thread that runs all its
  driver calls (duckdb has no async API); a small pool (``MAX_POOL_SIZE``,
  ``POOL_TIMEOUT``) hands them out and raises ``PoolTimeout`` when exhausted.
* ``Statement.timeout_ms`` is enforced by a timer that calls
  ``interrupt()`` (``QueryCanceledError``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from dorm.backends.threaded import ThreadedDatabaseWrapper
from dorm_duckdb.async_connection import DuckDBAsyncConnection
from dorm_duckdb.connection import ConnectionParams, DuckDBConnection, open_database
from dorm_duckdb.errors import DRIVER_ERRORS, translate_error
from dorm_duckdb.features import DatabaseFeatures
from dorm_duckdb.introspection import DatabaseIntrospection
from dorm_duckdb.operations import DatabaseOperations
from dorm_duckdb.schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(ThreadedDatabaseWrapper):
    """The backend of one DuckDB alias."""

    vendor: ClassVar[str] = "duckdb"
    display_name: ClassVar[str] = "DuckDB"
    features_class = DatabaseFeatures
    operations_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor
    async_connection_class = DuckDBAsyncConnection

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self.params = ConnectionParams.from_settings(alias, settings_dict)
        self._parent: duckdb.DuckDBPyConnection | None = None

    # -- opening ----------------------------------------------------------------

    def open_connection(self, track: bool = True) -> DuckDBConnection:
        """A new connection to the alias's database (a cursor of the parent connection).

        ``track`` registers it for :meth:`close`; async connections close through their pool.
        """
        with self._lock:
            if self._parent is None:
                self._parent = open_database(self.params)
            try:
                raw = self._parent.cursor()
            except DRIVER_ERRORS as error:
                raise translate_error(error) from error
        conn = DuckDBConnection(self, raw, self.params.timezone)
        if track:
            self.track(conn)
        return conn

    def close_resources(self) -> bool:
        """Close the thread connections, then the database when nothing is in use."""
        busy = super().close_resources()
        with self._lock:
            if busy or self.pool.stats()["size"]:
                return busy  # connections in use keep the database; the next close() finishes
            parent, self._parent = self._parent, None
        if parent is not None:
            try:
                parent.close()
            except DRIVER_ERRORS:
                pass
        return busy

    def server_version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in duckdb.__version__.split(".")[:3] if part.isdigit())
