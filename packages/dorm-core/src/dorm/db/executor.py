"""The I/O edge: every statement the core runs goes through :func:`run` or :func:`arun`
(or their streaming twins :func:`stream` and :func:`astream`, for ``iterator()``).

Here and only here: the refusal of sync calls inside a running event loop,
the choice of connection (the current ``atomic()`` block's, else a fresh
autocommit checkout), statement wrappers (the ``dorm_statement`` hook),
the connection hooks, timing and the ``dorm.db`` logger.  Query building,
compiling and hydration happen before and after, identically for sync and
async.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Generator, Iterator
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, TypeVar

from dorm import plugins
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement
from dorm.db.connections import connections
from dorm.exceptions import InterfaceError, OperationalError, SyncInAsyncContextError
from dorm.transaction import _transactions, current_transaction

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection

__all__ = [
    "arun",
    "arun_on",
    "arun_script",
    "astream",
    "ensure_sync_allowed",
    "fetch_rows",
    "run",
    "run_on",
    "run_script",
    "stream",
]

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
_Rows = list[tuple[Any, ...]]
_T = TypeVar("_T")
#: Errors after which a connection is given back as ``broken``.
_BREAKING: Final = (OperationalError, InterfaceError)


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
        extra={"alias": stmt.alias, "duration": duration, "rows": rows, "sql": stmt.sql, "streamed": stmt.streamed},
    )


# --------------------------------------------------------------------------
# checkout and release outside a transaction, shared by run/arun and stream/astream
# --------------------------------------------------------------------------


def _checkout(backend: BaseDatabaseWrapper, stmt: Statement, gens: _Wrappers, kernel: plugins.Kernel) -> BaseConnection:
    """A connection for ``stmt`` (whose wrappers already started); a failed checkout is thrown into them."""
    try:
        conn = backend.acquire()
    except BaseException as exc:
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    kernel.connection_acquired(stmt.alias, conn)
    return conn


def _checkin(
    backend: BaseDatabaseWrapper, alias: str, conn: BaseConnection, kernel: plugins.Kernel, broken: bool
) -> None:
    try:
        backend.release(conn, broken=broken)
    finally:
        kernel.connection_released(alias, conn, broken)


async def _acheckout(
    backend: BaseDatabaseWrapper, stmt: Statement, gens: _Wrappers, kernel: plugins.Kernel
) -> BaseAsyncConnection:
    try:
        conn = await backend.aacquire()
    except BaseException as exc:
        if gens:
            _exit_wrappers(gens, stmt, exc)
        raise
    kernel.connection_acquired(stmt.alias, conn)
    return conn


async def _acheckin(
    backend: BaseDatabaseWrapper, alias: str, conn: BaseAsyncConnection, kernel: plugins.Kernel, broken: bool
) -> None:
    """Give a connection back, shielded from cancellation (a cancel is re-raised once it is back)."""
    try:
        await _shielded(backend.arelease(conn, broken=broken))
    finally:
        kernel.connection_released(alias, conn, broken)


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
    kernel = plugins.kernel
    gens = _enter_wrappers_before_checkout(stmt)
    conn = _checkout(backend, stmt, gens, kernel)
    broken = False
    try:
        return run_on(conn, stmt, script=script, gens=gens)
    except (OperationalError, InterfaceError):
        broken = True
        raise
    finally:
        _checkin(backend, stmt.alias, conn, kernel, broken)


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
            await _shielded(backend.arelease(conn, broken=failed))
    kernel = plugins.kernel
    gens = _enter_wrappers_before_checkout(stmt)
    conn = await _acheckout(backend, stmt, gens, kernel)
    broken = False
    try:
        return await arun_on(conn, stmt, script=script, gens=gens)
    except (OperationalError, InterfaceError, asyncio.CancelledError):
        broken = True
        raise
    finally:
        await _acheckin(backend, stmt.alias, conn, kernel, broken)


async def _shielded(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to its end; a cancellation arriving meanwhile waits for it, then is re-raised.

    For cleanup that must not be interrupted (a connection's release).
    """
    # Fast path: most releases finish without suspending, and a coroutine that never
    # suspends cannot be cancelled, so no task (about 10 µs) is needed to shield it.
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        result: _T = stop.value
        return result
    task = asyncio.ensure_future(_finish(coro, yielded))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    result = task.result()
    if cancelled:
        raise asyncio.CancelledError
    return result


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


# --------------------------------------------------------------------------
# streaming: iterator() / aiterator()
# --------------------------------------------------------------------------
#
# A streamed statement runs through the same steps as run()/arun() (wrappers,
# checkout hooks, logging), spread over the iteration: the wrappers start
# before the checkout, the rows go to the consumer chunk by chunk, and when
# the iteration ends (exhausted, failed, or abandoned by the consumer) the
# cursor is closed, a held connection goes back to the pool, the statement
# is logged and the wrappers resume.  ``rows`` stays None; ``rowcount`` counts
# the rows fetched and ``duration`` the time spent waiting for the database.


def _fetch_all(conn: BaseConnection, stmt: Statement) -> _Rows:
    """Run ``stmt`` in one go (the buffered way to stream): its rows, with ``stmt.rows`` left None."""
    stmt.fetch = FETCH_ALL
    start = perf_counter()
    try:
        conn.execute(stmt)
    finally:
        stmt.duration += perf_counter() - start
    return _take_rows(stmt)


async def _afetch_all(conn: BaseAsyncConnection, stmt: Statement) -> _Rows:
    stmt.fetch = FETCH_ALL
    start = perf_counter()
    try:
        await conn.execute(stmt)
    finally:
        stmt.duration += perf_counter() - start
    return _take_rows(stmt)


def _take_rows(stmt: Statement) -> _Rows:
    rows = stmt.rows or []
    stmt.rows = None
    stmt.rowcount = 0  # counted again as the chunks are handed out
    return rows


def _chunks(rows: _Rows, size: int) -> Iterator[_Rows]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _achunks(rows: _Rows, size: int) -> AsyncIterator[_Rows]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _start_stream(stmt: Statement, chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"iterator(chunk_size={chunk_size!r}): use a positive number of rows per fetch.")
    stmt.streamed = True
    stmt.rows = None
    stmt.rowcount = 0


def _got_chunk(stmt: Statement, chunk: _Rows) -> None:
    stmt.rowcount += len(chunk)
    callbacks = stmt.chunk_callbacks
    if callbacks:
        for callback in callbacks:
            callback(stmt)


def _finish_stream(stmt: Statement, gens: _Wrappers, exc: BaseException | None) -> None:
    """Log a stream that ended without error and resume the wrappers (raises the final error, if any)."""
    stmt.rows = None  # a backend's fallback iterate() may have filled it
    if exc is None and (stmt.duration >= slow_query_seconds or logger.isEnabledFor(_DEBUG)):
        _log(stmt)
    if gens or exc is not None:
        _exit_wrappers(gens, stmt, exc)


def stream(
    stmt: Statement, chunk_size: int, method: str = "iterator", *, server_side: bool = True
) -> Generator[_Rows, None, None]:
    """Execute ``stmt`` and yield its rows in chunks of at most ``chunk_size`` (the streaming :func:`run`).

    Outside a transaction, on a backend with
    ``features.supports_server_side_cursors`` (and ``server_side`` true), the
    rows come from ``connection.iterate()`` and the connection is held until
    the iteration ends.  Otherwise (inside ``atomic()``, where the block's
    connection serves other statements between chunks, or on backends
    without server-side cursors, or when the caller runs statements of its
    own between chunks: ``server_side=False``) the statement runs in one go,
    the connection is given back at once, and the rows are handed out in
    chunks.  Either way the wrappers see one streamed statement (see
    :class:`Statement`), resumed when the iteration ends, and closing the
    generator early is a normal end.
    """
    if _get_running_loop() is not None:
        raise sync_in_loop_error(method)
    _start_stream(stmt, chunk_size)
    alias = stmt.alias
    kernel = plugins.kernel
    held: BaseConnection | None = None  # a connection to give back when the stream ends
    backend = connections[alias]
    source: Iterator[_Rows]
    tx = current_transaction(alias)
    if tx is not None:
        conn = stmt.connection = tx.sync_connection()
        gens = _enter_wrappers(stmt) if kernel.statement_wrappers() else ()
        try:
            source = _chunks(_fetch_all(conn, stmt), chunk_size)
        except BaseException as exc:
            _exit_wrappers(gens, stmt, exc)
            raise
    else:
        gens = _enter_wrappers_before_checkout(stmt)
        conn = stmt.connection = _checkout(backend, stmt, gens, kernel)
        if server_side and backend.features.supports_server_side_cursors:
            held = conn
            source = conn.iterate(stmt, chunk_size)
        else:
            try:
                rows = _fetch_all(conn, stmt)
            except BaseException as exc:
                _checkin(backend, alias, conn, kernel, isinstance(exc, _BREAKING))
                _exit_wrappers(gens, stmt, exc)
                raise
            _checkin(backend, alias, conn, kernel, False)
            source = _chunks(rows, chunk_size)
    broken = False
    try:
        while True:
            start = perf_counter()
            try:
                chunk = next(source, None)
            except _BREAKING:
                broken = True
                raise
            finally:
                stmt.duration += perf_counter() - start
            if chunk is None:
                break
            _got_chunk(stmt, chunk)
            yield chunk
    except GeneratorExit:  # the consumer stopped early: a normal end
        _end_stream(stmt, gens, source, backend, held, kernel, None, False)
        raise
    except BaseException as exc:
        _end_stream(stmt, gens, source, backend, held, kernel, exc, broken)
        raise
    _end_stream(stmt, gens, source, backend, held, kernel, None, False)


def _end_stream(
    stmt: Statement,
    gens: _Wrappers,
    source: Iterator[_Rows],
    backend: BaseDatabaseWrapper,
    held: BaseConnection | None,
    kernel: plugins.Kernel,
    exc: BaseException | None,
    broken: bool,
) -> None:
    """Close the cursor, give a held connection back, then log and resume the wrappers."""
    try:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # ends the server-side cursor (and the transaction it opened)
    except Exception as error:
        broken = broken or isinstance(error, _BREAKING)
        if exc is None:
            exc = error
    finally:
        if held is not None:
            _checkin(backend, stmt.alias, held, kernel, broken)
    _finish_stream(stmt, gens, exc)


async def astream(stmt: Statement, chunk_size: int, *, server_side: bool = True) -> AsyncGenerator[_Rows, None]:
    """Async twin of :func:`stream`.

    Cancellation: a fetch cancelled while it waits is cancelled on the
    server by the driver; the cursor is closed and the connection given
    back (shielded, so a second cancellation cannot interrupt the cleanup),
    the ``CancelledError`` is thrown into the wrappers and propagates.  An
    abandoned iterator is cleaned up the same way when it is closed
    (``aclose()``, or the event loop's finaliser after garbage collection).
    """
    _start_stream(stmt, chunk_size)
    alias = stmt.alias
    kernel = plugins.kernel
    held: BaseAsyncConnection | None = None
    backend = connections[alias]
    source: AsyncIterator[_Rows] | None = None
    gens: _Wrappers = ()
    tx = current_transaction(alias)
    if tx is not None:
        async with tx.statement_lock():
            if not tx.closed:  # it may have ended while this task waited its turn
                conn = stmt.connection = tx.async_connection()
                gens = _enter_wrappers(stmt) if kernel.statement_wrappers() else ()
                try:
                    source = _achunks(await _afetch_all(conn, stmt), chunk_size)
                except BaseException as exc:
                    _exit_wrappers(gens, stmt, exc)
                    raise
    if source is None:
        gens = _enter_wrappers_before_checkout(stmt)
        aconn = stmt.connection = await _acheckout(backend, stmt, gens, kernel)
        if server_side and backend.features.supports_server_side_cursors:
            held = aconn
            source = aconn.iterate(stmt, chunk_size)
        else:
            try:
                rows = await _afetch_all(aconn, stmt)
            except BaseException as exc:
                error: BaseException = exc
                try:
                    await _acheckin(
                        backend, alias, aconn, kernel, isinstance(exc, (*_BREAKING, asyncio.CancelledError))
                    )
                except asyncio.CancelledError as cancelled:  # the release finished; the cancel wins
                    error = cancelled
                _exit_wrappers(gens, stmt, error)
                raise
            await _acheckin(backend, alias, aconn, kernel, False)
            source = _achunks(rows, chunk_size)
    broken = False
    try:
        while True:
            start = perf_counter()
            try:
                chunk = await source.__anext__()
            except StopAsyncIteration:
                break
            except (*_BREAKING, asyncio.CancelledError):
                broken = True
                raise
            finally:
                stmt.duration += perf_counter() - start
            _got_chunk(stmt, chunk)
            yield chunk
    except GeneratorExit:  # aclose(): the consumer stopped early, a normal end
        await _aend_stream(stmt, gens, source, backend, held, kernel, None, False)
        raise
    except BaseException as exc:
        await _aend_stream(stmt, gens, source, backend, held, kernel, exc, broken)
        raise
    await _aend_stream(stmt, gens, source, backend, held, kernel, None, False)


async def _aend_stream(
    stmt: Statement,
    gens: _Wrappers,
    source: AsyncIterator[_Rows],
    backend: BaseDatabaseWrapper,
    held: BaseAsyncConnection | None,
    kernel: plugins.Kernel,
    exc: BaseException | None,
    broken: bool,
) -> None:
    try:
        error = await _shielded(_aclose_stream(stmt.alias, source, backend, held, kernel, broken))
    except asyncio.CancelledError as cancelled:  # cancelled during the cleanup, which finished anyway
        error = None
        exc = cancelled
    if exc is None:
        exc = error
    _finish_stream(stmt, gens, exc)


async def _aclose_stream(
    alias: str,
    source: AsyncIterator[_Rows],
    backend: BaseDatabaseWrapper,
    held: BaseAsyncConnection | None,
    kernel: plugins.Kernel,
    broken: bool,
) -> Exception | None:
    """Close the cursor and give a held connection back; returns what closing raised."""
    error: Exception | None = None
    try:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()
    except Exception as raised:
        error = raised
        broken = broken or isinstance(raised, _BREAKING)
    if held is not None:
        try:
            await backend.arelease(held, broken=broken)
        finally:
            kernel.connection_released(alias, held, broken)
    return error
