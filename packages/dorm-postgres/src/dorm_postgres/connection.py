"""Physical connections: psycopg 3 ``Connection`` / ``AsyncConnection`` behind the core's SPI.

Connections come from the alias's pools in autocommit mode; ``begin()``
sends ``BEGIN`` and ``commit()``/``rollback()`` end it, so outside a block
every statement commits on its own.

Statement timeouts (``Statement.timeout_ms``) use ``SET LOCAL
statement_timeout``, which only lives until the end of the transaction:

* inside a transaction: ``SET LOCAL`` before the statement, back to the
  session's value (``SET LOCAL ... TO DEFAULT``) after it;
* in autocommit: the statement is wrapped in its own short transaction
  (``BEGIN; SET LOCAL ...`` / statement / ``COMMIT``), so a timeout can
  never leak into the next user of the pooled connection.

Server-side cursors (:meth:`PgConnection.iterate`) follow the same rules
for their whole iteration; the server applies the timeout to each fetch.

A timeout raises :class:`dorm.QueryCanceledError` with the server's
message (``canceling statement due to statement timeout``).

A statement outside a transaction (and ``BEGIN`` itself) that fails because
the server had already ended the session (``pg_terminate_backend``, a
restart: SQLSTATE 57P01-57P03) is retried once on a fresh connection after
the pool checked its idle connections: the server commits nothing of a
terminated session, so the retry cannot run anything twice.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus

from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm.backends.base.placeholders import to_numbered
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement
from dorm_postgres.errors import is_session_terminated, translate_error

if TYPE_CHECKING:
    from dorm_postgres.base import DatabaseWrapper
    from dorm_postgres.pools import DormAsyncPool, DormSyncPool

__all__ = ["PgAsyncConnection", "PgConnection"]

_IDLE: Final = TransactionStatus.IDLE
_INTRANS: Final = TransactionStatus.INTRANS
_TUPLES_OK: Final = ExecStatus.TUPLES_OK
_cursor_names = itertools.count(1)


def _cursor_name() -> str:
    return f"dorm_cursor_{next(_cursor_names)}"


def _timeout_sql(timeout_ms: int) -> str:
    # An int formatted by us: no injection possible, and SET takes no parameters.
    return f"SET LOCAL statement_timeout = {max(int(timeout_ms), 1)}"


def _resettable(status: int) -> bool:
    """A block's transaction that can still run a statement (not failed, not mid-query)."""
    return bool(status == _INTRANS)


def _fill(cur: Any, stmt: Statement) -> None:
    """Copy a finished cursor's outcome into ``stmt`` (sync and async cursors alike)."""
    stmt.rowcount = cur.rowcount
    if stmt.fetch == FETCH_NONE:
        stmt.rows = None
    elif (result := cur.pgresult) is None or result.status != _TUPLES_OK:
        stmt.rows = []  # no result set (checking ``description`` would build Column objects)
    elif stmt.fetch == FETCH_ALL:
        stmt.rows = cur.fetchall()
    else:
        row = cur.fetchone()
        stmt.rows = [] if row is None else [row]


# --------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------


def _cursor(raw: psycopg.Connection[Any], sql: str, params: Any) -> tuple[psycopg.Cursor[Any], str]:
    """A cursor for ``sql`` and the text to send: a raw cursor and ``$n`` SQL when convertible."""
    if params is not None and (converted := to_numbered(sql)) is not None:
        return psycopg.RawCursor(raw), converted
    return raw.cursor(), sql


def _fetch(raw: psycopg.Connection[Any], sql: str, params: Any) -> list[tuple[Any, ...]]:
    cur, text = _cursor(raw, sql, params)
    cur.execute(text, params)
    result = cur.pgresult
    return cur.fetchall() if result is not None and result.status == _TUPLES_OK else []


def _run(raw: psycopg.Connection[Any], stmt: Statement) -> None:
    cur, sql = _cursor(raw, stmt.sql, stmt.params)
    if not stmt.many:
        _fill(cur.execute(sql, stmt.params), stmt)
        return
    with cur:
        if stmt.fetch == FETCH_NONE:
            cur.executemany(sql, stmt.params or ())
            stmt.rowcount = cur.rowcount
            stmt.rows = None
            return
        cur.executemany(sql, stmt.params or (), returning=True)
        rows: list[tuple[Any, ...]] = []
        while True:
            if cur.description is not None:
                rows.extend(cur.fetchall())
            if not cur.nextset():
                break
        stmt.rows = rows
        stmt.rowcount = len(rows)


class PgConnection(BaseConnection):
    """A pooled psycopg ``Connection`` used by one thread at a time."""

    raw: psycopg.Connection[Any]
    wrapper: DatabaseWrapper

    def __init__(self, wrapper: DatabaseWrapper, raw: psycopg.Connection[Any], pool: DormSyncPool) -> None:
        super().__init__(wrapper, raw)
        self.pool = pool

    def execute(self, statement: Statement) -> None:
        try:
            if statement.timeout_ms is None:
                _run(self.raw, statement)
            else:
                self._run_with_timeout(statement)
        except psycopg.Error as error:
            if self.in_transaction or not is_session_terminated(error):
                raise translate_error(error) from error
            self._replace_dead_connection(error)
            try:
                _run(self.raw, statement) if statement.timeout_ms is None else self._run_with_timeout(statement)
            except psycopg.Error as again:
                raise translate_error(again) from again

    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            return _fetch(self.raw, sql, params)
        except psycopg.Error as error:
            if self.in_transaction or not is_session_terminated(error):
                raise translate_error(error) from error
            self._replace_dead_connection(error)
            try:
                return _fetch(self.raw, sql, params)
            except psycopg.Error as again:
                raise translate_error(again) from again

    def _run_with_timeout(self, stmt: Statement) -> None:
        raw = self.raw
        assert stmt.timeout_ms is not None
        if self.in_transaction:
            raw.execute(_timeout_sql(stmt.timeout_ms))
            _run(raw, stmt)
            raw.execute("SET LOCAL statement_timeout TO DEFAULT")
            return
        raw.execute("BEGIN; " + _timeout_sql(stmt.timeout_ms))
        try:
            _run(raw, stmt)
            raw.execute("COMMIT")
        finally:
            if not raw.closed and raw.pgconn.transaction_status != _IDLE:
                raw.execute("ROLLBACK")

    def _replace_dead_connection(self, error: BaseException) -> None:
        """Swap a connection the server ended for a fresh one (nothing ran on the dead one)."""
        pool = self.pool
        self.wrapper.checkin(pool, self.raw)  # closed: the pool discards it and opens a replacement
        pool.check()  # the rest of the idle connections were probably ended too
        self.raw = self.wrapper.checkout(pool)

    def execute_script(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except psycopg.Error as error:
            raise translate_error(error) from error

    def iterate(self, statement: Statement, chunk_size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Stream rows through a server-side (named) cursor, ``chunk_size`` rows per fetch.

        Outside a transaction the cursor gets a transaction of its own,
        ended when the iteration ends (or is abandoned).  ``timeout_ms`` is
        a ``SET LOCAL statement_timeout`` in that transaction (inside a
        block: for the iteration, then back to the session's value); the
        server applies it to each fetch of ``chunk_size`` rows.
        """
        own_transaction = not self.in_transaction
        timeout_ms = statement.timeout_ms
        raw = self.raw
        timeout_set = False
        try:
            if own_transaction:
                self.begin()
                raw = self.raw  # begin() may have swapped a dead connection
            if timeout_ms is not None:
                raw.execute(_timeout_sql(timeout_ms))
                timeout_set = True
            with raw.cursor(name=_cursor_name()) as cur:
                cur.itersize = chunk_size
                cur.execute(statement.sql, statement.params)
                while rows := cur.fetchmany(chunk_size):
                    yield rows
            if own_transaction:
                self.commit()
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            if own_transaction and self.in_transaction:
                self.in_transaction = False
                if not raw.closed and raw.pgconn.transaction_status != _IDLE:
                    try:
                        raw.execute("ROLLBACK")
                    except psycopg.Error:
                        pass  # the pool discards a connection it cannot reset
            elif timeout_set and not own_transaction and _resettable(raw.pgconn.transaction_status):
                try:
                    raw.execute("SET LOCAL statement_timeout TO DEFAULT")
                except psycopg.Error:
                    pass  # SET LOCAL ends with the block's transaction anyway

    def begin(self) -> None:
        try:
            self.raw.execute("BEGIN")
        except psycopg.Error as error:
            if not is_session_terminated(error):
                raise translate_error(error) from error
            self._replace_dead_connection(error)
            try:
                self.raw.execute("BEGIN")
            except psycopg.Error as again:
                raise translate_error(again) from again
        self.in_transaction = True

    def commit(self) -> None:
        try:
            self.raw.execute("COMMIT")
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            self.in_transaction = False

    def rollback(self) -> None:
        try:
            self.raw.execute("ROLLBACK")
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            self.in_transaction = False

    def cancel(self) -> None:
        """Ask the server to cancel the running statement (safe from another thread)."""
        try:
            self.raw.cancel_safe(timeout=5.0)
        except psycopg.Error as error:
            raise translate_error(error) from error

    def is_usable(self) -> bool:
        return not self.raw.closed

    def close(self) -> None:
        self.raw.close()


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


def _acursor(raw: psycopg.AsyncConnection[Any], sql: str, params: Any) -> tuple[psycopg.AsyncCursor[Any], str]:
    if params is not None and (converted := to_numbered(sql)) is not None:
        return psycopg.AsyncRawCursor(raw), converted
    return raw.cursor(), sql


async def _arun(raw: psycopg.AsyncConnection[Any], stmt: Statement) -> None:
    cur, sql = _acursor(raw, stmt.sql, stmt.params)
    if not stmt.many:
        await _afill(await cur.execute(sql, stmt.params), stmt)
        return
    async with cur:
        if stmt.fetch == FETCH_NONE:
            await cur.executemany(sql, stmt.params or ())
            stmt.rowcount = cur.rowcount
            stmt.rows = None
            return
        await cur.executemany(sql, stmt.params or (), returning=True)
        rows: list[tuple[Any, ...]] = []
        while True:
            if cur.description is not None:
                rows.extend(await cur.fetchall())
            if not cur.nextset():
                break
        stmt.rows = rows
        stmt.rowcount = len(rows)


async def _afill(cur: psycopg.AsyncCursor[Any], stmt: Statement) -> None:
    stmt.rowcount = cur.rowcount
    if stmt.fetch == FETCH_NONE:
        stmt.rows = None
    elif (result := cur.pgresult) is None or result.status != _TUPLES_OK:
        stmt.rows = []
    elif stmt.fetch == FETCH_ALL:
        stmt.rows = await cur.fetchall()
    else:
        row = await cur.fetchone()
        stmt.rows = [] if row is None else [row]


class PgAsyncConnection(BaseAsyncConnection):
    """A pooled psycopg ``AsyncConnection``; its pool belongs to one event loop.

    When the task running a statement is cancelled, psycopg sends the server
    a cancel request and waits for the statement to end before the
    ``CancelledError`` propagates, so the connection goes back idle (or, in
    a transaction, in the failed state that the rollback clears).
    """

    raw: psycopg.AsyncConnection[Any]
    wrapper: DatabaseWrapper

    def __init__(self, wrapper: DatabaseWrapper, raw: psycopg.AsyncConnection[Any], pool: DormAsyncPool) -> None:
        super().__init__(wrapper, raw)
        self.pool = pool

    async def execute(self, statement: Statement) -> None:
        try:
            if statement.timeout_ms is None:
                await _arun(self.raw, statement)
            else:
                await self._run_with_timeout(statement)
        except psycopg.Error as error:
            if self.in_transaction or not is_session_terminated(error):
                raise translate_error(error) from error
            await self._replace_dead_connection(error)
            try:
                if statement.timeout_ms is None:
                    await _arun(self.raw, statement)
                else:
                    await self._run_with_timeout(statement)
            except psycopg.Error as again:
                raise translate_error(again) from again

    async def _run_with_timeout(self, stmt: Statement) -> None:
        raw = self.raw
        assert stmt.timeout_ms is not None
        if self.in_transaction:
            await raw.execute(_timeout_sql(stmt.timeout_ms))
            await _arun(raw, stmt)
            await raw.execute("SET LOCAL statement_timeout TO DEFAULT")
            return
        await raw.execute("BEGIN; " + _timeout_sql(stmt.timeout_ms))
        try:
            await _arun(raw, stmt)
            await raw.execute("COMMIT")
        finally:
            if not raw.closed and raw.pgconn.transaction_status != _IDLE:
                await raw.execute("ROLLBACK")

    async def _replace_dead_connection(self, error: BaseException) -> None:
        pool = self.pool
        await self.wrapper.acheckin(pool, self.raw)
        await pool.check()
        self.raw = await self.wrapper.acheckout(pool)

    async def execute_script(self, sql: str) -> None:
        try:
            await self.raw.execute(sql)
        except psycopg.Error as error:
            raise translate_error(error) from error

    async def iterate(self, statement: Statement, chunk_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Async twin of :meth:`PgConnection.iterate` (same transaction and timeout rules)."""
        own_transaction = not self.in_transaction
        timeout_ms = statement.timeout_ms
        raw = self.raw
        timeout_set = False
        try:
            if own_transaction:
                await self.begin()
                raw = self.raw  # begin() may have swapped a dead connection
            if timeout_ms is not None:
                await raw.execute(_timeout_sql(timeout_ms))
                timeout_set = True
            async with raw.cursor(name=_cursor_name()) as cur:
                cur.itersize = chunk_size
                await cur.execute(statement.sql, statement.params)
                while rows := await cur.fetchmany(chunk_size):
                    yield rows
            if own_transaction:
                await self.commit()
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            if own_transaction and self.in_transaction:
                self.in_transaction = False
                if not raw.closed and raw.pgconn.transaction_status != _IDLE:
                    try:
                        await raw.execute("ROLLBACK")
                    except psycopg.Error:
                        pass
            elif timeout_set and not own_transaction and _resettable(raw.pgconn.transaction_status):
                try:
                    await raw.execute("SET LOCAL statement_timeout TO DEFAULT")
                except psycopg.Error:
                    pass  # SET LOCAL ends with the block's transaction anyway

    async def begin(self) -> None:
        try:
            await self.raw.execute("BEGIN")
        except psycopg.Error as error:
            if not is_session_terminated(error):
                raise translate_error(error) from error
            await self._replace_dead_connection(error)
            try:
                await self.raw.execute("BEGIN")
            except psycopg.Error as again:
                raise translate_error(again) from again
        self.in_transaction = True

    async def commit(self) -> None:
        try:
            await self.raw.execute("COMMIT")
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            self.in_transaction = False

    async def rollback(self) -> None:
        try:
            await self.raw.execute("ROLLBACK")
        except psycopg.Error as error:
            raise translate_error(error) from error
        finally:
            self.in_transaction = False

    async def cancel(self) -> None:
        try:
            await self.raw.cancel_safe(timeout=5.0)
        except psycopg.Error as error:
            raise translate_error(error) from error

    def is_usable(self) -> bool:
        return not self.raw.closed

    async def close(self) -> None:
        await self.raw.close()
