"""The psycopg_pool internals dorm_postgres.pools builds on are still there (an upgrade fails here first)."""

from __future__ import annotations

import inspect

from psycopg_pool import AsyncConnectionPool, ConnectionPool
from psycopg_pool.pool_async import StopWorker


def test_connect_hooks_keep_their_shape() -> None:
    # DormSyncPool/DormAsyncPool override _connect(timeout) to remember the last connection error
    for cls in (ConnectionPool, AsyncConnectionPool):
        params = list(inspect.signature(cls._connect).parameters)
        assert params[:2] == ["self", "timeout"], (cls, params)
    assert inspect.iscoroutinefunction(AsyncConnectionPool._connect)


def test_worker_and_its_stop_marker() -> None:
    # DormAsyncPool.worker replaces the maintenance worker so a cancelled loop can end
    assert isinstance(inspect.getattr_static(AsyncConnectionPool, "worker"), classmethod)
    assert list(inspect.signature(AsyncConnectionPool.worker).parameters) == ["q"]
    assert isinstance(StopWorker, type)


def test_idle_deque_and_closed_flag_exist() -> None:
    # discard_async_pool() closes a dead loop's idle connections through these
    pool = AsyncConnectionPool("postgresql://unused", open=False)
    assert hasattr(pool, "_pool") and hasattr(pool._pool, "clear")
    assert pool._closed is True  # not opened yet
