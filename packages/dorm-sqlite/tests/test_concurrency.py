"""Many threads and tasks on one alias: writers queue on the lock, nobody sees "database is locked"."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import dorm
from dorm.transaction import aatomic, atomic

THREADS = 8
ROWS = 40


def _write(thread_no: int, in_transaction: bool) -> None:
    conn = dorm.get_connection()
    for i in range(ROWS):
        name = f"{thread_no}-{i}-{in_transaction}"
        if in_transaction:
            with atomic():
                # read, then write: with a deferred BEGIN this upgrade would fail fast
                (count,) = conn.execute("SELECT count(*) FROM item")[0]
                conn.execute("INSERT INTO item (name, qty) VALUES (%s, %s)", [name, count])
        else:
            conn.execute("INSERT INTO item (name) VALUES (%s)", [name])
            conn.execute("UPDATE item SET qty = qty + 1 WHERE name = %s", [name])


@pytest.mark.parametrize("in_transaction", [True, False], ids=["atomic", "autocommit"])
def test_eight_threads_write_concurrently(db: str, in_transaction: bool) -> None:
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        barrier.wait()
        _write(n, in_transaction)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker, n) for n in range(THREADS)]:
            future.result()  # re-raises any error, "database is locked" included
    assert dorm.get_connection().execute("SELECT count(*) FROM item") == [(THREADS * ROWS,)]


def test_threads_mixing_atomic_and_autocommit(db: str) -> None:
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        barrier.wait()
        _write(n, in_transaction=n % 2 == 0)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    errors: list[BaseException] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        errors.append(args.exc_value)  # type: ignore[arg-type]

    old_hook, threading.excepthook = threading.excepthook, hook
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        threading.excepthook = old_hook
    assert errors == []
    assert dorm.get_connection().execute("SELECT count(*) FROM item") == [(THREADS * ROWS,)]


async def test_many_tasks_and_threads_share_the_alias(db: str) -> None:
    conn = dorm.get_connection()

    async def task(n: int) -> None:
        for i in range(10):
            if i % 2:
                async with aatomic():
                    await conn.aexecute("INSERT INTO item (name) VALUES (%s)", [f"task-{n}-{i}"])
                    await conn.aexecute("SELECT count(*) FROM item")
            else:
                await conn.aexecute("INSERT INTO item (name) VALUES (%s)", [f"task-{n}-{i}"])

    def thread_work(n: int) -> None:
        _write(100 + n, in_transaction=bool(n % 2))

    threads = [asyncio.to_thread(thread_work, n) for n in range(4)]
    await asyncio.gather(*(task(n) for n in range(30)), *threads)
    assert await conn.aexecute("SELECT count(*) FROM item") == [(30 * 10 + 4 * ROWS,)]
    stats = dorm.pool_stats()
    assert stats["in_use"] == 0 and stats["waiting"] == 0 and stats["size"] <= stats["max_size"]
