"""Async support for drivers without an async API (sqlite3, duckdb, ...).

Each async connection owns ONE worker thread that runs every driver call of
that connection: a job is ``(function, args, future, loop)`` on a queue; the
worker runs it and hands the result back with ``loop.call_soon_threadsafe``
(no thread-pool round trip per query).  The connection is bound to no event
loop (each call carries its own), so one pool serves every loop of the
process.

Cancellation: when the awaiting task is cancelled, the running statement is
interrupted (``ThreadBoundConnection.cancel``), the task waits, uncancellably,
until the worker is done and the connection is clean (``reset()`` rolls back
an implicit transaction), then ``CancelledError`` propagates.

A backend uses it by giving its wrapper an ``open_connection(track)`` method
returning its sync connection (a :class:`ThreadBoundConnection`) and
handing out connections from a :class:`WorkerThreadPool`; see dorm-sqlite
and dorm-duckdb.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import weakref
from collections import deque
from threading import Lock
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, cast

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm.backends.base.statement import Statement
from dorm.exceptions import PoolTimeout

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ThreadBoundConnection",
    "ThreadedConnection",
    "ThreadedBackend",
    "ThreadedDatabaseWrapper",
    "WorkerThreadAsyncConnection",
    "WorkerThreadPool",
]


class ThreadBoundConnection(Protocol):
    """What the worker thread drives: the backend's sync connection.

    Besides the :class:`~dorm.backends.base.connection.BaseConnection` methods
    it has ``closed``, ``reset()`` (roll back whatever a cancelled statement
    left open) and a thread-safe ``cancel()`` (interrupt the running statement).
    """

    raw: Any
    closed: bool
    in_transaction: bool

    def execute(self, statement: Statement) -> None: ...
    def execute_script(self, sql: str) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def savepoint(self, name: str) -> None: ...
    def release_savepoint(self, name: str) -> None: ...
    def rollback_to_savepoint(self, name: str) -> None: ...
    def reset(self) -> None: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


class ThreadedConnection(BaseConnection):
    """A convenient base for :class:`SyncConnection`: a DB-API connection with ``interrupt()``.

    Keeps ``closed`` and ``spare`` (an extra connection of its thread, used
    while the thread's own one is in another context's transaction), cancels
    the running statement with the driver's ``interrupt()`` (safe from any
    thread) and closes quietly.  dorm-sqlite and dorm-duckdb build on it.
    """

    #: the driver's error class(es): an error while closing is ignored
    driver_errors: ClassVar[type[BaseException] | tuple[type[BaseException], ...]] = Exception

    def __init__(self, wrapper: BaseDatabaseWrapper, raw: Any) -> None:
        super().__init__(wrapper, raw)
        self.closed = False
        self.spare = False

    def cancel(self) -> None:
        """Interrupt the running statement (safe from any thread)."""
        if not self.closed:
            self.raw.interrupt()

    def is_usable(self) -> bool:
        return not self.closed

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.raw.close()
        except self.driver_errors:
            pass


class ThreadedBackend(Protocol):
    """The wrapper side: opens a sync connection on the calling (worker) thread."""

    def open_connection(self, track: bool = True) -> ThreadBoundConnection: ...


_Job = tuple[Any, tuple[Any, ...], "asyncio.Future[Any] | None", "asyncio.AbstractEventLoop | None"]
_STOP: Final = None
_numbers = itertools.count(1)


def _deliver(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _work(jobs: queue.SimpleQueue[_Job | None]) -> None:
    get = jobs.get
    while True:
        job = get()
        if job is None:
            return
        func, args, future, loop = job
        try:
            result = func(*args)
        except BaseException as error:  # delivered to the awaiting task
            if loop is not None and future is not None:
                try:
                    loop.call_soon_threadsafe(_fail, future, error)
                except RuntimeError:  # the loop is closed: nobody is waiting
                    pass
        else:
            if loop is not None and future is not None:
                try:
                    loop.call_soon_threadsafe(_deliver, future, result)
                except RuntimeError:
                    pass
        del job, func, args, future, loop


class WorkerThreadAsyncConnection(BaseAsyncConnection):
    """An async connection whose driver calls all run on its own worker thread.

    It drives a sync :class:`ThreadBoundConnection` opened on that thread by
    ``wrapper.open_connection(False)``.
    """

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=_work,
            args=(self._jobs,),
            name=f"dorm-{wrapper.vendor}-{wrapper.alias}-{next(_numbers)}",
            daemon=True,
        )
        self._thread.start()
        self.inner: ThreadBoundConnection | None = None
        super().__init__(wrapper, None)
        self.closed = False

    @property
    def in_transaction(self) -> bool:
        inner = self.inner
        return inner is not None and inner.in_transaction

    @in_transaction.setter
    def in_transaction(self, value: bool) -> None:
        if self.inner is not None:
            self.inner.in_transaction = value

    async def open(self) -> None:
        """Open the driver connection on the worker thread (where it will be used)."""
        backend = cast(ThreadedBackend, self.wrapper)
        self.inner = await self._call(backend.open_connection, False)
        self.raw = self.inner.raw

    # -- the worker hand-off ----------------------------------------------------

    async def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((func, args, future, loop))
        try:
            return await future
        except asyncio.CancelledError:
            if future.cancelled():
                await self._settle_after_cancel(loop)
            raise

    async def _settle_after_cancel(self, loop: asyncio.AbstractEventLoop) -> None:
        """Interrupt the cancelled job, then wait (uncancellably) for the worker to clean up."""
        inner = self.inner
        if inner is not None:
            inner.cancel()
        done = loop.create_future()
        # FIFO: this runs after the interrupted job has returned.
        self._jobs.put((self._reset_after_cancel, (), done, loop))
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                continue

    def _reset_after_cancel(self) -> None:
        inner = self.inner
        if inner is not None and not inner.in_transaction:
            inner.reset()  # roll back whatever the interrupted statement left open

    # -- statements -------------------------------------------------------------

    async def execute(self, statement: Statement) -> None:
        await self._call(self._inner().execute, statement)

    async def execute_script(self, sql: str) -> None:
        await self._call(self._inner().execute_script, sql)

    async def begin(self) -> None:
        await self._call(self._inner().begin)

    async def commit(self) -> None:
        await self._call(self._inner().commit)

    async def rollback(self) -> None:
        await self._call(self._inner().rollback)

    async def savepoint(self, name: str) -> None:
        await self._call(self._inner().savepoint, name)

    async def release_savepoint(self, name: str) -> None:
        await self._call(self._inner().release_savepoint, name)

    async def rollback_to_savepoint(self, name: str) -> None:
        await self._call(self._inner().rollback_to_savepoint, name)

    async def reset(self) -> None:
        """Roll back anything left open (used when a connection comes back broken)."""
        await self._call(self._inner().reset)

    async def cancel(self) -> None:
        if self.inner is not None:
            self.inner.cancel()

    def _inner(self) -> ThreadBoundConnection:
        inner = self.inner
        if inner is None or inner.closed:
            from dorm.exceptions import InterfaceError

            raise InterfaceError(
                f"The {self.wrapper.display_name} async connection of alias {self.wrapper.alias!r} is closed."
            )
        return inner

    # -- lifecycle --------------------------------------------------------------

    def is_usable(self) -> bool:
        return not self.closed and self.inner is not None and not self.inner.closed

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._jobs.put((self._close_inner, (), done, loop))
        self._jobs.put(_STOP)
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                continue

    def close_sync(self) -> None:
        """Close from sync code (``dorm.close_all``): stop the worker and wait for it."""
        if self.closed:
            return
        self.closed = True
        self._jobs.put((self._close_inner, (), None, None))
        self._jobs.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10.0)

    def _close_inner(self) -> None:
        if self.inner is not None:
            self.inner.close()


class WorkerThreadPool:
    """At most ``max_size`` async connections; checkout beyond it waits ``timeout`` seconds.

    Waiters are futures of their own loop, woken with ``call_soon_threadsafe``;
    the bookkeeping is under a ``threading.Lock``, so tasks of several loops
    (and threads) share one pool safely.  Raises ``dorm.PoolTimeout``.
    """

    def __init__(
        self,
        wrapper: BaseDatabaseWrapper,
        max_size: int,
        timeout: float,
        connection_class: type[WorkerThreadAsyncConnection] = WorkerThreadAsyncConnection,
    ) -> None:
        self.wrapper = wrapper
        self.connection_class = connection_class
        self.max_size = max_size
        self.timeout = timeout
        self._lock = Lock()
        self._idle: list[WorkerThreadAsyncConnection] = []
        self._waiters: deque[asyncio.Future[WorkerThreadAsyncConnection]] = deque()
        self._size = 0
        self._in_use = 0
        self._closed = False
        self.last_error: BaseException | None = None
        self._opening: set[asyncio.Task[None]] = set()

    # -- checkout ---------------------------------------------------------------

    async def acquire(self) -> WorkerThreadAsyncConnection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if conn.is_usable():
                    self._in_use += 1
                    return conn
                self._size -= 1
            self._closed = False
            if self._size < self.max_size:
                self._size += 1
                self._in_use += 1
                waiter = None
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
        if waiter is None:
            return await self._open()
        return await self._wait(waiter)

    async def _open(self) -> WorkerThreadAsyncConnection:
        conn = self.connection_class(self.wrapper)
        try:
            await conn.open()
        except BaseException as error:
            conn.close_sync()
            self.last_error = error
            self._forget_slot()
            raise
        return conn

    async def _wait(self, waiter: asyncio.Future[WorkerThreadAsyncConnection]) -> WorkerThreadAsyncConnection:
        try:
            async with asyncio.timeout(self.timeout):
                return await waiter
        except TimeoutError:
            with self._lock:
                self._discard_waiter(waiter)
                in_use, size, waiting = self._in_use, self._size, len(self._waiters)
            raise PoolTimeout(self._timeout_message(in_use, size, waiting)) from None
        except asyncio.CancelledError:
            with self._lock:
                self._discard_waiter(waiter)
            if waiter.done() and not waiter.cancelled():
                self._put_back(waiter.result())  # handed over just as we were cancelled
            raise

    def _discard_waiter(self, waiter: asyncio.Future[WorkerThreadAsyncConnection]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _timeout_message(self, in_use: int, size: int, waiting: int) -> str:
        alias = self.wrapper.alias
        text = (
            f"pool timeout: no {self.wrapper.display_name} connection of alias {alias!r} became free within "
            f"POOL_TIMEOUT={self.timeout:g} s ({in_use} of MAX_POOL_SIZE={self.max_size} in use, "
            f"{size} open, {waiting} other tasks waiting). Usually a connection is held too long "
            "(an aatomic() block awaiting something slow, a leaked task) or a query runs too long; "
            f"check dorm.pool_stats({alias!r}), or raise MAX_POOL_SIZE if the load is real."
        )
        if self.last_error is not None:
            text += f" Last connection error: {self.last_error}"
        return text

    # -- return -----------------------------------------------------------------

    async def release(self, conn: WorkerThreadAsyncConnection, *, broken: bool) -> None:
        if broken and conn.is_usable():
            try:
                await conn.reset()
            except Exception:
                await conn.close()
        if not conn.is_usable():
            if not conn.closed:
                await conn.close()
            self._forget_slot(in_use=True)
            return
        self._put_back(conn)

    def _put_back(self, conn: WorkerThreadAsyncConnection) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    # The conn stays "in use": ownership moves to the waiter.
                    waiter.get_loop().call_soon_threadsafe(self._hand_over, waiter, conn)
                    return
            self._in_use -= 1
            if self._closed:
                self._size -= 1
                close = True
            else:
                self._idle.append(conn)
                close = False
        if close:
            conn.close_sync()

    def _hand_over(
        self, waiter: asyncio.Future[WorkerThreadAsyncConnection], conn: WorkerThreadAsyncConnection
    ) -> None:
        if waiter.done():  # the waiter timed out or was cancelled meanwhile
            self._put_back(conn)
        else:
            waiter.set_result(conn)

    def _forget_slot(self, *, in_use: bool = True) -> None:
        """A checked-out slot is gone (open failed, or the connection broke): let a waiter open anew."""
        with self._lock:
            self._size -= 1
            if in_use:
                self._in_use -= 1
            waiter = None
            while self._waiters:
                candidate = self._waiters.popleft()
                if not candidate.done():
                    waiter = candidate
                    self._size += 1
                    self._in_use += 1
                    break
        if waiter is not None:
            waiter.get_loop().call_soon_threadsafe(self._open_for, waiter)

    def _open_for(self, waiter: asyncio.Future[WorkerThreadAsyncConnection]) -> None:
        async def open_and_hand_over() -> None:
            try:
                conn = await self._open()
            except BaseException as error:
                if not waiter.done():
                    waiter.set_exception(error)
                return
            self._hand_over(waiter, conn)

        task = waiter.get_loop().create_task(open_and_hand_over())
        self._opening.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._opening.discard)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Close idle connections now; connections in use close when they come back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._closed = self._in_use > 0
        for conn in idle:
            conn.close_sync()

    async def aclose(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._closed = self._in_use > 0
        for conn in idle:
            await conn.close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "size": self._size,
                "in_use": self._in_use,
                "idle": len(self._idle),
                "waiting": sum(1 for w in self._waiters if not w.done()),
                "max_size": self.max_size,
                "timeout": self.timeout,
            }


class ThreadedDatabaseWrapper(BaseDatabaseWrapper):
    """A backend wrapper for drivers without an async API: the shared checkout logic.

    Sync: one connection per thread (opened lazily; a thread that already
    holds its connection in a transaction of another context gets a spare).
    Async: a :class:`WorkerThreadPool` of :attr:`async_connection_class`
    connections.  Subclasses implement :meth:`open_connection` (it returns
    their sync connection, which has ``spare``, ``closed``,
    ``in_transaction``, ``reset()``) and may extend :meth:`close_resources`
    to close what their connections share (an in-memory anchor, a parent).
    """

    async_connection_class: ClassVar[type[WorkerThreadAsyncConnection]] = WorkerThreadAsyncConnection

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sync_connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self.pool = WorkerThreadPool(
            self,
            int(settings_dict.get("MAX_POOL_SIZE", 10)),
            float(settings_dict.get("POOL_TIMEOUT", 30.0)),
            connection_class=self.async_connection_class,
        )

    def open_connection(self, track: bool = True) -> Any:
        """Open a sync connection on the calling thread; ``track`` registers it for :meth:`close`."""
        raise NotImplementedError

    def track(self, connection: Any) -> None:
        """Register a sync connection so :meth:`close` closes it."""
        with self._lock:  # a WeakSet is not safe to grow while close() iterates it
            self._sync_connections.add(connection)

    # -- sync checkout ----------------------------------------------------------

    def acquire(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.open_connection()
        elif conn.in_transaction:
            # Same thread, other context (a transaction belongs to its context): use a spare.
            return self._spare()
        return conn

    def _spare(self) -> Any:
        spares: list[Any] = self._local.__dict__.setdefault("spares", [])
        while spares:
            conn = spares.pop()
            if not conn.closed:
                return conn
        conn = self.open_connection()
        conn.spare = True
        return conn

    def release(self, connection: Any, *, broken: bool = False) -> None:
        if broken or connection.in_transaction:
            connection.reset()
        if connection.spare and not connection.closed:
            self._local.__dict__.setdefault("spares", []).append(connection)

    # -- async checkout ---------------------------------------------------------

    async def aacquire(self) -> BaseAsyncConnection:
        return await self.pool.acquire()

    async def arelease(self, connection: BaseAsyncConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, WorkerThreadAsyncConnection)
        await self.pool.release(connection, broken=broken or connection.in_transaction)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Close every thread's connection and the idle async ones."""
        self.pool.close()
        self.close_resources()

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.close_resources()

    def close_resources(self) -> bool:
        """Close the sync connections not in a transaction; True when some were busy."""
        with self._lock:
            conns = list(self._sync_connections)
        busy = False
        for conn in conns:
            if conn.in_transaction:
                busy = True
            else:
                conn.close()
        return busy

    def pool_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"status": "ok", "alias": self.alias, "vendor": self.vendor}
        stats.update(self.pool.stats())
        with self._lock:
            conns = list(self._sync_connections)
        stats["thread_connections"] = sum(1 for conn in conns if not conn.closed and not conn.spare)
        return stats
