"""Transactions: ``atomic()`` / ``aatomic()``, savepoints and ``on_commit``.

Rules (see ``docs/transactions.md``):

* A transaction belongs to the thread or task that opened it: it lives in a
  context variable, so another thread never sees it.
* Outside any block each statement commits on its own (autocommit).
* Nested blocks are savepoints where the backend supports them
  (``features.supports_savepoints``); elsewhere (DuckDB) they are no-op
  boundaries, and an error escaping one makes the outer block roll back.
* Tasks started inside an ``aatomic()`` block inherit it and share its
  connection one statement at a time (a lock per block serialises them; a
  nested block holds its parent block's lock for its whole duration, and
  tasks gathered inside the nested block take turns on its own lock).
* A task that outlives the block never reuses its connection: once the
  block has ended its statements run in autocommit on a fresh connection.
* ``on_commit(fn)`` runs ``fn`` after the outermost block commits; it is
  dropped if the block (or the savepoint it was registered in) rolls back.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar, overload

from dorm.exceptions import TransactionManagementError

if TYPE_CHECKING:
    from types import TracebackType

    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection

__all__ = [
    "Atomic",
    "AsyncAtomic",
    "aatomic",
    "atomic",
    "current_transaction",
    "get_rollback",
    "in_atomic_block",
    "on_commit",
    "set_rollback",
]

logger: Final = logging.getLogger("dorm.transaction")
P = ParamSpec("P")
R = TypeVar("R")

_transactions: ContextVar[dict[str, Transaction] | None] = ContextVar("dorm_transactions", default=None)
_savepoint_counter = 0
_counter_lock = threading.Lock()


def _next_savepoint_name() -> str:
    global _savepoint_counter
    with _counter_lock:
        _savepoint_counter += 1
        return f"dorm_sp_{_savepoint_counter}"


class _Frame:
    """One block of a transaction.  Async frames also carry the lock that
    serialises the statements of the tasks running inside them."""

    __slots__ = ("savepoint", "callbacks_mark", "token", "parent", "closed", "frame_token", "_lock")

    def __init__(
        self, savepoint: str | None, callbacks_mark: int, token: Token[Any] | None, parent: _Frame | None = None
    ) -> None:
        self.savepoint = savepoint
        self.callbacks_mark = callbacks_mark
        self.token = token
        self.parent = parent
        self.closed = False
        self.frame_token: Token[Any] | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        lock = self._lock
        if lock is None:
            lock = self._lock = asyncio.Lock()
        return lock


#: The async block each context is in, per alias (tasks inherit it with the context).
_async_frames: ContextVar[dict[str, _Frame] | None] = ContextVar("dorm_async_frames", default=None)


def _push_frame(alias: str, frame: _Frame) -> Token[Any]:
    frames = dict(_async_frames.get() or {})
    frames[alias] = frame
    return _async_frames.set(frames)


def _open_frame(tx: Transaction) -> _Frame:
    """The innermost still-open block of ``tx`` that this context runs in.

    A task started inside a nested block that has since ended falls back to
    the enclosing block (the transaction itself is still open)."""
    frame = (_async_frames.get() or {}).get(tx.alias)
    if frame is None:
        return tx.frames[0]
    while frame.closed and frame.parent is not None:
        frame = frame.parent
    return frame


class Transaction:
    """The state of one open transaction on one alias (shared by nested blocks)."""

    __slots__ = ("alias", "backend", "connection", "is_async", "frames", "callbacks", "closed", "needs_rollback")

    def __init__(self, alias: str, backend: BaseDatabaseWrapper, connection: Any, is_async: bool) -> None:
        self.alias = alias
        self.backend = backend
        self.connection = connection
        self.is_async = is_async
        self.frames: list[_Frame] = []
        self.callbacks: list[Callable[[], Any]] = []
        self.closed = False
        self.needs_rollback = False

    def sync_connection(self) -> BaseConnection:
        if self.is_async:
            raise TransactionManagementError(
                f"A sync statement ran inside an aatomic() block on {self.alias!r}. "
                "Use the a* methods inside async transactions."
            )
        conn: BaseConnection = self.connection
        return conn

    def async_connection(self) -> BaseAsyncConnection:
        if not self.is_async:
            raise TransactionManagementError(
                f"An async statement ran inside a sync atomic() block on {self.alias!r}. "
                "Use `async with dorm.transaction.aatomic():` in async code."
            )
        conn: BaseAsyncConnection = self.connection
        return conn

    @asynccontextmanager
    async def statement_lock(self) -> AsyncIterator[None]:
        """Hold the connection for one statement of the calling task.

        The lock is the one of the innermost block the task runs in: the
        tasks inside one block take turns, and a nested block holds its
        parent's lock for its whole duration, so nobody outside it can slip
        a statement into its savepoint.  After acquiring, check
        :attr:`closed`: the transaction may have ended meanwhile.
        """
        async with _open_frame(self).lock:
            yield


def current_transaction(alias: str) -> Transaction | None:
    """The open transaction on ``alias`` in this thread/task, if any."""
    txs = _transactions.get()
    if txs is None:
        return None
    tx = txs.get(alias)
    if tx is None or tx.closed:
        return None
    return tx


def in_atomic_block(using: str | None = None) -> bool:
    """True inside an ``atomic()`` / ``aatomic()`` block on ``using``."""
    return current_transaction(using or "default") is not None


def _push(tx: Transaction) -> Token[Any]:
    txs = dict(_transactions.get() or {})
    txs[tx.alias] = tx
    return _transactions.set(txs)


def _backend(alias: str) -> BaseDatabaseWrapper:
    from dorm.db.connections import connections

    return connections[alias]


# --------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------


class Atomic:
    """``with atomic():`` / ``@atomic`` — see :func:`atomic`.  Stateless, so one
    instance may be used by many threads and recursively."""

    def __init__(self, using: str | None = None, savepoint: bool = True, durable: bool = False) -> None:
        self.using = using
        self.savepoint = savepoint
        self.durable = durable

    def __enter__(self) -> None:
        from dorm.db.executor import ensure_sync_allowed

        ensure_sync_allowed("atomic")
        alias = self.using or "default"
        tx = current_transaction(alias)
        if tx is None:
            backend = _backend(alias)
            conn = backend.acquire()
            try:
                conn.begin()
            except BaseException:
                backend.release(conn, broken=True)
                raise
            tx = Transaction(alias, backend, conn, is_async=False)
            tx.frames.append(_Frame(None, 0, _push(tx)))
            return
        if self.durable:
            raise TransactionManagementError(
                "A durable atomic block cannot be nested within another atomic block "
                f"(alias {alias!r}). Move the durable block out, or drop durable=True."
            )
        tx.sync_connection()
        savepoint = None
        if self.savepoint and tx.backend.features.supports_savepoints and not tx.needs_rollback:
            savepoint = _next_savepoint_name()
            tx.connection.savepoint(savepoint)
        tx.frames.append(_Frame(savepoint, len(tx.callbacks), None))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        alias = self.using or "default"
        tx = current_transaction(alias)
        assert tx is not None, "atomic() exit without a matching enter"
        frame = tx.frames.pop()
        conn = tx.connection
        if tx.frames:  # nested block
            _exit_nested_sync(tx, frame, exc)
            return
        tx.closed = True
        assert frame.token is not None
        _transactions.reset(frame.token)
        broken = False
        try:
            if exc is None and not tx.needs_rollback:
                try:
                    conn.commit()
                except BaseException:
                    broken = _rollback_quietly(conn)
                    raise
                _run_callbacks(tx.callbacks)
            else:
                if exc is None:
                    logger.warning("Rolling back %r: an error inside a nested block marked it for rollback.", alias)
                broken = _rollback_quietly(conn)
        finally:
            tx.backend.release(conn, broken=broken)


def _exit_nested_sync(tx: Transaction, frame: _Frame, exc: BaseException | None) -> None:
    conn = tx.connection
    if frame.savepoint is None:
        if exc is not None:
            tx.needs_rollback = True
            del tx.callbacks[frame.callbacks_mark :]
        return
    if exc is None:
        conn.release_savepoint(frame.savepoint)
    else:
        conn.rollback_to_savepoint(frame.savepoint)
        del tx.callbacks[frame.callbacks_mark :]


def _rollback_quietly(conn: Any) -> bool:
    """Roll back; returns True (connection broken) when even that failed."""
    try:
        conn.rollback()
    except Exception:
        logger.warning("Rollback failed; discarding the connection.", exc_info=True)
        return True
    return False


def _run_callbacks(callbacks: list[Callable[[], Any]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            logger.exception("on_commit callback %r failed", callback)


@overload
def atomic(using: Callable[P, R]) -> Callable[P, R]: ...
@overload
def atomic(using: str | None = None, savepoint: bool = True, durable: bool = False) -> _AtomicFactory: ...
def atomic(using: Any = None, savepoint: bool = True, durable: bool = False) -> Any:
    """A transaction block on ``using`` (default ``"default"``): context manager or decorator.

    ``with atomic():`` commits when the block exits normally and rolls back
    when it raises.  Nested blocks create savepoints.  ``durable=True``
    refuses to run nested inside another block (so the commit is real).
    """
    if callable(using):
        return _AtomicFactory(None, True, False)(using)
    return _AtomicFactory(using, savepoint, durable)


class _AtomicFactory(Atomic):
    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func):
            raise TypeError(f"@atomic cannot wrap the coroutine function {func.__qualname__}; use @aatomic.")

        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            with Atomic(self.using, self.savepoint, self.durable):
                return func(*args, **kwargs)

        return inner


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


class AsyncAtomic:
    """``async with aatomic():`` / ``@aatomic`` — see :func:`aatomic`."""

    def __init__(self, using: str | None = None, savepoint: bool = True, durable: bool = False) -> None:
        self.using = using
        self.savepoint = savepoint
        self.durable = durable

    async def __aenter__(self) -> None:
        alias = self.using or "default"
        tx = current_transaction(alias)
        if tx is None:
            backend = _backend(alias)
            conn = await backend.aacquire()
            try:
                await conn.begin()
            except BaseException:
                await asyncio.shield(backend.arelease(conn, broken=True))
                raise
            tx = Transaction(alias, backend, conn, is_async=True)
            frame = _Frame(None, 0, _push(tx))
            frame.frame_token = _push_frame(alias, frame)
            tx.frames.append(frame)
            return
        if self.durable:
            raise TransactionManagementError(
                "A durable atomic block cannot be nested within another atomic block "
                f"(alias {alias!r}). Move the durable block out, or drop durable=True."
            )
        tx.async_connection()
        parent = _open_frame(tx)
        await parent.lock.acquire()  # held for the whole nested block
        savepoint = None
        try:
            if self.savepoint and tx.backend.features.supports_savepoints and not tx.needs_rollback:
                savepoint = _next_savepoint_name()
                await tx.connection.savepoint(savepoint)
        except BaseException:
            parent.lock.release()
            raise
        frame = _Frame(savepoint, len(tx.callbacks), None, parent)
        frame.frame_token = _push_frame(alias, frame)
        tx.frames.append(frame)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        alias = self.using or "default"
        tx = current_transaction(alias)
        assert tx is not None, "aatomic() exit without a matching enter"
        frame = (_async_frames.get() or {}).get(alias) or tx.frames[-1]
        conn = tx.connection
        if frame.token is None:  # nested block
            parent = frame.parent
            assert parent is not None
            try:
                async with frame.lock:  # let statements of tasks inside the block finish
                    if frame.savepoint is None:
                        if exc is not None:
                            tx.needs_rollback = True
                            del tx.callbacks[frame.callbacks_mark :]
                    elif exc is None:
                        await conn.release_savepoint(frame.savepoint)
                    else:
                        await conn.rollback_to_savepoint(frame.savepoint)
                        del tx.callbacks[frame.callbacks_mark :]
            finally:
                frame.closed = True
                tx.frames.remove(frame)
                if frame.frame_token is not None:
                    _async_frames.reset(frame.frame_token)
                parent.lock.release()
            return
        frame.closed = True
        tx.frames.remove(frame)
        tx.closed = True
        assert frame.token is not None and frame.frame_token is not None
        _async_frames.reset(frame.frame_token)
        _transactions.reset(frame.token)
        await _finish_async(tx, exc)


async def _finish_async(tx: Transaction, exc: BaseException | None) -> None:
    """Commit or roll back, then release; shielded so cancellation cannot leave it half done."""

    async def finish() -> None:
        conn = tx.connection
        broken = False
        try:
            if exc is None and not tx.needs_rollback:
                try:
                    await conn.commit()
                except BaseException:
                    broken = await _arollback_quietly(conn)
                    raise
            else:
                broken = await _arollback_quietly(conn)
        finally:
            await tx.backend.arelease(conn, broken=broken or isinstance(exc, asyncio.CancelledError))

    task = asyncio.ensure_future(finish())
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    task.result()
    if exc is None and not tx.needs_rollback:
        for callback in tx.callbacks:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("on_commit callback %r failed", callback)
    if cancelled:
        raise asyncio.CancelledError


async def _arollback_quietly(conn: Any) -> bool:
    try:
        await conn.rollback()
    except Exception:
        logger.warning("Rollback failed; discarding the connection.", exc_info=True)
        return True
    return False


class _AsyncAtomicFactory(AsyncAtomic):
    def __call__(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(func)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            async with AsyncAtomic(self.using, self.savepoint, self.durable):
                return await func(*args, **kwargs)

        return inner


@overload
def aatomic(using: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...
@overload
def aatomic(using: str | None = None, savepoint: bool = True, durable: bool = False) -> _AsyncAtomicFactory: ...
def aatomic(using: Any = None, savepoint: bool = True, durable: bool = False) -> Any:
    """Async twin of :func:`atomic`: ``async with aatomic():`` or ``@aatomic`` on a coroutine function."""
    if callable(using):
        return _AsyncAtomicFactory(None, True, False)(using)
    return _AsyncAtomicFactory(using, savepoint, durable)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def on_commit(callback: Callable[[], Any], using: str | None = None) -> None:
    """Run ``callback`` after the current transaction on ``using`` commits.

    Outside a transaction it runs immediately.  In ``aatomic()`` blocks a
    callback may return an awaitable, which is awaited.
    """
    tx = current_transaction(using or "default")
    if tx is None:
        callback()
    else:
        tx.callbacks.append(callback)


def set_rollback(rollback: bool, using: str | None = None) -> None:
    """Mark the current outermost block to roll back at its end (or unmark it)."""
    tx = current_transaction(using or "default")
    if tx is None:
        raise TransactionManagementError("set_rollback() outside an atomic() block.")
    tx.needs_rollback = rollback


def get_rollback(using: str | None = None) -> bool:
    tx = current_transaction(using or "default")
    return bool(tx and tx.needs_rollback)
