"""The SQLite backend of djanorm (``ENGINE: "sqlite"``), sync and async, on the stdlib ``sqlite3``.

Versions: any SQLite the Python >= 3.11 ``sqlite3`` module links (3.7.15+);
``RETURNING`` is used from 3.35, ``NULLS FIRST/LAST`` from 3.30, and an
in-memory database is shared through the ``memdb`` VFS from 3.36 (older
libraries fall back to a shared-cache URI, whose table locks do not wait
on ``busy_timeout``).

Quirks it covers:

* Connections run in autocommit; ``atomic()`` issues ``BEGIN IMMEDIATE``
  so writers take the write lock first and queue on ``busy_timeout``
  (``OPTIONS["timeout"]``, 5 s by default) instead of failing with
  "database is locked" on a read-to-write upgrade.
* File databases use ``journal_mode=WAL`` (readers never block the
  writer) and ``synchronous=NORMAL``; ``PRAGMA foreign_keys=ON`` always.
* One connection per thread (thread-local, opened lazily); ``:memory:``
  (or an empty ``NAME``) is one database shared by every thread and the
  async path, kept alive by an anchor connection for the wrapper's life.
* Async: each async connection owns one worker thread that runs all its
  driver calls; a small pool (``MAX_POOL_SIZE``, ``POOL_TIMEOUT``) hands
  them out.  Cancelling a task interrupts its statement.
* ``Statement.timeout_ms`` is enforced by a progress handler that
  interrupts the statement (``QueryCanceledError``).
* ``REGEXP`` is a registered Python function; SQLite has no row locks
  (no ``SELECT ... FOR UPDATE``) and no server-side cursors.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import weakref
from typing import Any, ClassVar

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm_sqlite.async_connection import SQLiteAsyncConnection
from dorm_sqlite.connection import ConnectionParams, SQLiteConnection, open_raw_connection
from dorm_sqlite.features import DatabaseFeatures
from dorm_sqlite.introspection import DatabaseIntrospection
from dorm_sqlite.operations import DatabaseOperations
from dorm_sqlite.pool import AsyncPool
from dorm_sqlite.schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]

_tokens = itertools.count(1)


class DatabaseWrapper(BaseDatabaseWrapper):
    """The backend of one SQLite alias."""

    vendor: ClassVar[str] = "sqlite"
    display_name: ClassVar[str] = "SQLite"
    features_class = DatabaseFeatures
    operations_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self.params = ConnectionParams.from_settings(alias, settings_dict, next(_tokens))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sync_connections: weakref.WeakSet[SQLiteConnection] = weakref.WeakSet()
        self._anchor: sqlite3.Connection | None = None
        self._journal_mode_set = False
        self.pool = AsyncPool(
            self, int(settings_dict.get("MAX_POOL_SIZE", 10)), float(settings_dict.get("POOL_TIMEOUT", 30.0))
        )

    # -- opening ----------------------------------------------------------------

    def open_connection(self, track: bool = True) -> SQLiteConnection:
        """Open a prepared connection (called on the thread that will use it).

        ``track`` registers it for :meth:`close`; async connections close through their pool.
        """
        params = self.params
        if params.in_memory or not self._journal_mode_set:
            with self._lock:
                if params.in_memory and self._anchor is None:
                    # Keeps the shared in-memory database alive while threads come and go.
                    self._anchor = open_raw_connection(params)
                if not self._journal_mode_set:
                    # The first connection switches the journal mode while nobody else is connected.
                    raw = open_raw_connection(params, set_journal_mode=True)
                    self._journal_mode_set = True
                else:
                    raw = open_raw_connection(params)
        else:
            raw = open_raw_connection(params)
        conn = SQLiteConnection(self, raw, params.timeout)
        if track:
            with self._lock:  # a WeakSet is not safe to grow while close() iterates it
                self._sync_connections.add(conn)
        return conn

    # -- sync checkout ----------------------------------------------------------

    def acquire(self) -> SQLiteConnection:
        conn: SQLiteConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.open_connection()
        elif conn.in_transaction:
            # Same thread, other context (a transaction belongs to its context): use a spare.
            return self._spare()
        return conn

    def _spare(self) -> SQLiteConnection:
        spares: list[SQLiteConnection] = self._local.__dict__.setdefault("spares", [])
        while spares:
            conn = spares.pop()
            if not conn.closed:
                return conn
        conn = self.open_connection()
        conn.spare = True
        return conn

    def release(self, connection: BaseConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, SQLiteConnection)
        if broken or connection.in_transaction:
            connection.reset()
        if connection.spare and not connection.closed:
            self._local.__dict__.setdefault("spares", []).append(connection)

    # -- async checkout ---------------------------------------------------------

    async def aacquire(self) -> BaseAsyncConnection:
        return await self.pool.acquire()

    async def arelease(self, connection: BaseAsyncConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, SQLiteAsyncConnection)
        await self.pool.release(connection, broken=broken or connection.in_transaction)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Close every thread's connection, the idle async ones, and the in-memory anchor."""
        self.pool.close()
        self._close_sync_connections()

    async def aclose(self) -> None:
        await self.pool.aclose()
        self._close_sync_connections()

    def _close_sync_connections(self) -> None:
        with self._lock:
            conns = list(self._sync_connections)
            anchor, self._anchor = self._anchor, None
            self._journal_mode_set = False
        for conn in conns:
            if not conn.in_transaction:
                conn.close()
        if anchor is not None:
            anchor.close()

    def pool_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"status": "ok", "alias": self.alias, "vendor": self.vendor}
        stats.update(self.pool.stats())
        with self._lock:
            conns = list(self._sync_connections)
        stats["thread_connections"] = sum(1 for conn in conns if not conn.closed and not conn.spare)
        return stats

    def server_version(self) -> tuple[int, ...]:
        return sqlite3.sqlite_version_info
