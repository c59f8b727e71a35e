"""The I/O edge: every statement the core runs goes through :func:`run` or :func:`arun`.

Here and only here: the refusal of sync calls inside a running event loop,
the choice of connection (the current ``atomic()`` block's, else a fresh
autocommit checkout), statement wrappers (the ``dorm_statement`` hook),
timing and the ``dorm.db`` logger.  Query building, compiling and hydration
happen before and after, identically for sync and async.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Coroutine, Generator
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final

from dorm import plugins
from dorm.backends.base.statement import FETCH_NONE, Statement
from dorm.db.connections import connections
from dorm.exceptions import InterfaceError, OperationalError, SyncInAsyncContextError
from dorm.transaction import _transactions, current_transaction

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection

__all__ = ["arun", "arun_on", "arun_script", "ensure_sync_allowed", "fetch_rows", "run", "run_on", "run_script"]

logger: Final = logging.getLogger("dorm.db")
_get_running_loop = asyncio._get_running_loop  # the C fast path; returns None outside a loop
_DEBUG: Final = logging.DEBUG

#: Statements slower than this (seconds) are logged at WARNING.  Set from ``SLOW_QUERY_MS``.
slow_query_seconds = 0.5

_ASYNC_SPELLING: Final = {
    "__iter__": "`async for obj in queryset` (or `await queryset`)",
    "__len__": "`len(await queryset)`",
    "__bool__": "`await queryset.aexists()`",
    "__getitem__": "`await queryset[...]` on a sliced queryset (or `await queryset.afirst()`)",
    "iterator": "`async for obj in queryset.aiterator()`",
    "atomic": "`async with dorm.transaction.aatomic():`",
}

_Wrappers = tuple[Generator[None, None, None], ...]


def set_slow_query_threshold(milliseconds: float | None) -> None:
    global slow_query_seconds
    slow_query_seconds = float("inf") if milliseconds is None else float(milliseconds) / 1000.0


def sync_in_loop_error(method: str) -> SyncInAsyncContextError:
    spelled = _ASYNC_SPELLING.get(method) or f"`await ...a{method}(...)`"
    return SyncInAsyncContextError(
        f"{method}() touches the database synchronously, but this event loop is already running in "
        f"this thread: a blocking call here would stall every task on the loop. Use the async variant: "
        f"{spelled}. Building a queryset is fine; only executing it must be awaited."
    )


def ensure_sync_allowed(method: str) -> None:
    """Refuse a sync database call inside a running event loop."""
    if _get_running_loop() is not None:
        raise sync_in_loop_error(method)


# --------------------------------------------------------------------------
# wrappers, shared by sync and async
# --------------------------------------------------------------------------


def _enter_wrappers(stmt: Statement) -> _Wrappers:
    started: list[Generator[None, None, None]] = []
    for wrapper in plugins.kernel.statement_wrappers():
        gen = wrapper(stmt)
        try:
            next(gen)
        except BaseException as exc:
            _exit_wrappers(tuple(started), stmt, exc)
            raise
        started.append(gen)
    return tuple(started)


def _exit_wrappers(gens: _Wrappers, stmt: Statement, exc: BaseException | None) -> None:
    """Resume wrappers innermost first; a wrapper may replace the error, never swallow it."""
    for gen in reversed(gens):
        try:
            if exc is None:
                gen.send(None)
            else:
                gen.throw(exc)
        except StopIteration:
            pass
        except BaseException as raised:
            exc = raised
        else:
            gen.close()
            raise RuntimeError(f"dorm_statement wrapper {gen!r} yielded more than once")
    if exc is not None:
        raise exc


def _enter_wrappers_before_checkout(stmt: Statement) -> _Wrappers:
    """Outside a transaction, wrappers start before the connection checkout.

    So a wrapper can refuse a statement (an open circuit breaker) without
    waiting for a connection, and sees a failed checkout (a database that is
    down) as the statement's failure.  ``stmt.connection`` is still None then.
    """
    return _enter_wrappers(stmt) if plugins.kernel.statement_wrappers() else ()


def _log(stmt: Statement) -> None:
    duration = stmt.duration
    if duration >= slow_query_seconds:
        level = logging.WARNING
    elif logger.isEnabledFor(_DEBUG):
        level = _DEBUG
    else:
        return
    # rows returned, else rows affected (a DML run with FETCH_ALL returns an empty list)
    rows = len(stmt.rows) if stmt.rows else max(stmt.rowcount, 0)
    logger.log(
        level,
        "(%.3f ms) alias=%s rows=%s %s; params=%r",
        duration * 1000.0,
        stmt.alias,
        rows,
        stmt.sql,
        stmt.params,
        extra={"alias": stmt.alias, "duration": duration, "rows": rows, "sql": stmt.sql},
    )


# --------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------


def run_on(conn: BaseConnection, stmt: Statement, *, script: bool = False, gens: _Wrappers | None = None) -> Statement:
    """Execute ``stmt`` on a given connection with wrappers, timing and logging.

    ``gens``: wrappers already entered by the caller (before the checkout).
    """
    stmt.connection = conn
    if gens is None:
        gens = _enter_wrappers(stmt) if plugins.kernel.statement_wrappers() else ()
    start = perf_counter()
    try:
        if script:
            conn.execute_script(stmt.sql)
        else:
            conn.execute(stmt)
    except BaseException as exc:
        stmt.duration = perf_counter() - start
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    stmt.duration = duration = perf_counter() - start
    if duration >= slow_query_seconds or logger.isEnabledFor(_DEBUG):
        _log(stmt)
    if gens:
        _exit_wrappers(gens, stmt, None)
    return stmt


def run(stmt: Statement, method: str = "execute", *, script: bool = False) -> Statement:
    """Execute one statement synchronously on its alias."""
    if _get_running_loop() is not None:
        raise sync_in_loop_error(method)
    tx = current_transaction(stmt.alias)
    if tx is not None:
        return run_on(tx.sync_connection(), stmt, script=script)
    backend = connections[stmt.alias]
    if not plugins.kernel.statement_path_hooked():
        # the usual case: no wrapper and no checkout hook to call (same steps otherwise)
        conn = backend.acquire()
        failed = False
        try:
            return run_on(conn, stmt, script=script, gens=())
        except (OperationalError, InterfaceError):
            failed = True
            raise
        finally:
            backend.release(conn, broken=failed)
    gens = _enter_wrappers_before_checkout(stmt)
    try:
        conn = backend.acquire()
    except BaseException as exc:
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    kernel = plugins.kernel
    kernel.connection_acquired(stmt.alias, conn)
    broken = False
    try:
        return run_on(conn, stmt, script=script, gens=gens)
    except (OperationalError, InterfaceError):
        broken = True
        raise
    finally:
        backend.release(conn, broken=broken)
        kernel.connection_released(stmt.alias, conn, broken)


def fetch_rows(
    backend: BaseDatabaseWrapper, sql: str, params: list[Any], method: str, model: type | None = None
) -> list[tuple[Any, ...]]:
    """All rows of one read on ``backend``'s alias: the express lane's :func:`run`.

    For callers that checked ``plugins.kernel.express_lane(model)`` (so no
    wrapper or checkout hook is to be called): the connection's
    ``fetch_rows()`` runs it without a :class:`Statement`, which is built
    only when the statement is logged.  Same refusal inside an event loop,
    same connection choice, timing and logging as :func:`run`.
    """
    if _get_running_loop() is not None:
        raise sync_in_loop_error(method)
    alias = backend.alias
    if _transactions.get() is not None:
        tx = current_transaction(alias)
        if tx is not None:
            return run_on(tx.sync_connection(), Statement(alias, sql, params, model=model)).rows or []
    conn = backend.acquire()
    start = perf_counter()
    try:
        rows = conn.fetch_rows(sql, params)
    except (OperationalError, InterfaceError):
        backend.release(conn, broken=True)
        raise
    except BaseException:
        backend.release(conn)
        raise
    duration = perf_counter() - start
    backend.release(conn)
    if duration >= slow_query_seconds or logger.isEnabledFor(_DEBUG):
        stmt = Statement(alias, sql, params, model=model)
        stmt.connection = conn
        stmt.rows = rows
        stmt.duration = duration
        _log(stmt)
    return rows


def run_script(alias: str, sql: str) -> None:
    run(Statement(alias, sql, None, fetch=FETCH_NONE), "execute_script", script=True)


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


async def arun_on(
    conn: BaseAsyncConnection, stmt: Statement, *, script: bool = False, gens: _Wrappers | None = None
) -> Statement:
    """Async twin of :func:`run_on`."""
    stmt.connection = conn
    if gens is None:
        gens = _enter_wrappers(stmt) if plugins.kernel.statement_wrappers() else ()
    start = perf_counter()
    try:
        if script:
            await conn.execute_script(stmt.sql)
        else:
            await conn.execute(stmt)
    except BaseException as exc:
        stmt.duration = perf_counter() - start
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    stmt.duration = duration = perf_counter() - start
    if duration >= slow_query_seconds or logger.isEnabledFor(_DEBUG):
        _log(stmt)
    if gens:
        _exit_wrappers(gens, stmt, None)
    return stmt


async def arun(stmt: Statement, *, script: bool = False) -> Statement:
    """Execute one statement on its alias from async code.

    Inside an ``aatomic()`` block the block's connection is used, one
    statement at a time across the tasks that share the block.  Otherwise a
    connection is checked out for this statement and given back even if
    the task is cancelled (the release is shielded from cancellation).
    """
    tx = current_transaction(stmt.alias)
    if tx is not None:
        async with tx.statement_lock():
            if not tx.closed:  # it may have ended while this task waited its turn
                return await arun_on(tx.async_connection(), stmt, script=script)
    backend = connections[stmt.alias]
    if not plugins.kernel.statement_path_hooked():
        # the usual case: no wrapper and no checkout hook to call (same steps otherwise)
        conn = await backend.aacquire()
        failed = False
        try:
            return await arun_on(conn, stmt, script=script, gens=())
        except (OperationalError, InterfaceError, asyncio.CancelledError):
            failed = True
            raise
        finally:
            await _shielded_release(backend, conn, failed)
    gens = _enter_wrappers_before_checkout(stmt)
    try:
        conn = await backend.aacquire()
    except BaseException as exc:
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    kernel = plugins.kernel
    kernel.connection_acquired(stmt.alias, conn)
    broken = False
    try:
        return await arun_on(conn, stmt, script=script, gens=gens)
    except (OperationalError, InterfaceError, asyncio.CancelledError):
        broken = True
        raise
    finally:
        await _shielded_release(backend, conn, broken)
        kernel.connection_released(stmt.alias, conn, broken)


async def _shielded_release(backend: Any, conn: BaseAsyncConnection, broken: bool) -> None:
    """Give a connection back; a cancellation arriving meanwhile waits for the release to finish."""
    coro = backend.arelease(conn, broken=broken)
    # Fast path: most releases finish without suspending, and a coroutine that never
    # suspends cannot be cancelled, so no task (about 10 µs) is needed to shield it.
    try:
        yielded = coro.send(None)
    except StopIteration:
        return
    release = asyncio.ensure_future(_finish(coro, yielded))
    cancelled = False
    while not release.done():
        try:
            await asyncio.shield(release)
        except asyncio.CancelledError:
            cancelled = True
    release.result()
    if cancelled:
        raise asyncio.CancelledError


async def _finish(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    # A native coroutine around the generator: asyncio (3.12+) only makes tasks of coroutines.
    return await _resume(coro, yielded)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Carry on a coroutine that already suspended once, so a task can own the rest of it."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # cancellation or an error thrown in by the task
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def arun_script(alias: str, sql: str) -> None:
    await arun(Statement(alias, sql, None, fetch=FETCH_NONE), script=True)
