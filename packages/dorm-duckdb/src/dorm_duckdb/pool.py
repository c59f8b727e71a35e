"""The pool of async DuckDB connections of one alias (``MAX_POOL_SIZE``, ``POOL_TIMEOUT``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dorm.backends.threaded import WorkerThreadPool
from dorm_duckdb.async_connection import DuckDBAsyncConnection

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["AsyncPool"]


class AsyncPool(WorkerThreadPool):
    """At most ``max_size`` async DuckDB connections; checkout beyond it waits ``timeout`` seconds."""

    def __init__(self, wrapper: BaseDatabaseWrapper, max_size: int, timeout: float) -> None:
        super().__init__(wrapper, max_size, timeout, connection_class=DuckDBAsyncConnection)
