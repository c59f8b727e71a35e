"""Primary-key raw read: ``dorm.get_connection().execute`` vs the raw ``sqlite3`` driver, sync and async.

Run: ``python packages/dorm-sqlite/tests/bench_pk_read.py`` (prints µs per call).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("DORM_DISABLE_PLUGIN_AUTOLOAD", "1")

import dorm  # noqa: E402

N = 20_000
SQL = "SELECT id, name, qty FROM item WHERE id = ?"


def best_of(func: Callable[[], None], repeat: int = 5) -> float:
    """Best µs per call over ``repeat`` runs of ``N`` calls."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best / N * 1e6


def main() -> None:
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "bench.sqlite3")
    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": path}})
    conn = dorm.get_connection()
    conn.execute_script("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)")
    conn.executemany("INSERT INTO item (name, qty) VALUES (%s, %s)", [(f"n{i}", i) for i in range(1000)])

    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def raw_sync() -> None:
        for i in range(N):
            cur = raw.cursor()
            cur.execute(SQL, (i % 1000 + 1,))
            cur.fetchall()

    dorm_sql = "SELECT id, name, qty FROM item WHERE id = %s"

    def dorm_sync() -> None:
        execute = conn.execute
        for i in range(N):
            execute(dorm_sql, (i % 1000 + 1,))

    async def raw_async_loop() -> None:
        # The same raw driver work, each call handed to a worker thread as asyncio users would.
        loop = asyncio.get_running_loop()
        for i in range(N):
            await loop.run_in_executor(None, lambda i=i: raw.execute(SQL, (i % 1000 + 1,)).fetchall())

    async def dorm_async_loop() -> None:
        aexecute = conn.aexecute
        for i in range(N):
            await aexecute(dorm_sql, (i % 1000 + 1,))

    results = {
        "raw sqlite3 (sync)": best_of(raw_sync),
        "dorm execute (sync)": best_of(dorm_sync),
        "raw sqlite3 via run_in_executor (async)": best_of(lambda: asyncio.run(raw_async_loop()), 3),
        "dorm aexecute (async)": best_of(lambda: asyncio.run(dorm_async_loop()), 3),
    }
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {N} calls, best run")
    for name, micros in results.items():
        print(f"  {name:42s} {micros:7.2f} µs/call")
    raw.close()
    dorm.close_all()


if __name__ == "__main__":
    main()
