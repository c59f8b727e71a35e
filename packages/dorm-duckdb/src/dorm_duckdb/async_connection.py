"""Async connections for DuckDB: each runs the ``duckdb`` calls of one connection on
its own worker thread (the core's shared mechanism, ``dorm.backends.threaded``).

DuckDB has no async API, so this is the SPI's recommended shape: no
thread-pool round trip per query, cancellation interrupts the statement.
"""

from __future__ import annotations

from dorm.backends.threaded import WorkerThreadAsyncConnection

__all__ = ["DuckDBAsyncConnection"]


class DuckDBAsyncConnection(WorkerThreadAsyncConnection):
    """An async DuckDB connection; its driver calls all run on its own worker thread."""
