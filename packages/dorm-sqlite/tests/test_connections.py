"""Connection management of the SQLite backend: settings, pragmas, threads, the async pool."""

from __future__ import annotations

import asyncio
import gc
import threading
from pathlib import Path
from typing import Any

import pytest

import dorm
from dorm.backends.base.statement import Statement
from dorm.conf import settings
from dorm.db import executor
from dorm_sqlite.base import DatabaseWrapper
from dorm_sqlite.connection import split_script


def backend() -> DatabaseWrapper:
    wrapper = dorm.connections["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    return wrapper


def pragma(name: str) -> Any:
    return dorm.get_connection().execute(f"PRAGMA {name}")[0][0]


def test_engine_resolves_to_this_backend(db: str) -> None:
    wrapper = backend()
    assert wrapper.vendor == "sqlite"
    assert wrapper.ops.param_placeholder == "?"
    assert wrapper.features.supports_savepoints and wrapper.features.supports_statement_timeout
    assert not wrapper.features.supports_select_for_update
    assert wrapper.server_version()[0] == 3


def test_file_database_pragmas(file_db: str) -> None:
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000
    assert pragma("synchronous") == 1  # NORMAL


def test_memory_database_pragmas(memory_db: str) -> None:
    assert pragma("foreign_keys") == 1
    assert pragma("journal_mode") != "wal"


def test_options(tmp_path: Path) -> None:
    path = str(tmp_path / "opts.sqlite3")
    previous = dict(settings._values) if settings.configured else None
    try:
        dorm.configure(
            DATABASES={
                "default": {
                    "ENGINE": "sqlite",
                    "NAME": path,
                    "OPTIONS": {"timeout": 0.25, "journal_mode": "DELETE", "pragmas": {"cache_size": -4000}},
                }
            }
        )
        assert pragma("busy_timeout") == 250
        assert pragma("journal_mode") == "delete"
        assert pragma("cache_size") == -4000
        dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": path, "OPTIONS": {"bogus": 1}}})
        with pytest.raises(dorm.ImproperlyConfigured, match="unknown keys for SQLite: \\['bogus'\\]"):
            dorm.get_connection().execute("SELECT 1")
        dorm.configure(DATABASES={"default": {"URL": f"sqlite:///{path}"}})
        assert dorm.get_connection().execute("SELECT 41 + 1") == [(42,)]
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()


def test_one_connection_per_thread(db: str) -> None:
    wrapper = backend()
    mine = wrapper.acquire()
    assert wrapper.acquire() is mine
    others: list[Any] = []
    thread = threading.Thread(target=lambda: others.append(wrapper.acquire()))
    thread.start()
    thread.join()
    assert others[0] is not mine
    assert wrapper.pool_stats()["thread_connections"] >= 1


def test_a_finished_thread_closes_its_connection(db: str) -> None:
    wrapper = backend()
    wrapper.acquire()
    opened: list[Any] = []

    def work() -> None:
        dorm.get_connection().execute("SELECT 1")
        opened.append(wrapper.acquire().raw)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    with pytest.raises(Exception, match="closed"):
        opened[0].execute("SELECT 1")


def test_memory_database_is_shared_by_threads_and_async(memory_db: str) -> None:
    conn = dorm.get_connection()
    conn.execute_script("CREATE TABLE t (x INTEGER)")
    thread = threading.Thread(target=lambda: conn.execute("INSERT INTO t VALUES (1)"))
    thread.start()
    thread.join()

    async def from_async() -> list[tuple[Any, ...]]:
        await conn.aexecute("INSERT INTO t VALUES (2)")
        return await conn.aexecute("SELECT x FROM t ORDER BY x")

    assert asyncio.run(from_async()) == [(1,), (2,)]
    assert conn.execute("SELECT count(*) FROM t") == [(2,)]


def test_two_memory_aliases_are_distinct() -> None:
    previous = dict(settings._values) if settings.configured else None
    try:
        dorm.configure(
            DATABASES={"default": {"ENGINE": "sqlite", "NAME": ":memory:"}, "b": {"ENGINE": "sqlite", "NAME": ""}}
        )
        dorm.get_connection().execute_script("CREATE TABLE only_in_default (x)")
        with pytest.raises(dorm.ProgrammingError, match="no such table"):
            dorm.get_connection("b").execute("SELECT * FROM only_in_default")
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()


def test_close_all_then_reuse(file_db: str) -> None:
    conn = dorm.get_connection()
    conn.execute_script("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (%s)", [1])
    old = backend().acquire()
    dorm.close_all()
    assert old.closed
    assert conn.execute("SELECT x FROM t") == [(1,)]  # reopened lazily


async def test_pool_stats_reports_real_numbers(file_db: str) -> None:
    conn = dorm.get_connection()
    await conn.aexecute("SELECT 1")
    stats = dorm.pool_stats()
    assert stats["status"] == "ok"
    assert (stats["size"], stats["in_use"], stats["idle"], stats["waiting"]) == (1, 0, 1, 0)
    assert stats["max_size"] == 10
    wrapper = backend()
    held = await wrapper.aacquire()
    held2 = await wrapper.aacquire()
    stats = dorm.pool_stats()
    assert (stats["size"], stats["in_use"], stats["idle"]) == (2, 2, 0)
    await wrapper.arelease(held)
    await wrapper.arelease(held2)
    assert dorm.pool_stats()["in_use"] == 0
    await dorm.close_all_async()
    assert dorm.pool_stats()["size"] == 0


def test_pool_stats_before_first_use() -> None:
    assert dorm.pool_stats("never-configured-alias")["status"] == "uninitialised"


@pytest.fixture
def small_pool(tmp_path: Path) -> Any:
    previous = dict(settings._values) if settings.configured else None
    dorm.configure(
        DATABASES={
            "default": {
                "ENGINE": "sqlite",
                "NAME": str(tmp_path / "pool.sqlite3"),
                "MAX_POOL_SIZE": 2,
                "POOL_TIMEOUT": 0.2,
            }
        }
    )
    yield
    dorm.close_all()
    if previous is not None:
        dorm.configure(**previous)
    else:
        settings.reset()


async def test_checkout_beyond_max_pool_size_raises_pool_timeout(small_pool: None) -> None:
    wrapper = backend()
    leaked = [await wrapper.aacquire(), await wrapper.aacquire()]
    with pytest.raises(dorm.PoolTimeout) as info:
        await dorm.get_connection().aexecute("SELECT 1")
    message = str(info.value)
    assert "pool timeout" in message and "'default'" in message
    assert "2 of MAX_POOL_SIZE=2 in use" in message and "POOL_TIMEOUT=0.2 s" in message
    assert isinstance(info.value, dorm.OperationalError)
    assert dorm.pool_stats()["waiting"] == 0
    for conn in leaked:
        await wrapper.arelease(conn)
    assert await dorm.get_connection().aexecute("SELECT 1") == [(1,)]


async def test_waiters_get_connections_as_they_come_back(small_pool: None) -> None:
    """Many more tasks than connections: they queue and all finish."""
    # the fixture's 0.2 s timeout is for the timeout test; a loaded CI machine may queue longer here
    dorm.configure(DATABASES={"default": {**settings.database("default"), "POOL_TIMEOUT": 10.0}})
    conn = dorm.get_connection()
    await conn.aexecute_script("CREATE TABLE t (x INTEGER)")

    async def one(i: int) -> None:
        async with dorm.transaction.aatomic():
            await conn.aexecute("INSERT INTO t VALUES (%s)", [i])
            await asyncio.sleep(0.005)

    await asyncio.gather(*(one(i) for i in range(20)))
    assert await conn.aexecute("SELECT count(*) FROM t") == [(20,)]
    stats = dorm.pool_stats()
    assert stats["size"] <= 2 and stats["in_use"] == 0 and stats["waiting"] == 0


async def test_cancelled_waiter_leaves_the_pool_consistent(small_pool: None) -> None:
    wrapper = backend()
    held = [await wrapper.aacquire(), await wrapper.aacquire()]
    waiter = asyncio.create_task(wrapper.aacquire())
    await asyncio.sleep(0.01)
    assert dorm.pool_stats()["waiting"] == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for conn in held:
        await wrapper.arelease(conn)
    stats = dorm.pool_stats()
    assert (stats["in_use"], stats["waiting"], stats["idle"]) == (0, 0, 2)


async def test_pool_serves_several_event_loops(file_db: str) -> None:
    conn = dorm.get_connection()
    await conn.aexecute("SELECT 1")

    def other_loop() -> list[tuple[Any, ...]]:
        return asyncio.run(conn.aexecute("SELECT 2"))

    assert await asyncio.to_thread(other_loop) == [(2,)]


def test_statement_on_a_closed_async_connection_is_interface_error(file_db: str) -> None:
    async def main() -> None:
        wrapper = backend()
        conn = await wrapper.aacquire()
        await conn.close()
        with pytest.raises(dorm.InterfaceError, match="closed"):
            await conn.execute(Statement("default", "SELECT 1"))
        await wrapper.arelease(conn)
        assert dorm.pool_stats()["size"] == 0

    asyncio.run(main())


def test_split_script() -> None:
    script = "INSERT INTO t VALUES ('a;b'); CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;\n;"
    assert split_script(script) == [
        "INSERT INTO t VALUES ('a;b');",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;",
    ]


def test_statement_connection_is_set(db: str) -> None:
    stmt = executor.run(Statement("default", "SELECT 1"))
    assert stmt.connection is backend().acquire()
    assert stmt.duration > 0


def test_unopenable_database_is_operational_error_on_both_paths(tmp_path: Path) -> None:
    previous = dict(settings._values) if settings.configured else None
    missing = str(tmp_path / "no" / "such" / "folder" / "db.sqlite3")
    try:
        dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": missing}})
        with pytest.raises(dorm.OperationalError, match="unable to open database file"):
            dorm.get_connection().execute("SELECT 1")

        async def main() -> None:
            with pytest.raises(dorm.OperationalError, match="unable to open database file"):
                await dorm.get_connection().aexecute("SELECT 1")
            stats = dorm.pool_stats()
            assert (stats["size"], stats["in_use"]) == (0, 0)

        asyncio.run(main())
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dorm-sqlite-default-") and t.is_alive()]


async def test_close_all_async_stops_the_worker_threads(file_db: str) -> None:
    before = len(_workers())
    conn = dorm.get_connection()
    await asyncio.gather(*(conn.aexecute("SELECT 1") for _ in range(3)))
    assert len(_workers()) > before
    await dorm.close_all_async()
    for _ in range(100):
        if len(_workers()) == before:
            break
        await asyncio.sleep(0.01)
    assert len(_workers()) == before


def test_close_all_stops_the_worker_threads(file_db: str) -> None:
    before = len(_workers())
    asyncio.run(dorm.get_connection().aexecute("SELECT 1"))
    assert len(_workers()) == before + 1
    dorm.close_all()
    assert len(_workers()) == before
