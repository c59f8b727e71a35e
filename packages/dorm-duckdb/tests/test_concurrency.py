"""Several threads (and event loops) on one DuckDB alias: each gets its own connection to the same database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import dorm
from dorm.transaction import atomic

THREADS = 8
ROWS = 40


def run_threads(target: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_threads_insert_in_autocommit(db: str) -> None:
    def insert(n: int) -> None:
        conn = dorm.get_connection()
        for i in range(ROWS):
            conn.execute("INSERT INTO item (name, qty) VALUES (%s, %s)", [f"t{n}-{i}", n])

    assert run_threads(insert) == []
    conn = dorm.get_connection()
    assert conn.execute("SELECT count(*), count(DISTINCT id) FROM item") == [(THREADS * ROWS, THREADS * ROWS)]
    assert conn.execute("SELECT count(DISTINCT qty) FROM item") == [(THREADS,)]


def test_threads_run_their_own_transactions(db: str) -> None:
    def work(n: int) -> None:
        conn = dorm.get_connection()
        try:
            with atomic():
                for i in range(ROWS):
                    conn.execute("INSERT INTO item (name) VALUES (%s)", [f"t{n}-{i}"])
                if n % 2:
                    raise LookupError("odd threads roll back")
        except LookupError:
            pass

    assert run_threads(work) == []
    kept = dorm.get_connection().execute("SELECT count(*) FROM item")
    assert kept == [((THREADS // 2) * ROWS,)]


def test_threads_with_their_own_event_loops(db: str) -> None:
    async def insert(n: int) -> None:
        conn = dorm.get_connection()
        await asyncio.gather(*(conn.aexecute("INSERT INTO item (name) VALUES (%s)", [f"a{n}-{i}"]) for i in range(10)))

    assert run_threads(lambda n: asyncio.run(insert(n))) == []
    assert dorm.get_connection().execute("SELECT count(*) FROM item") == [(THREADS * 10,)]
    stats = dorm.pool_stats()
    assert stats["vendor"] == "duckdb" and stats["in_use"] == 0
