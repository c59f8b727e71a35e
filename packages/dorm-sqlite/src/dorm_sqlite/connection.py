"""Sync connections on the stdlib ``sqlite3`` driver.

Every connection runs in autocommit (``isolation_level=None``): a
statement outside a transaction commits on its own, and :meth:`begin`
issues ``BEGIN IMMEDIATE`` so a writer takes the database lock up front
and concurrent writers wait (``busy_timeout``) instead of failing with
"database is locked" when a deferred reader would have to upgrade.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, FETCH_ONE, Statement
from dorm.backends.threaded import ThreadedConnection
from dorm.exceptions import ImproperlyConfigured
from dorm_sqlite.errors import translate_error
from dorm_sqlite.functions import register_functions

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["ConnectionParams", "SQLiteConnection", "open_raw_connection", "split_script"]

#: Every exception the driver (or binding a bad value) may raise.
DRIVER_ERRORS: Final = (sqlite3.Error, OverflowError)
#: Progress-handler period (SQLite VM instructions) while a statement has a deadline.
_PROGRESS_STEPS: Final = 2000
#: The in-process memory VFS shares a named database between connections with real locking (3.36+).
_HAS_MEMDB: Final = sqlite3.sqlite_version_info >= (3, 36, 0)
_DEFAULT_TIMEOUT: Final = 5.0


@dataclass(frozen=True)
class ConnectionParams:
    """How to open a connection for one alias (computed once from its settings)."""

    database: str
    uri: bool
    in_memory: bool
    timeout: float
    journal_mode: str | None
    pragmas: tuple[tuple[str, str], ...] = field(default=())
    cached_statements: int = 256

    @classmethod
    def from_settings(cls, alias: str, settings: dict[str, Any], token: int) -> ConnectionParams:
        options = dict(settings.get("OPTIONS") or {})
        name = str(settings.get("NAME") or "")
        try:
            timeout = float(options.pop("timeout", _DEFAULT_TIMEOUT))
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"DATABASES[{alias!r}]['OPTIONS']['timeout'] must be a number of seconds."
            ) from None
        pragmas: dict[str, str] = {"foreign_keys": "ON"}
        in_memory = name in ("", ":memory:") or "mode=memory" in name or "vfs=memdb" in name
        if name in ("", ":memory:"):
            # A private name shared by every connection of this alias (threads and async workers).
            tag = quote(f"dorm-{alias}-{os.getpid()}-{token}", safe="-")
            database = f"file:/{tag}?vfs=memdb" if _HAS_MEMDB else f"file:{tag}?mode=memory&cache=shared"
            uri = True
        elif name.startswith("file:"):
            database, uri = name, True
        else:
            database, uri = os.path.abspath(os.path.expanduser(name)), False
        journal_mode = options.pop("journal_mode", None if in_memory else "WAL")
        if journal_mode is not None and str(journal_mode).upper() == "WAL":
            # WAL + NORMAL is safe against application crashes and much faster than FULL.
            pragmas["synchronous"] = "NORMAL"
        if "synchronous" in options:
            pragmas["synchronous"] = str(options.pop("synchronous"))
        for key, value in dict(options.pop("pragmas", None) or {}).items():
            pragmas[str(key)] = str(value)
        cached = int(options.pop("cached_statements", 256))
        if options:
            raise ImproperlyConfigured(
                f"DATABASES[{alias!r}]['OPTIONS'] has unknown keys for SQLite: {sorted(options)}. "
                "Known: timeout, journal_mode, synchronous, pragmas, cached_statements."
            )
        return cls(
            database=database,
            uri=uri,
            in_memory=in_memory,
            timeout=timeout,
            journal_mode=None if journal_mode is None else str(journal_mode),
            pragmas=tuple(pragmas.items()),
            cached_statements=cached,
        )


def open_raw_connection(params: ConnectionParams, *, set_journal_mode: bool = False) -> sqlite3.Connection:
    """Open and prepare one driver connection (autocommit, pragmas, functions)."""
    try:
        raw = sqlite3.connect(
            params.database,
            timeout=params.timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=params.uri,
            cached_statements=params.cached_statements,
        )
    except DRIVER_ERRORS as error:
        raise translate_error(error) from error
    try:
        for name, value in params.pragmas:
            raw.execute(f"PRAGMA {name}={value}")
        if set_journal_mode and params.journal_mode is not None:
            raw.execute(f"PRAGMA journal_mode={params.journal_mode}").fetchall()
        register_functions(raw)
    except DRIVER_ERRORS as error:
        raw.close()
        raise translate_error(error) from error
    return raw


def split_script(sql: str) -> list[str]:
    """Split a script into complete statements (``;`` inside strings and triggers respected)."""
    statements: list[str] = []
    buffer = ""
    for piece in sql.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip().strip(";").strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip().strip(";").strip():
        statements.append(buffer.strip())
    return statements


class SQLiteConnection(ThreadedConnection):
    """One ``sqlite3`` connection, used by one thread at a time."""

    driver_errors = sqlite3.Error

    def __init__(self, wrapper: BaseDatabaseWrapper, raw: sqlite3.Connection, busy_timeout: float) -> None:
        super().__init__(wrapper, raw)
        self._cursor = raw.cursor()
        self._busy_timeout = busy_timeout

    # -- statements -------------------------------------------------------------

    def execute(self, statement: Statement) -> None:
        if statement.timeout_ms is not None:
            self._execute_with_deadline(statement, statement.timeout_ms)
            return
        try:
            self._execute(statement)
        except DRIVER_ERRORS as error:
            raise translate_error(error, statement.sql, busy_timeout=self._busy_timeout) from error

    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self._cursor
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()  # drained: no read snapshot outlives the call
        except DRIVER_ERRORS as error:
            raise translate_error(error, sql, busy_timeout=self._busy_timeout) from error

    def _execute(self, statement: Statement) -> None:
        params = statement.params
        if params is None:
            params = ()
        fetch = statement.fetch
        if statement.many:
            cursor = self._cursor
            cursor.executemany(statement.sql, params)
            statement.rowcount = cursor.rowcount
            statement.lastrowid = cursor.lastrowid
            if fetch != FETCH_NONE:
                statement.rows = []
        elif fetch == FETCH_ONE:
            # A private cursor: closing it finishes the statement, so no read
            # snapshot or write lock outlives the call.
            cursor = self.raw.cursor()
            try:
                cursor.execute(statement.sql, params)
                row = cursor.fetchone()
                statement.rows = [] if row is None else [row]
                statement.rowcount = cursor.rowcount
                statement.lastrowid = cursor.lastrowid
            finally:
                cursor.close()
        else:
            cursor = self._cursor
            cursor.execute(statement.sql, params)
            # Always drain: a half-read statement would keep its transaction open.
            rows = cursor.fetchall()
            if fetch == FETCH_ALL:
                statement.rows = rows
            statement.rowcount = cursor.rowcount
            statement.lastrowid = cursor.lastrowid

    def _execute_with_deadline(self, statement: Statement, timeout_ms: int) -> None:
        deadline = perf_counter() + timeout_ms / 1000.0

        def past_deadline() -> int:
            return 1 if perf_counter() > deadline else 0

        self.raw.set_progress_handler(past_deadline, _PROGRESS_STEPS)
        try:
            self._execute(statement)
        except DRIVER_ERRORS as error:
            expired = perf_counter() > deadline
            raise translate_error(
                error, statement.sql, timeout_ms=timeout_ms if expired else None, busy_timeout=self._busy_timeout
            ) from error
        finally:
            self.raw.set_progress_handler(None, 0)

    def execute_script(self, sql: str) -> None:
        try:
            if self.raw.in_transaction:
                # executescript() would COMMIT the open transaction first.
                for part in split_script(sql):
                    self._cursor.execute(part)
            else:
                self.raw.executescript(sql)
        except DRIVER_ERRORS as error:
            raise translate_error(error, sql, busy_timeout=self._busy_timeout) from error

    def iterate(self, statement: Statement, chunk_size: int) -> Iterator[list[tuple[Any, ...]]]:
        cursor = self.raw.cursor()
        try:
            try:
                cursor.execute(statement.sql, statement.params or ())
                while True:
                    chunk = cursor.fetchmany(chunk_size)
                    if not chunk:
                        return
                    yield chunk
            except DRIVER_ERRORS as error:
                raise translate_error(error, statement.sql, busy_timeout=self._busy_timeout) from error
        finally:
            cursor.close()

    def _simple(self, sql: str) -> None:
        try:
            self._cursor.execute(sql)
        except DRIVER_ERRORS as error:
            raise translate_error(error, sql, busy_timeout=self._busy_timeout) from error

    # -- transactions -----------------------------------------------------------

    def begin(self) -> None:
        self._simple("BEGIN IMMEDIATE")
        self.in_transaction = True

    def commit(self) -> None:
        if self.raw.in_transaction:
            self._simple("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        # An interrupted write may already have rolled the whole transaction back.
        self.in_transaction = False
        if self.raw.in_transaction:
            self._simple("ROLLBACK")

    def savepoint(self, name: str) -> None:
        self._simple(f"SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def release_savepoint(self, name: str) -> None:
        self._simple(f"RELEASE SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def rollback_to_savepoint(self, name: str) -> None:
        self._simple(f"ROLLBACK TO SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def reset(self) -> None:
        """Make the connection clean for the next user: no transaction left open."""
        if self.closed:
            return
        self.in_transaction = False
        if self.raw.in_transaction:
            try:
                self._cursor.execute("ROLLBACK")
            except sqlite3.Error:
                self.close()

    # -- lifecycle --------------------------------------------------------------

    def __del__(self) -> None:
        # A thread that ends drops its thread-local connection: close the driver's too.
        if not getattr(self, "closed", True):
            self.close()
