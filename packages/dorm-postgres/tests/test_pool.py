"""Pool behaviour with numbers (issue 5, "Done when").

Timing bounds are generous so a loaded CI machine cannot flake them; the
measured values are printed (``pytest -s``) for the notes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import dorm
from dorm.db.connections import connections

pytestmark = pytest.mark.postgres


def _warm_sync(n: int) -> None:
    """Open ``n`` pooled connections up front so timings measure checkout, not connecting."""
    backend = connections["default"]
    held = [backend.acquire() for _ in range(n)]
    for conn in held:
        backend.release(conn)


async def _warm_async(n: int) -> None:
    backend = connections["default"]
    held = [await backend.aacquire() for _ in range(n)]
    for conn in held:
        await backend.arelease(conn)


# --------------------------------------------------------------------------
# max 2, 6 workers x pg_sleep(0.2): three pairs
# --------------------------------------------------------------------------


def test_six_sleepers_on_two_connections_finish_in_three_pairs_threads(configure_pg: Any) -> None:
    configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2)
    _warm_sync(2)
    ends: list[float] = []
    start = time.perf_counter()

    def work() -> None:
        dorm.get_connection().execute("SELECT pg_sleep(0.2)")
        ends.append(time.perf_counter() - start)

    with ThreadPoolExecutor(6) as pool:
        for f in [pool.submit(work) for _ in range(6)]:
            f.result()
    total = time.perf_counter() - start
    print(f"\n[threads] 6 x pg_sleep(0.2) on max 2: {total:.3f}s; ends {sorted(round(e, 3) for e in ends)}")
    assert 0.58 <= total < 1.5
    ends.sort()
    assert ends[1] < 0.38 and 0.38 <= ends[2] and ends[3] < 0.58 and 0.58 <= ends[4]  # pairs


def test_six_sleepers_on_two_connections_finish_in_three_pairs_async(configure_pg: Any) -> None:
    configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2)

    async def main() -> tuple[float, list[float]]:
        await _warm_async(2)
        start = time.perf_counter()
        ends: list[float] = []

        async def work() -> None:
            await dorm.get_connection().aexecute("SELECT pg_sleep(0.2)")
            ends.append(time.perf_counter() - start)

        await asyncio.gather(*(work() for _ in range(6)))
        return time.perf_counter() - start, sorted(ends)

    total, ends = asyncio.run(main())
    print(f"\n[async] 6 x pg_sleep(0.2) on max 2: {total:.3f}s; ends {[round(e, 3) for e in ends]}")
    assert 0.58 <= total < 1.5
    assert ends[1] < 0.38 and 0.38 <= ends[2] and ends[3] < 0.58 and 0.58 <= ends[4]


# --------------------------------------------------------------------------
# max 2, POOL_TIMEOUT 0.1, 4 slow workers: 2 PoolTimeout, pool still 2
# --------------------------------------------------------------------------


def _check_timeouts(outcomes: list[tuple[str, float, str]]) -> None:
    timeouts = [o for o in outcomes if o[0] == "timeout"]
    ok = [o for o in outcomes if o[0] == "ok"]
    assert len(timeouts) == 2 and len(ok) == 2, outcomes
    for _, waited, message in timeouts:
        assert 0.1 <= waited < 0.3, waited
        assert "pool timeout" in message and "'default'" in message
        assert "MAX_POOL_SIZE=2" in message and "POOL_TIMEOUT=0.1" in message
    stats = dorm.pool_stats()
    pool = stats if "pool_size" in stats else stats["async"]
    assert pool["pool_size"] == 2


def test_pool_timeout_threads(configure_pg: Any) -> None:
    configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2, POOL_TIMEOUT=0.1)
    _warm_sync(2)
    outcomes: list[tuple[str, float, str]] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        t0 = time.perf_counter()
        try:
            dorm.get_connection().execute("SELECT pg_sleep(0.5)")
            outcomes.append(("ok", time.perf_counter() - t0, ""))
        except dorm.PoolTimeout as exc:
            outcomes.append(("timeout", time.perf_counter() - t0, str(exc)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"\n[threads] outcomes: {[(o[0], round(o[1], 3)) for o in outcomes]}")
    _check_timeouts(outcomes)
    assert dorm.get_connection().execute("SELECT 1") == [(1,)]


def test_pool_timeout_async(configure_pg: Any) -> None:
    configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2, POOL_TIMEOUT=0.1)

    async def main() -> list[tuple[str, float, str]]:
        await _warm_async(2)
        outcomes: list[tuple[str, float, str]] = []

        async def work() -> None:
            t0 = time.perf_counter()
            try:
                await dorm.get_connection().aexecute("SELECT pg_sleep(0.5)")
                outcomes.append(("ok", time.perf_counter() - t0, ""))
            except dorm.PoolTimeout as exc:
                outcomes.append(("timeout", time.perf_counter() - t0, str(exc)))

        await asyncio.gather(*(work() for _ in range(4)))
        print(f"\n[async] outcomes: {[(o[0], round(o[1], 3)) for o in outcomes]}")
        _check_timeouts(outcomes)
        assert await dorm.get_connection().aexecute("SELECT 1") == [(1,)]
        return outcomes

    asyncio.run(main())


# --------------------------------------------------------------------------
# 50 workers x 200 queries on max 5: zero errors, <= 5 server connections
# --------------------------------------------------------------------------


class _Sampler:
    """Counts the alias's server connections every few ms from a separate connection."""

    def __init__(self, pg: Any, app: str) -> None:
        self.pg, self.app, self.peak, self.samples = pg, app, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.pg.connections(self.app))
            self.samples += 1
            time.sleep(0.005)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_fifty_tasks_two_hundred_queries_on_five(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=5, POOL_TIMEOUT=30)
    errors: list[BaseException] = []

    async def main() -> int:
        done = 0

        async def work(n: int) -> None:
            nonlocal done
            conn = dorm.get_connection()
            for i in range(200):
                try:
                    rows = await conn.aexecute("SELECT %s::int * 2", [n * 1000 + i])
                    assert rows == [((n * 1000 + i) * 2,)]
                    done += 1
                except BaseException as exc:  # noqa: BLE001 - counted, then asserted on
                    errors.append(exc)

        await asyncio.gather(*(work(n) for n in range(50)))
        return done

    with _Sampler(pg, app) as sampler:
        t0 = time.perf_counter()
        done = asyncio.run(main())
        elapsed = time.perf_counter() - t0
    print(
        f"\n[async] 50x200 on max 5: {elapsed:.2f}s, {done / elapsed:.0f} q/s, peak {sampler.peak} server conns ({sampler.samples} samples)"
    )
    assert errors == [] and done == 10_000
    assert 1 <= sampler.peak <= 5


def test_fifty_threads_two_hundred_queries_on_five(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=5, POOL_TIMEOUT=30)
    errors: list[BaseException] = []
    done = [0] * 50

    def work(n: int) -> None:
        conn = dorm.get_connection()
        for i in range(200):
            try:
                assert conn.execute("SELECT %s::int * 2", [n * 1000 + i]) == [((n * 1000 + i) * 2,)]
                done[n] += 1
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    with _Sampler(pg, app) as sampler:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            list(pool.map(work, range(50)))
        elapsed = time.perf_counter() - t0
    print(
        f"\n[threads] 50x200 on max 5: {elapsed:.2f}s, {sum(done) / elapsed:.0f} q/s, peak {sampler.peak} server conns"
    )
    assert errors == [] and sum(done) == 10_000
    assert 1 <= sampler.peak <= 5
    stats = dorm.pool_stats()
    assert stats["in_use"] == 0 and stats["pool_size"] <= 5


# --------------------------------------------------------------------------
# lifecycle: lazy open, repeated asyncio.run, close_all(_async)
# --------------------------------------------------------------------------


def test_repeated_asyncio_run_reuses_nothing_from_dead_loops(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=3)

    async def main() -> None:
        await asyncio.gather(*(dorm.get_connection().aexecute("SELECT pg_sleep(0.01)") for _ in range(5)))

    for _ in range(4):
        asyncio.run(main())
    asyncio.run(main())
    # each new loop discarded the pools of the closed ones: only the last loop's is left
    assert len(connections["default"]._async_pools) == 1
    assert dorm.pool_stats()["async_pools"] == 0  # and its loop is closed too
    time.sleep(0.05)
    assert pg.connections(app) <= 3  # the dead loops' connections were closed, not leaked
    dorm.close_all()
    deadline = time.monotonic() + 3
    while pg.connections(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pg.connections(app) == 0


def test_close_all_async_drains(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=4)

    async def main() -> None:
        await asyncio.gather(*(dorm.get_connection().aexecute("SELECT pg_sleep(0.05)") for _ in range(4)))
        assert pg.connections(app) >= 2
        await dorm.close_all_async()

    dorm.get_connection().execute("SELECT 1")
    asyncio.run(main())
    deadline = time.monotonic() + 3
    while pg.connections(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pg.connections(app) == 0
    assert dorm.get_connection().execute("SELECT 2") == [(2,)]  # reopened lazily


def test_pool_opens_lazily(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MIN_POOL_SIZE=2)
    time.sleep(0.05)
    assert pg.connections(app) == 0 and dorm.pool_stats()["status"] == "uninitialised"
    dorm.get_connection().execute("SELECT 1")
    assert dorm.pool_stats()["status"] == "open"


async def test_session_loop_pool(configure_pg: Any) -> None:
    """Under pytest-asyncio's session loop the same per-loop pool serves every test."""
    configure_pg(MAX_POOL_SIZE=2)
    rows = await asyncio.gather(*(dorm.get_connection().aexecute("SELECT %s::int", [i]) for i in range(10)))
    assert [r[0][0] for r in rows] == list(range(10))
    assert dorm.pool_stats()["async"]["pool_size"] <= 2
    await dorm.close_all_async()
