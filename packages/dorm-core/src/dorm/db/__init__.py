"""Connections, routing and statement execution (the core's I/O edge)."""

from dorm.db.connections import (
    DEFAULT_DB_ALIAS,
    RawConnection,
    close_all,
    close_all_async,
    connections,
    get_connection,
    pool_stats,
)
from dorm.db.router import router

__all__ = [
    "DEFAULT_DB_ALIAS",
    "RawConnection",
    "close_all",
    "close_all_async",
    "connections",
    "get_connection",
    "pool_stats",
    "router",
]
