"""Cancellation and faults, modelled on psycopg_pool's own tests.

* a cancelled task's query is cancelled on the server and its connection
  comes back clean (idle, not in a transaction) or is discarded;
* a client that gives up waiting for a connection costs the pool nothing;
* ``pg_terminate_backend`` on pooled connections is survived by the next queries;
* a connection killed mid-``atomic`` raises OperationalError and commits nothing;
* "too many clients" style connection failures reach the user inside PoolTimeout.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import psycopg
import pytest

import dorm
from dorm.db.connections import connections
from dorm.transaction import aatomic, atomic

pytestmark = pytest.mark.postgres


def _wait_until(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _active_sleeps(pg: Any, app: str) -> int:
    return int(
        pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state = 'active' AND query LIKE %s",
            [app, "%pg_sleep%"],
        )
    )


# --------------------------------------------------------------------------
# cancellation
# --------------------------------------------------------------------------


def test_cancelled_task_cancels_the_server_query(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=1)

    async def main() -> None:
        task = asyncio.create_task(dorm.get_connection().aexecute("SELECT pg_sleep(10)"))
        await asyncio.sleep(0.2)
        assert _active_sleeps(pg, app) == 1
        t0 = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.perf_counter() - t0 < 2.0
        assert _active_sleeps(pg, app) == 0  # cancelled on the server, not left running
        stats = dorm.pool_stats()["async"]
        assert stats["in_use"] == 0 and stats["pool_size"] <= 1
        assert await dorm.get_connection().aexecute("SELECT 1") == [(1,)]  # the one connection works

    asyncio.run(main())


def test_cancelled_task_inside_aatomic_commits_nothing(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=1)
    dorm.get_connection().execute("CREATE TABLE IF NOT EXISTS cancel_item (n int)")
    dorm.get_connection().execute("TRUNCATE cancel_item")

    async def body() -> None:
        async with aatomic():
            await dorm.get_connection().aexecute("INSERT INTO cancel_item VALUES (1)")
            await dorm.get_connection().aexecute("SELECT pg_sleep(10)")

    async def main() -> None:
        task = asyncio.create_task(body())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _active_sleeps(pg, app) == 0
        assert pg.connections(app, "idle in transaction") == 0
        assert await dorm.get_connection().aexecute("SELECT count(*) FROM cancel_item") == [(0,)]

    asyncio.run(main())


def test_sync_cancel_from_another_thread(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=1)
    backend = connections["default"]
    conn = backend.acquire()
    try:
        threading.Timer(0.2, conn.cancel).start()
        from dorm.backends.base.statement import Statement

        with pytest.raises(dorm.QueryCanceledError, match="canceling statement due to user request"):
            conn.execute(Statement("default", "SELECT pg_sleep(10)", None))
        assert conn.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        backend.release(conn)
    assert _active_sleeps(pg, app) == 0


def test_two_hundred_random_cancellations_leave_the_pool_whole(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MIN_POOL_SIZE=1, MAX_POOL_SIZE=3, POOL_TIMEOUT=10)
    dorm.get_connection().execute("CREATE TABLE IF NOT EXISTS cancel_round (n int)")
    dorm.get_connection().execute("TRUNCATE cancel_round")
    rng = random.Random(20261125)
    outcomes = {"cancelled": 0, "finished": 0}

    async def victim(n: int, in_tx: bool) -> None:
        conn = dorm.get_connection()
        if in_tx:
            async with aatomic():
                await conn.aexecute("INSERT INTO cancel_round VALUES (%s)", [n])
                await conn.aexecute("SELECT pg_sleep(%s)", [rng.uniform(0, 0.02)])
        else:
            await conn.aexecute("SELECT pg_sleep(%s)", [rng.uniform(0, 0.02)])

    async def main() -> None:
        for n in range(200):
            tasks = [asyncio.create_task(victim(n * 10 + k, rng.random() < 0.5)) for k in range(rng.randint(1, 5))]
            await asyncio.sleep(rng.uniform(0, 0.015))
            for t in tasks:
                if rng.random() < 0.7:
                    t.cancel()
            for t in tasks:
                try:
                    await t
                    outcomes["finished"] += 1
                except asyncio.CancelledError:
                    outcomes["cancelled"] += 1
        stats = dorm.pool_stats()["async"]
        assert stats["in_use"] == 0, stats
        assert 1 <= stats["pool_size"] <= 3, stats
        # every pooled connection is idle and usable; none left in a transaction or running
        rows = await asyncio.gather(*(dorm.get_connection().aexecute("SELECT 1") for _ in range(10)))
        assert rows == [[(1,)]] * 10
        assert pg.connections(app, "idle in transaction") == 0
        assert pg.connections(app, "idle in transaction (aborted)") == 0
        assert _active_sleeps(pg, app) == 0
        print(f"\n[async] 200 rounds: pool {stats}")
        # a connection the pool discarded may take a moment to leave pg_stat_activity
        # (plus the sync pool's, which created the table)
        sync_size = dorm.pool_stats()["pool_size"]
        assert _wait_until(lambda: pg.connections(app) <= 3 + sync_size), pg.connections(app)

    asyncio.run(main())
    print(f"[async] 200 rounds: {outcomes}")
    assert outcomes["cancelled"] > 50 and outcomes["finished"] > 0


def test_client_giving_up_while_waiting_costs_the_pool_nothing(configure_pg: Any, pg: Any) -> None:
    configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2, POOL_TIMEOUT=5)

    async def main() -> None:
        busy = [asyncio.create_task(dorm.get_connection().aexecute("SELECT pg_sleep(0.3)")) for _ in range(2)]
        await asyncio.sleep(0.05)
        for _ in range(20):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(dorm.get_connection().aexecute("SELECT 1"), 0.01)
        await asyncio.gather(*busy)
        stats = dorm.pool_stats()["async"]
        assert stats["pool_size"] == 2 and stats["in_use"] == 0 and stats["requests_waiting"] == 0, stats
        # both connections still serve in parallel: two sleeps take one sleep's time
        t0 = time.perf_counter()
        await asyncio.gather(*(dorm.get_connection().aexecute("SELECT pg_sleep(0.2)") for _ in range(2)))
        assert time.perf_counter() - t0 < 0.35

    asyncio.run(main())


# --------------------------------------------------------------------------
# server-side kills
# --------------------------------------------------------------------------


@pytest.mark.parametrize("pool_check", [False, True])
def test_terminated_pooled_connections_are_survived_sync(configure_pg: Any, pg: Any, pool_check: bool) -> None:
    app = configure_pg(MIN_POOL_SIZE=3, MAX_POOL_SIZE=3, POOL_CHECK=pool_check, POOL_TIMEOUT=5)
    backend = connections["default"]
    held = [backend.acquire() for _ in range(3)]
    for c in held:
        backend.release(c)
    assert pg.terminate(app) == 3
    _wait_until(lambda: pg.connections(app) == 0)
    for i in range(10):
        assert dorm.get_connection().execute("SELECT %s::int", [i]) == [(i,)]
    with atomic():  # BEGIN on a dead connection is retried too
        assert dorm.get_connection().execute("SELECT 1") == [(1,)]


def test_terminated_pooled_connections_are_survived_async(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MIN_POOL_SIZE=3, MAX_POOL_SIZE=3)

    async def main() -> None:
        backend = connections["default"]
        held = [await backend.aacquire() for _ in range(3)]
        for c in held:
            await backend.arelease(c)
        assert pg.terminate(app) == 3
        await asyncio.sleep(0.1)
        rows = await asyncio.gather(*(dorm.get_connection().aexecute("SELECT %s::int", [i]) for i in range(10)))
        assert [r[0][0] for r in rows] == list(range(10))
        async with aatomic():
            assert await dorm.get_connection().aexecute("SELECT 1") == [(1,)]

    asyncio.run(main())


def test_terminated_connections_are_survived_by_orm_reads(configure_pg: Any, pg: Any) -> None:
    """The express lane's reads (get, count, iteration) retry a terminated session like execute() does."""
    app = configure_pg(MIN_POOL_SIZE=2, MAX_POOL_SIZE=2, POOL_TIMEOUT=5)

    class Gauge(dorm.Model):
        name = dorm.CharField(max_length=20)

        class Meta:
            app_label = "faults"
            db_table = "faults_gauge"

    conn = dorm.get_connection()
    conn.execute("DROP TABLE IF EXISTS faults_gauge")
    conn.execute("CREATE TABLE faults_gauge (id bigserial PRIMARY KEY, name varchar(20) NOT NULL)")
    first = Gauge.objects.create(name="a")
    Gauge.objects.create(name="b")
    for _round in range(3):
        backend = connections["default"]
        held = [backend.acquire() for _ in range(2)]
        for c in held:
            backend.release(c)
        assert pg.terminate(app) == 2
        _wait_until(lambda: pg.connections(app) == 0)
        assert Gauge.objects.get(pk=first.pk).name == "a"
        assert Gauge.objects.filter(name="b").count() == 1
        assert [g.name for g in Gauge.objects.order_by("name")[:2]] == ["a", "b"]


def test_connection_killed_mid_atomic_commits_nothing(configure_pg: Any, pg: Any) -> None:
    app = configure_pg(MAX_POOL_SIZE=2)
    conn = dorm.get_connection()
    conn.execute("CREATE TABLE IF NOT EXISTS killed_item (n int)")
    conn.execute("TRUNCATE killed_item")
    with pytest.raises(dorm.OperationalError) as info:
        with atomic():
            conn.execute("INSERT INTO killed_item VALUES (1)")
            pid = conn.execute("SELECT pg_backend_pid()")[0][0]
            pg.scalar("SELECT pg_terminate_backend(%s)", [pid])
            conn.execute("INSERT INTO killed_item VALUES (2)")
    assert "terminating connection" in str(info.value) or "closed" in str(info.value)
    assert isinstance(info.value.__cause__, psycopg.Error)
    assert pg.scalar("SELECT count(*) FROM killed_item") == 0
    assert conn.execute("SELECT 1") == [(1,)]  # the pool replaced the dead connection
    assert dorm.pool_stats()["in_use"] == 0
    del app


def test_connection_killed_mid_aatomic_commits_nothing(configure_pg: Any, pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=2)
    dorm.get_connection().execute("CREATE TABLE IF NOT EXISTS killed_item (n int)")
    dorm.get_connection().execute("TRUNCATE killed_item")

    async def main() -> None:
        conn = dorm.get_connection()
        with pytest.raises(dorm.OperationalError):
            async with aatomic():
                await conn.aexecute("INSERT INTO killed_item VALUES (1)")
                pid = (await conn.aexecute("SELECT pg_backend_pid()"))[0][0]
                pg.scalar("SELECT pg_terminate_backend(%s)", [pid])
                await asyncio.sleep(0.05)
                await conn.aexecute("INSERT INTO killed_item VALUES (2)")
        assert await conn.aexecute("SELECT count(*) FROM killed_item") == [(0,)]

    asyncio.run(main())


# --------------------------------------------------------------------------
# connection failures reach the user
# --------------------------------------------------------------------------


@pytest.fixture
def limited_role(admin: psycopg.Connection[Any]) -> Any:
    """A login role allowed no connections: connecting fails like a server out of slots."""
    admin.execute("DROP ROLE IF EXISTS dorm_test_limited")
    admin.execute("CREATE ROLE dorm_test_limited LOGIN CONNECTION LIMIT 0")
    yield "dorm_test_limited"
    dorm.close_all()
    admin.execute("DROP ROLE IF EXISTS dorm_test_limited")


def test_pool_timeout_carries_the_server_connection_error(configure_pg: Any, limited_role: str) -> None:
    configure_pg(USER=limited_role, MIN_POOL_SIZE=0, MAX_POOL_SIZE=2, POOL_TIMEOUT=1.0)
    t0 = time.perf_counter()
    with pytest.raises(dorm.PoolTimeout) as info:
        dorm.get_connection().execute("SELECT 1")
    waited = time.perf_counter() - t0
    message = str(info.value)
    print(f"\n[PoolTimeout after {waited:.2f}s] {message}")
    assert isinstance(info.value, dorm.OperationalError)
    assert "pool timeout" in message and "'default'" in message and "MAX_POOL_SIZE=2" in message
    assert "too many connections for role" in message  # the server's words, which the pool only logs
    assert "max_connections" in message  # and the fix


def test_too_many_clients_is_an_operational_error_with_the_server_message(pg_db_url: str, admin: Any) -> None:
    """Connecting past the server's limit outside the pool (e.g. dbshell) keeps the server's text too."""
    from dorm_postgres.errors import translate_error

    admin.execute("DROP ROLE IF EXISTS dorm_test_limited2")
    admin.execute("CREATE ROLE dorm_test_limited2 LOGIN CONNECTION LIMIT 0")
    try:
        with pytest.raises(psycopg.OperationalError) as info:
            psycopg.connect(pg_db_url.replace("postgres@", "dorm_test_limited2@"))
        translated = translate_error(info.value)
        assert isinstance(translated, dorm.OperationalError)
        assert "too many connections" in str(translated)
    finally:
        admin.execute("DROP ROLE IF EXISTS dorm_test_limited2")
