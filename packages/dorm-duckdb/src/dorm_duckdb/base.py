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

import threading
import weakref
from typing import Any, ClassVar

import duckdb

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm_duckdb.async_connection import DuckDBAsyncConnection
from dorm_duckdb.connection import ConnectionParams, DuckDBConnection, open_database
from dorm_duckdb.errors import DRIVER_ERRORS, translate_error
from dorm_duckdb.features import DatabaseFeatures
from dorm_duckdb.introspection import DatabaseIntrospection
from dorm_duckdb.operations import DatabaseOperations
from dorm_duckdb.pool import AsyncPool
from dorm_duckdb.schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(BaseDatabaseWrapper):
    """The backend of one DuckDB alias."""

    vendor: ClassVar[str] = "duckdb"
    display_name: ClassVar[str] = "DuckDB"
    features_class = DatabaseFeatures
    operations_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self.params = ConnectionParams.from_settings(alias, settings_dict)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sync_connections: weakref.WeakSet[DuckDBConnection] = weakref.WeakSet()
        self._parent: duckdb.DuckDBPyConnection | None = None
        self.pool = AsyncPool(
            self, int(settings_dict.get("MAX_POOL_SIZE", 10)), float(settings_dict.get("POOL_TIMEOUT", 30.0))
        )

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
            with self._lock:
                self._sync_connections.add(conn)
        return conn

    # -- sync checkout ----------------------------------------------------------

    def acquire(self) -> DuckDBConnection:
        conn: DuckDBConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.open_connection()
        elif conn.in_transaction:
            # Same thread, other context (a transaction belongs to its context): use a spare.
            return self._spare()
        return conn

    def _spare(self) -> DuckDBConnection:
        spares: list[DuckDBConnection] = self._local.__dict__.setdefault("spares", [])
        while spares:
            conn = spares.pop()
            if not conn.closed:
                return conn
        conn = self.open_connection()
        conn.spare = True
        return conn

    def release(self, connection: BaseConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, DuckDBConnection)
        if broken or connection.in_transaction:
            connection.reset()
        if connection.spare and not connection.closed:
            self._local.__dict__.setdefault("spares", []).append(connection)

    # -- async checkout ---------------------------------------------------------

    async def aacquire(self) -> BaseAsyncConnection:
        return await self.pool.acquire()

    async def arelease(self, connection: BaseAsyncConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, DuckDBAsyncConnection)
        await self.pool.release(connection, broken=broken or connection.in_transaction)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Close every thread's connection, the idle async ones, and the database (when nothing is in use)."""
        self.pool.close()
        self._close_sync_connections()

    async def aclose(self) -> None:
        await self.pool.aclose()
        self._close_sync_connections()

    def _close_sync_connections(self) -> None:
        with self._lock:
            conns = list(self._sync_connections)
        busy = False
        for conn in conns:
            if conn.in_transaction:
                busy = True
            else:
                conn.close()
        with self._lock:
            if busy or self.pool.stats()["size"]:
                return  # connections in use keep the database; the next close() finishes
            parent, self._parent = self._parent, None
        if parent is not None:
            try:
                parent.close()
            except DRIVER_ERRORS:
                pass

    def pool_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"status": "ok", "alias": self.alias, "vendor": self.vendor}
        stats.update(self.pool.stats())
        with self._lock:
            conns = list(self._sync_connections)
        stats["thread_connections"] = sum(1 for conn in conns if not conn.closed and not conn.spare)
        return stats

    def server_version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in duckdb.__version__.split(".")[:3] if part.isdigit())
