"""Statement timeouts and cancellation: interrupted on SQLite, connection returned clean."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator

import pytest

import dorm
from dorm.backends.base.statement import Statement
from dorm.db import executor
from dorm.plugins import Kernel, hookimpl
from dorm.transaction import aatomic, atomic

#: Counts to a billion: runs for many seconds unless interrupted.
SLOW_SQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"


class TimeoutPlugin:
    """A statement wrapper that sets a timeout, as a budget would."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms

    @hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        statement.timeout_ms = self.timeout_ms
        yield


def test_timeout_ms_interrupts_the_statement(db: str, kernel: Kernel) -> None:
    kernel.register(TimeoutPlugin(50))
    started = time.perf_counter()
    with pytest.raises(dorm.QueryCanceledError, match="longer than its timeout of 50 ms") as info:
        dorm.get_connection().execute(SLOW_SQL)
    assert time.perf_counter() - started < 5
    assert isinstance(info.value, dorm.OperationalError)
    # The connection works afterwards, and fast statements under the timeout are fine.
    assert dorm.get_connection().execute("SELECT 1") == [(1,)]


async def test_timeout_ms_on_the_async_path(db: str, kernel: Kernel) -> None:
    kernel.register(TimeoutPlugin(50))
    with pytest.raises(dorm.QueryCanceledError, match="50 ms"):
        await dorm.get_connection().aexecute(SLOW_SQL)
    assert await dorm.get_connection().aexecute("SELECT 2") == [(2,)]
    assert dorm.pool_stats()["in_use"] == 0


def test_timeout_inside_atomic_rolls_back_the_block(db: str, kernel: Kernel) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.QueryCanceledError):
        with atomic():
            conn.execute("INSERT INTO item (name) VALUES (%s)", ["x"])
            kernel.register(TimeoutPlugin(30), name="timeout")
            conn.execute(SLOW_SQL)
    kernel.unregister(name="timeout")
    assert conn.execute("SELECT count(*) FROM item") == [(0,)]


def test_cancel_from_another_thread(db: str) -> None:
    wrapper = dorm.connections["default"]
    conn = wrapper.acquire()
    threading.Timer(0.05, conn.cancel).start()
    with pytest.raises(dorm.QueryCanceledError, match="interrupted it on request"):
        executor.run(Statement("default", SLOW_SQL))
    assert dorm.get_connection().execute("SELECT 1") == [(1,)]


async def test_cancelled_task_interrupts_its_query_and_returns_the_connection(db: str) -> None:
    task = asyncio.create_task(dorm.get_connection().aexecute(SLOW_SQL))
    await asyncio.sleep(0.05)
    assert dorm.pool_stats()["in_use"] == 1
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 5  # interrupted, not waited out
    stats = dorm.pool_stats()
    assert stats["in_use"] == 0 and stats["idle"] == stats["size"] == 1
    assert await dorm.get_connection().aexecute("SELECT 3") == [(3,)]


async def test_cancelled_task_inside_aatomic_rolls_back(db: str) -> None:
    conn = dorm.get_connection()

    async def work() -> None:
        async with aatomic():
            await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["doomed"])
            await conn.aexecute(SLOW_SQL)

    task = asyncio.create_task(work())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.aexecute("SELECT count(*) FROM item") == [(0,)]
    stats = dorm.pool_stats()
    assert stats["in_use"] == 0
    # The connection that ran the block is clean: a fresh block on it works.
    async with aatomic():
        await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["fine"])
    assert await conn.aexecute("SELECT name FROM item") == [("fine",)]


async def test_cancellation_while_writing_in_autocommit_leaves_no_transaction(db: str) -> None:
    conn = dorm.get_connection()
    slow_insert = (
        "INSERT INTO item (name) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 1000000000) SELECT 'n' || x FROM c"
    )
    task = asyncio.create_task(conn.aexecute(slow_insert))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.aexecute("SELECT count(*) FROM item") == [(0,)]
    # Another writer is not blocked by a leftover lock.
    await asyncio.to_thread(lambda: dorm.get_connection().execute("INSERT INTO item (name) VALUES ('t')"))
    assert await conn.aexecute("SELECT count(*) FROM item") == [(1,)]


async def test_cancellation_during_release_waits_for_it(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The release finishes even when a cancellation arrives meanwhile; then CancelledError propagates."""
    pool = dorm.connections["default"].pool  # type: ignore[attr-defined]
    original = pool.release
    releasing = asyncio.Event()

    async def slow_release(conn: object, *, broken: bool) -> None:
        releasing.set()
        await asyncio.sleep(0.05)
        await original(conn, broken=broken)

    monkeypatch.setattr(pool, "release", slow_release)
    task = asyncio.create_task(dorm.get_connection().aexecute("SELECT 1"))
    await releasing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert dorm.pool_stats()["in_use"] == 0
