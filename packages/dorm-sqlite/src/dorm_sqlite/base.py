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
from typing import Any, ClassVar

from dorm.backends.threaded import ThreadedDatabaseWrapper
from dorm_sqlite.async_connection import SQLiteAsyncConnection
from dorm_sqlite.connection import ConnectionParams, SQLiteConnection, open_raw_connection
from dorm_sqlite.features import DatabaseFeatures
from dorm_sqlite.introspection import DatabaseIntrospection
from dorm_sqlite.operations import DatabaseOperations
from dorm_sqlite.schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]

_tokens = itertools.count(1)


class DatabaseWrapper(ThreadedDatabaseWrapper):
    """The backend of one SQLite alias."""

    vendor: ClassVar[str] = "sqlite"
    display_name: ClassVar[str] = "SQLite"
    features_class = DatabaseFeatures
    operations_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor
    async_connection_class = SQLiteAsyncConnection

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self.params = ConnectionParams.from_settings(alias, settings_dict, next(_tokens))
        self._anchor: sqlite3.Connection | None = None
        self._journal_mode_set = False

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
            self.track(conn)
        return conn

    def close_resources(self) -> bool:
        """Close the thread connections, then the in-memory anchor."""
        busy = super().close_resources()
        with self._lock:
            anchor, self._anchor = self._anchor, None
            self._journal_mode_set = False
        if anchor is not None:
            anchor.close()
        return busy

    def server_version(self) -> tuple[int, ...]:
        return sqlite3.sqlite_version_info
