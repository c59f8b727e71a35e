"""A small pool of async connections per alias, usable from any event loop.

Waiters are futures of their own loop, woken with ``call_soon_threadsafe``;
the bookkeeping is under a ``threading.Lock``, so tasks of several loops
(and threads) share one pool safely.
"""

from __future__ import annotations

import asyncio
from collections import deque
from threading import Lock
from typing import TYPE_CHECKING, Any

from dorm.exceptions import PoolTimeout
from dorm_duckdb.async_connection import DuckDBAsyncConnection

if TYPE_CHECKING:
    from dorm_duckdb.base import DatabaseWrapper

__all__ = ["AsyncPool"]


class AsyncPool:
    """At most ``max_size`` async connections; checkout beyond it waits ``timeout`` seconds."""

    def __init__(self, wrapper: DatabaseWrapper, max_size: int, timeout: float) -> None:
        self.wrapper = wrapper
        self.max_size = max_size
        self.timeout = timeout
        self._lock = Lock()
        self._idle: list[DuckDBAsyncConnection] = []
        self._waiters: deque[asyncio.Future[DuckDBAsyncConnection]] = deque()
        self._size = 0
        self._in_use = 0
        self._closed = False
        self.last_error: BaseException | None = None
        self._opening: set[asyncio.Task[None]] = set()

    # -- checkout ---------------------------------------------------------------

    async def acquire(self) -> DuckDBAsyncConnection:
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

    async def _open(self) -> DuckDBAsyncConnection:
        conn = DuckDBAsyncConnection(self.wrapper)
        try:
            await conn.open()
        except BaseException as error:
            conn.close_sync()
            self.last_error = error
            self._forget_slot()
            raise
        return conn

    async def _wait(self, waiter: asyncio.Future[DuckDBAsyncConnection]) -> DuckDBAsyncConnection:
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

    def _discard_waiter(self, waiter: asyncio.Future[DuckDBAsyncConnection]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _timeout_message(self, in_use: int, size: int, waiting: int) -> str:
        alias = self.wrapper.alias
        text = (
            f"pool timeout: no DuckDB connection of alias {alias!r} became free within "
            f"POOL_TIMEOUT={self.timeout:g} s ({in_use} of MAX_POOL_SIZE={self.max_size} in use, "
            f"{size} open, {waiting} other tasks waiting). Usually a connection is held too long "
            "(an aatomic() block awaiting something slow, a leaked task) or a query runs too long; "
            f"check dorm.pool_stats({alias!r}), or raise MAX_POOL_SIZE if the load is real."
        )
        if self.last_error is not None:
            text += f" Last connection error: {self.last_error}"
        return text

    # -- return -----------------------------------------------------------------

    async def release(self, conn: DuckDBAsyncConnection, *, broken: bool) -> None:
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

    def _put_back(self, conn: DuckDBAsyncConnection) -> None:
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

    def _hand_over(self, waiter: asyncio.Future[DuckDBAsyncConnection], conn: DuckDBAsyncConnection) -> None:
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

    def _open_for(self, waiter: asyncio.Future[DuckDBAsyncConnection]) -> None:
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
