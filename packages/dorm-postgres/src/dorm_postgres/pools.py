"""psycopg_pool pools for one alias: one sync pool, one async pool per event loop.

The pools here remember the last error they met while opening a
connection (psycopg_pool only logs it) so that a checkout timing out can
say *why* it waited: ``too many clients already`` from the server reaches
the user inside :class:`dorm.PoolTimeout`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from time import monotonic
from typing import Any, Final

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from psycopg_pool.pool_async import StopWorker

__all__ = ["DormAsyncPool", "DormSyncPool", "discard_async_pool", "pool_numbers"]

logger: Final = logging.getLogger("dorm.db")


class DormSyncPool(ConnectionPool[psycopg.Connection[Any]]):
    """A ``ConnectionPool`` that keeps the last connection error it saw and counts checkouts."""

    last_connect_error: BaseException | None = None
    last_connect_error_at: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked_out = 0
        self._count_lock = threading.Lock()

    def count_checkout(self, delta: int) -> None:
        with self._count_lock:
            self.checked_out += delta

    def _connect(self, timeout: float | None = None) -> psycopg.Connection[Any]:
        try:
            conn = super()._connect(timeout)
        except Exception as error:
            self.last_connect_error = error
            self.last_connect_error_at = monotonic()
            raise
        self.last_connect_error = None
        return conn


class DormAsyncPool(AsyncConnectionPool[psycopg.AsyncConnection[Any]]):
    """An ``AsyncConnectionPool`` bound to one event loop, keeping the last connection error."""

    last_connect_error: BaseException | None = None
    last_connect_error_at: float = 0.0
    loop: asyncio.AbstractEventLoop | None = None
    checked_out: int = 0  # one loop, one thread: a plain int is enough

    def count_checkout(self, delta: int) -> None:
        self.checked_out += delta

    @classmethod
    async def worker(cls, q: Any) -> None:
        """psycopg_pool's maintenance worker, except that it ends when its task is cancelled.

        The stock worker (and its connection attempts) swallow ``CancelledError``,
        so a pool that was not closed before its loop ended (``asyncio.run()``
        returning, with a reconnection in flight) made the loop's shutdown wait
        for ever.  Here a pending cancellation ends the worker after its job.
        """
        me = asyncio.current_task()
        while True:
            job = await q.get()
            if isinstance(job, StopWorker):
                return
            try:
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a maintenance job must never kill the worker
                logger.warning("pool maintenance job %s failed: %s: %s", job, type(error).__name__, error)
            if me is not None and me.cancelling():
                raise asyncio.CancelledError

    async def _connect(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:
        try:
            conn = await super()._connect(timeout)
        except Exception as error:
            self.last_connect_error = error
            self.last_connect_error_at = monotonic()
            raise
        self.last_connect_error = None
        return conn


def pool_numbers(pool: ConnectionPool[Any] | AsyncConnectionPool[Any]) -> dict[str, Any]:
    """The pool's counters and gauges plus ``in_use`` and the last connection error."""
    stats: dict[str, Any] = dict(pool.get_stats())
    stats["in_use"] = getattr(pool, "checked_out", stats.get("pool_size", 0) - stats.get("pool_available", 0))
    stats["closed"] = bool(pool.closed)
    error = getattr(pool, "last_connect_error", None)
    stats["last_connect_error"] = None if error is None else str(error).strip()
    return stats


def discard_async_pool(pool: AsyncConnectionPool[Any]) -> None:
    """Forget a pool whose event loop is gone: close its idle sockets synchronously.

    Its workers died with the loop, so ``close()`` cannot be awaited any
    more; marking it closed keeps its finaliser from touching the dead loop.
    """
    pool._closed = True  # noqa: SLF001 - the pool's own flag; there is no public way on a dead loop
    idle: Any = getattr(pool, "_pool", None) or []
    for conn in list(idle):
        try:
            conn.pgconn.finish()
        except Exception:  # a socket already gone is what we want anyway
            logger.debug("closing a connection of a dead loop's pool failed", exc_info=True)
    if hasattr(idle, "clear"):
        idle.clear()
