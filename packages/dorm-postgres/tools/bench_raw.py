"""Raw psycopg vs ``dorm.get_connection().execute`` on the same primary-key read, µs per call.

    python packages/dorm-postgres/tools/bench_raw.py [URL] [N]

The raw side is one open psycopg connection (the floor: no pool, no
statement object, no hooks); the dorm side checks a connection out of the
alias's pool for every statement, as outside ``atomic()`` it must.
"""

from __future__ import annotations

import asyncio
import sys
import time

import psycopg

import dorm

URL = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
SQL = "SELECT id, name, qty FROM dorm_bench_pk WHERE id = %s"


def setup() -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS dorm_bench_pk")
        conn.execute("CREATE TABLE dorm_bench_pk (id int PRIMARY KEY, name text, qty int)")
        conn.execute("INSERT INTO dorm_bench_pk SELECT g, 'name' || g, g FROM generate_series(1, 1000) g")


def best_of(fn: object, repeat: int = 5) -> tuple[float, float]:
    """(wall µs/call, client CPU µs/call), best of ``repeat``.  CPU time excludes the
    server round trip, so it shows the client-side overhead even on a loaded machine."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        walls.append((time.perf_counter() - t0) / N * 1e6)
        cpus.append((time.process_time() - c0) / N * 1e6)
    return min(walls), min(cpus)


def sync_bench() -> tuple[tuple[float, float], tuple[float, float]]:
    raw = psycopg.connect(URL, autocommit=True)

    def raw_loop() -> None:
        for i in range(N):
            raw.execute(SQL, (i % 1000 + 1,)).fetchone()

    conn = dorm.get_connection()

    def dorm_loop() -> None:
        for i in range(N):
            conn.execute(SQL, (i % 1000 + 1,))

    raw_loop(), dorm_loop()  # warm up (prepared statements, pool)
    result = best_of(raw_loop), best_of(dorm_loop)
    raw.close()
    return result


async def async_bench() -> tuple[tuple[float, float], tuple[float, float]]:
    raw = await psycopg.AsyncConnection.connect(URL, autocommit=True)
    conn = dorm.get_connection()

    async def raw_loop() -> None:
        for i in range(N):
            await (await raw.execute(SQL, (i % 1000 + 1,))).fetchone()

    async def dorm_loop() -> None:
        for i in range(N):
            await conn.aexecute(SQL, (i % 1000 + 1,))

    async def timed(fn: object) -> tuple[float, float]:
        walls, cpus = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            await fn()  # type: ignore[operator]
            walls.append((time.perf_counter() - t0) / N * 1e6)
            cpus.append((time.process_time() - c0) / N * 1e6)
        return min(walls), min(cpus)

    await raw_loop()
    await dorm_loop()
    result = await timed(raw_loop), await timed(dorm_loop)
    await raw.close()
    await dorm.close_all_async()
    return result


def main() -> None:
    setup()
    dorm.configure(DATABASES={"default": {"URL": URL, "MAX_POOL_SIZE": 2}})
    raw_s, dorm_s = sync_bench()
    raw_a, dorm_a = asyncio.run(async_bench())
    dorm.close_all()
    print(f"pk read, {N} calls, best of 5, µs/call as wall / client CPU")
    for label, raw, mine in (("sync ", raw_s, dorm_s), ("async", raw_a, dorm_a)):
        print(
            f"  {label}: raw psycopg {raw[0]:6.1f} / {raw[1]:5.1f}   dorm {mine[0]:6.1f} / {mine[1]:5.1f}"
            f"   wall ratio {mine[0] / raw[0]:.2f}x, CPU overhead +{mine[1] - raw[1]:.1f} µs"
        )


if __name__ == "__main__":
    main()
