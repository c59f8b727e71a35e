"""Async connections: the ``duckdb`` calls of each connection run on ONE worker thread.

A job is ``(function, args, future, loop)`` on a queue; the worker runs it
and hands the result to the loop with ``loop.call_soon_threadsafe``.  The
connection is bound to no event loop (each call carries its own), so one
pool serves every loop of the process.

Cancellation: when the awaiting task is cancelled, the running statement is
interrupted (``DuckDBPyConnection.interrupt``), the task waits, uncancellably,
until the worker is done and the connection is clean (an implicit
transaction rolled back), then ``CancelledError`` propagates.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from typing import TYPE_CHECKING, Any, Final

from dorm.backends.base.connection import BaseAsyncConnection
from dorm.backends.base.statement import Statement
from dorm_duckdb.connection import DuckDBConnection

if TYPE_CHECKING:
    from collections.abc import Callable

    from dorm_duckdb.base import DatabaseWrapper

__all__ = ["DuckDBAsyncConnection"]

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


class DuckDBAsyncConnection(BaseAsyncConnection):
    """An async connection whose driver calls all run on its own worker thread."""

    def __init__(self, wrapper: DatabaseWrapper) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=_work, args=(self._jobs,), name=f"dorm-duckdb-{wrapper.alias}-{next(_numbers)}", daemon=True
        )
        self._thread.start()
        self.inner: DuckDBConnection | None = None
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
        wrapper: DatabaseWrapper = self.wrapper  # type: ignore[assignment]
        self.inner = await self._call(wrapper.open_connection, False)
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

    def _inner(self) -> DuckDBConnection:
        inner = self.inner
        if inner is None or inner.closed:
            from dorm.exceptions import InterfaceError

            raise InterfaceError(f"The DuckDB async connection of alias {self.wrapper.alias!r} is closed.")
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
