"""Sync connections on the ``duckdb`` driver.

DuckDB runs in the process: one *database instance* per alias (the parent
connection, opened once and kept for the wrapper's life), and one
connection per user made with ``parent.cursor()``.  Such connections share
the database (also ``:memory:``) but each has its own transaction.

A connection runs in autocommit (DuckDB's default): :meth:`begin` issues
``BEGIN TRANSACTION``.  DuckDB has no ``SAVEPOINT``; the core never asks
for one because ``features.supports_savepoints`` is False.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import duckdb

from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, FETCH_ONE, Statement
from dorm.backends.threaded import ThreadedConnection
from dorm.exceptions import ImproperlyConfigured
from dorm_duckdb.errors import DRIVER_ERRORS, translate_error

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["ConnectionParams", "DuckDBConnection", "open_database"]

_KNOWN_OPTIONS: Final = ("config", "read_only", "timezone")


@dataclass(frozen=True)
class ConnectionParams:
    """How to open the database of one alias (computed once from its settings)."""

    database: str
    in_memory: bool
    read_only: bool = False
    timezone: str = "UTC"
    config: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def from_settings(cls, alias: str, settings: dict[str, Any]) -> ConnectionParams:
        options = dict(settings.get("OPTIONS") or {})
        unknown = sorted(set(options) - set(_KNOWN_OPTIONS))
        if unknown:
            raise ImproperlyConfigured(
                f"DATABASES[{alias!r}]['OPTIONS'] has unknown keys for DuckDB: {unknown}. "
                f"Known: {', '.join(_KNOWN_OPTIONS)} (config is passed to duckdb.connect(config=...))."
            )
        name = str(settings.get("NAME") or "")
        in_memory = name in ("", ":memory:") or name.startswith(":memory:")
        database = ":memory:" if in_memory else os.path.abspath(os.path.expanduser(name))
        config = options.get("config") or {}
        if not isinstance(config, dict):
            raise ImproperlyConfigured(f"DATABASES[{alias!r}]['OPTIONS']['config'] must be a dict of DuckDB settings.")
        return cls(
            database=database,
            in_memory=in_memory,
            read_only=_flag(options.get("read_only", False)),
            timezone=str(options.get("timezone", "UTC")),
            config=tuple(sorted(config.items())),
        )


def _flag(value: Any) -> bool:
    """A boolean option; URL query values arrive as text (``?read_only=true``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def open_database(params: ConnectionParams) -> duckdb.DuckDBPyConnection:
    """Open the database instance (the parent every connection of the alias is made from)."""
    try:
        return duckdb.connect(params.database, read_only=params.read_only, config=dict(params.config))
    except DRIVER_ERRORS as error:
        raise translate_error(error) from error


class DuckDBConnection(ThreadedConnection):
    """One DuckDB connection (``parent.cursor()``), used by one thread at a time."""

    driver_errors = DRIVER_ERRORS

    def __init__(self, wrapper: BaseDatabaseWrapper, raw: duckdb.DuckDBPyConnection, timezone: str = "UTC") -> None:
        super().__init__(wrapper, raw)
        # The deadline timer may interrupt only while a statement runs (never the next one).
        self._running = False
        self._guard = threading.Lock()
        try:
            raw.execute(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
        except DRIVER_ERRORS:
            pass  # without the ICU extension there is no time zone setting; timestamps stay UTC

    # -- statements -------------------------------------------------------------

    def execute(self, statement: Statement) -> None:
        timeout_ms = statement.timeout_ms
        timer: threading.Timer | None = None
        if timeout_ms is not None:
            timer = threading.Timer(timeout_ms / 1000.0, self._interrupt_running)
            timer.daemon = True
        with self._guard:
            self._running = True
        if timer is not None:
            timer.start()
        try:
            self._execute(statement)
        except DRIVER_ERRORS as error:
            raise translate_error(error, statement.sql, timeout_ms=timeout_ms) from error
        finally:
            with self._guard:
                self._running = False
            if timer is not None:
                timer.cancel()

    def _interrupt_running(self) -> None:
        with self._guard:
            if self._running and not self.closed:
                self.raw.interrupt()

    def _execute(self, statement: Statement) -> None:
        raw = self.raw
        params = statement.params
        fetch = statement.fetch
        if statement.many:
            raw.executemany(statement.sql, list(params or ()))
            statement.rowcount = raw.rowcount
            if fetch != FETCH_NONE:
                statement.rows = []
            return
        raw.execute(statement.sql, params if params else None)
        if fetch == FETCH_ALL:
            statement.rows = raw.fetchall()
        elif fetch == FETCH_ONE:
            row = raw.fetchone()
            statement.rows = [] if row is None else [row]
        statement.rowcount = raw.rowcount

    def execute_script(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except DRIVER_ERRORS as error:
            raise translate_error(error, sql) from error

    def _simple(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except DRIVER_ERRORS as error:
            raise translate_error(error, sql) from error

    # -- transactions -----------------------------------------------------------

    def begin(self) -> None:
        self._simple("BEGIN TRANSACTION")
        self.in_transaction = True

    def commit(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self._simple("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self._simple("ROLLBACK")

    def reset(self) -> None:
        """Make the connection clean for the next user: no transaction left open."""
        if self.closed:
            return
        self.in_transaction = False
        try:
            self.raw.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # "no transaction is active": already clean
        except DRIVER_ERRORS:
            self.close()

    # -- lifecycle --------------------------------------------------------------
