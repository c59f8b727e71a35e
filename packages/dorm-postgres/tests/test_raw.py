"""Raw SQL, transactions, error translation, timeouts and settings on a live server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest

import dorm
from dorm.backends.base.statement import FETCH_ALL, Statement
from dorm.db import executor
from dorm.db.connections import connections
from dorm.transaction import aatomic, atomic

pytestmark = pytest.mark.postgres


@pytest.fixture
def table(configure_pg: Any) -> str:
    configure_pg()
    conn = dorm.get_connection()
    conn.execute("DROP TABLE IF EXISTS raw_item")
    conn.execute("CREATE TABLE raw_item (id serial PRIMARY KEY, name text UNIQUE NOT NULL, qty int CHECK (qty >= 0))")
    return "raw_item"


def test_engine_names_and_vendor(configure_pg: Any, pg_db_url: str) -> None:
    for engine in ("postgresql", "postgres"):
        dorm.configure(DATABASES={"default": {"URL": pg_db_url, "ENGINE": engine}})
        backend = connections["default"]
        assert backend.vendor == "postgresql"
        assert dorm.get_connection().execute("SELECT %s::int + 1", [41]) == [(42,)]
        assert backend.server_version() is not None and backend.server_version() >= (11,)


def test_options_reach_libpq(configure_pg: Any) -> None:
    app = configure_pg(OPTIONS={"application_name": "dorm_opts_check", "options": "-c search_path=pg_catalog"})
    rows = dorm.get_connection().execute("SELECT current_setting('application_name'), current_setting('search_path')")
    assert rows == [(app, "pg_catalog")]


def test_percent_rules_match_the_driver(configure_pg: Any) -> None:
    configure_pg()
    conn = dorm.get_connection()
    assert conn.execute("SELECT '100%%', %s", ["x"]) == [("100%", "x")]
    assert conn.execute("SELECT '100%'") == [("100%",)]  # no parameters: SQL is sent as written


def test_autocommit_and_atomic(table: str, admin: psycopg.Connection[Any]) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["a", 1])
    assert admin.execute("SELECT count(*) FROM raw_item").fetchone() == (1,)  # committed on its own
    with pytest.raises(RuntimeError):
        with atomic():
            conn.execute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["b", 1])
            raise RuntimeError("boom")
    with atomic():
        conn.execute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["c", 1])
        with pytest.raises(dorm.IntegrityError):
            with atomic():  # savepoint
                conn.execute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["c", 1])
    names = [r[0] for r in admin.execute("SELECT name FROM raw_item ORDER BY name").fetchall()]
    assert names == ["a", "c"]


def test_async_atomic(table: str, admin: psycopg.Connection[Any]) -> None:
    async def main() -> None:
        conn = dorm.get_connection()
        async with aatomic():
            await conn.aexecute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["x", 1])
            assert admin.execute("SELECT count(*) FROM raw_item").fetchone() == (0,)  # not yet visible
        with pytest.raises(ValueError):
            async with aatomic():
                await conn.aexecute("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", ["y", 1])
                raise ValueError
        assert await conn.aexecute("SELECT name FROM raw_item") == [("x",)]

    asyncio.run(main())


def test_returning_and_executemany(table: str) -> None:
    conn = dorm.get_connection()
    rows = conn.execute(
        "INSERT INTO raw_item (name, qty) VALUES (%s, %s), (%s, %s) RETURNING id, name", ["a", 1, "b", 2]
    )
    assert [r[1] for r in rows] == ["a", "b"] and rows[0][0] < rows[1][0]
    assert conn.executemany("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", [["c", 3], ["d", 4], ["e", 5]]) == 3
    stmt = Statement(
        "default", "INSERT INTO raw_item (name, qty) VALUES (%s, %s) RETURNING name", [["f", 6], ["g", 7]], many=True
    )
    executor.run(stmt)
    assert stmt.rows == [("f",), ("g",)]


@pytest.mark.parametrize(
    ("sql", "params", "expected", "sqlstate"),
    [
        ("INSERT INTO raw_item (name, qty) VALUES ('dup', 1), ('dup', 1)", None, dorm.IntegrityError, "23505"),
        ("INSERT INTO raw_item (name, qty) VALUES ('neg', -1)", None, dorm.IntegrityError, "23514"),
        ("INSERT INTO raw_item (name, qty) VALUES (NULL, 1)", None, dorm.IntegrityError, "23502"),
        ("SELECT 1 / %s", [0], dorm.DataError, "22012"),
        ("SELECT %s::int", ["nope"], dorm.DataError, "22P02"),
        ("SELEC 1", None, dorm.ProgrammingError, "42601"),
        ("SELECT * FROM no_such_table", None, dorm.ProgrammingError, "42P01"),
        ("SELECT pg_sleep(1) FROM pg_class LIMIT 0 FOR UPDATE OF no_table", None, dorm.ProgrammingError, "42P01"),
    ],
)
def test_errors_are_translated_by_sqlstate(table: str, sql: str, params: Any, expected: type, sqlstate: str) -> None:
    with pytest.raises(expected) as info:
        dorm.get_connection().execute(sql, params)
    cause = info.value.__cause__
    assert isinstance(cause, psycopg.Error) and cause.sqlstate == sqlstate
    assert str(info.value)  # the server's message, not an empty wrapper
    assert dorm.get_connection().execute("SELECT 1") == [(1,)]  # the pool is fine afterwards


def test_nowait_lock_is_operational_error(table: str) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO raw_item (name, qty) VALUES ('locked', 1)")
    holder = psycopg.connect(str(connections["default"]._pool_kwargs["conninfo"]))
    try:
        holder.execute("SELECT * FROM raw_item WHERE name = 'locked' FOR UPDATE")
        with pytest.raises(dorm.OperationalError, match="could not obtain lock") as info:
            with atomic():
                conn.execute("SELECT * FROM raw_item WHERE name = %s FOR UPDATE NOWAIT", ["locked"])
        assert info.value.__cause__.sqlstate == "55P03"  # type: ignore[union-attr]
        with atomic():
            assert conn.execute("SELECT name FROM raw_item FOR UPDATE SKIP LOCKED") == []
    finally:
        holder.close()


def _timed_statement(sql: str, timeout_ms: int) -> Statement:
    stmt = Statement("default", sql, [], fetch=FETCH_ALL)
    stmt.timeout_ms = timeout_ms
    return stmt


def test_statement_timeout_autocommit(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)
    with pytest.raises(dorm.QueryCanceledError, match="canceling statement due to statement timeout") as info:
        executor.run(_timed_statement("SELECT pg_sleep(2)", 50))
    assert isinstance(info.value, dorm.OperationalError)
    assert isinstance(info.value.__cause__, psycopg.errors.QueryCanceled)
    # the one pooled connection is clean: idle, and the timeout did not stick to the session
    conn = dorm.get_connection()
    assert conn.execute("SHOW statement_timeout") == [("0",)]
    assert executor.run(_timed_statement("SELECT 7", 1000)).rows == [(7,)]
    assert conn.execute("SHOW statement_timeout") == [("0",)]


def test_statement_timeout_inside_atomic(table: str, admin: psycopg.Connection[Any]) -> None:
    conn = dorm.get_connection()
    with atomic():
        conn.execute("INSERT INTO raw_item (name, qty) VALUES ('kept', 1)")
        assert executor.run(_timed_statement("SELECT 1", 500)).rows == [(1,)]
        assert conn.execute("SHOW statement_timeout") == [("0",)]  # back to the session's value
    with pytest.raises(dorm.QueryCanceledError):
        with atomic():
            conn.execute("INSERT INTO raw_item (name, qty) VALUES ('lost', 1)")
            executor.run(_timed_statement("SELECT pg_sleep(2)", 50))
    names = [r[0] for r in admin.execute("SELECT name FROM raw_item").fetchall()]
    assert names == ["kept"]


def test_statement_timeout_async(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)

    async def main() -> None:
        with pytest.raises(dorm.QueryCanceledError, match="statement timeout"):
            await executor.arun(_timed_statement("SELECT pg_sleep(2)", 50))
        assert await dorm.get_connection().aexecute("SHOW statement_timeout") == [("0",)]

    asyncio.run(main())


def test_iterate_uses_a_server_side_cursor(table: str) -> None:
    conn = dorm.get_connection()
    conn.executemany("INSERT INTO raw_item (name, qty) VALUES (%s, %s)", [[f"n{i:03}", i] for i in range(250)])
    backend = connections["default"]
    pg_conn = backend.acquire()
    try:
        stmt = Statement("default", "SELECT qty, (SELECT count(*) FROM pg_cursors) FROM raw_item ORDER BY qty", None)
        chunks = list(pg_conn.iterate(stmt, 100))
        assert [len(c) for c in chunks] == [100, 100, 50]
        assert [r[0] for c in chunks for r in c] == list(range(250))
        assert chunks[0][0][1] == 1  # the rows came through a declared (named) cursor
        assert pg_conn.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        # abandoning the iteration ends the cursor's transaction too
        gen = pg_conn.iterate(Statement("default", "SELECT qty FROM raw_item", None), 10)
        next(gen)
        gen.close()
        assert pg_conn.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        backend.release(pg_conn)


def test_async_iterate(table: str) -> None:
    dorm.get_connection().executemany(
        "INSERT INTO raw_item (name, qty) VALUES (%s, %s)", [[f"m{i}", i] for i in range(30)]
    )

    async def main() -> list[int]:
        backend = connections["default"]
        conn = await backend.aacquire()
        try:
            out: list[int] = []
            async for chunk in conn.iterate(Statement("default", "SELECT qty FROM raw_item ORDER BY qty", None), 7):
                assert len(chunk) <= 7
                out.extend(r[0] for r in chunk)
            return out
        finally:
            await backend.arelease(conn)

    assert asyncio.run(main()) == list(range(30))


SLOW_ROWS = "SELECT g, pg_sleep(0.05) FROM generate_series(1, 100) AS g"  # 5 s for every row


def _idle(conn: Any) -> bool:
    return bool(conn.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)


def test_iterate_honours_timeout_ms(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)
    backend = connections["default"]
    pg_conn = backend.acquire()
    try:
        started = time.perf_counter()
        with pytest.raises(dorm.QueryCanceledError, match="canceling statement due to statement timeout") as info:
            list(pg_conn.iterate(_timed_statement(SLOW_ROWS, 100), 50))
        assert time.perf_counter() - started < 2.0  # cancelled by the server, not run to the end
        assert isinstance(info.value.__cause__, psycopg.errors.QueryCanceled)
        assert _idle(pg_conn) and not pg_conn.in_transaction  # its own transaction was rolled back
        assert pg_conn.raw.execute("SHOW statement_timeout").fetchone() == ("0",)  # SET LOCAL did not leak
        fast = _timed_statement("SELECT g FROM generate_series(1, 10) AS g", 1000)
        assert [r[0] for chunk in pg_conn.iterate(fast, 4) for r in chunk] == list(range(1, 11))
        # inside a transaction the timeout lasts for the iteration only, even when it is abandoned
        pg_conn.begin()
        gen = pg_conn.iterate(_timed_statement("SELECT g FROM generate_series(1, 10) AS g", 1000), 3)
        assert [r[0] for r in next(gen)] == [1, 2, 3]
        assert pg_conn.raw.execute("SHOW statement_timeout").fetchone() == ("1s",)
        gen.close()
        assert pg_conn.raw.execute("SHOW statement_timeout").fetchone() == ("0",)
        with pytest.raises(dorm.QueryCanceledError):
            list(pg_conn.iterate(_timed_statement(SLOW_ROWS, 100), 50))
        pg_conn.rollback()
        assert _idle(pg_conn)
    finally:
        backend.release(pg_conn)


def test_async_iterate_honours_timeout_ms(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)

    async def main() -> None:
        backend = connections["default"]
        conn = await backend.aacquire()
        try:
            started = time.perf_counter()
            with pytest.raises(dorm.QueryCanceledError, match="statement timeout"):
                async for _ in conn.iterate(_timed_statement(SLOW_ROWS, 100), 50):
                    pass
            assert time.perf_counter() - started < 2.0
            assert _idle(conn) and not conn.in_transaction
            assert await (await conn.raw.execute("SHOW statement_timeout")).fetchone() == ("0",)
            out = [r[0] async for chunk in conn.iterate(_timed_statement("SELECT 1", 1000), 5) for r in chunk]
            assert out == [1]
        finally:
            await backend.arelease(conn)

    asyncio.run(main())


def test_streamed_statement_timeout_through_the_executor(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)
    stmt = _timed_statement(SLOW_ROWS, 100)
    with pytest.raises(dorm.QueryCanceledError, match="statement timeout"):
        for _ in executor.stream(stmt, 50):
            pass
    assert stmt.streamed and stmt.rowcount == 0
    # the one pooled connection came back clean
    assert dorm.pool_stats("default")["in_use"] == 0
    assert dorm.get_connection().execute("SHOW statement_timeout") == [("0",)]


class _Ends:
    """A statement wrapper recording how each statement ended."""

    def __init__(self) -> None:
        self.ends: list[BaseException | None] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Statement) -> Any:
        try:
            yield
        except BaseException as exc:
            self.ends.append(exc)
            raise
        self.ends.append(None)


def test_cancelled_stream_is_cancelled_on_the_server_and_gives_the_connection_back(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=1)
    from dorm import plugins

    ends = _Ends()
    plugins.kernel.register(ends)

    async def main() -> None:
        async def consume() -> None:
            async for _ in executor.astream(Statement("default", SLOW_ROWS, None), 50):
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)  # the first fetch is running on the server
        cancelled_at = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.perf_counter() - cancelled_at < 2.0  # not the 5 s the fetch would take
        assert dorm.pool_stats("default")["async"]["in_use"] == 0
        conn = dorm.get_connection()
        assert await conn.aexecute("SELECT 1") == [(1,)]  # the one pooled connection is clean
        active = await conn.aexecute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            ["%pg_sleep(0.05)%"],
        )
        assert active == [(0,)]

    try:
        asyncio.run(main())
    finally:
        plugins.kernel.unregister(ends)
    assert isinstance(ends.ends[0], asyncio.CancelledError)  # thrown into the wrapper; the two checks after it ran fine
    assert ends.ends[1:] == [None, None]


def test_prepare_threshold_none_prepares_nothing(configure_pg: Any) -> None:
    configure_pg(PREPARE_THRESHOLD=None, MAX_POOL_SIZE=1)
    conn = dorm.get_connection()
    for i in range(10):
        conn.execute("SELECT %s::int", [i])
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements") == [(0,)]
    configure_pg(PREPARE_THRESHOLD=2, MAX_POOL_SIZE=1)
    conn = dorm.get_connection()
    for i in range(10):
        conn.execute("SELECT %s::int", [i])
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements")[0][0] >= 1


def test_pool_stats_never_raises(configure_pg: Any) -> None:
    configure_pg(MAX_POOL_SIZE=3)
    assert dorm.pool_stats()["status"] == "uninitialised"
    assert dorm.pool_stats("nope")["status"] == "uninitialised"
    dorm.get_connection().execute("SELECT 1")
    stats = dorm.pool_stats()
    assert stats["status"] == "open" and stats["max_size"] == 3 and stats["pool_size"] >= 1
    assert stats["in_use"] == 0
    dorm.close_all()
    assert dorm.pool_stats()["status"] in ("uninitialised", "closed")


def test_features_and_metadata_default(configure_pg: Any) -> None:
    configure_pg()
    backend = connections["default"]
    f = backend.features
    assert f.supports_returning and f.can_return_rows_from_bulk_insert and f.supports_select_for_update_of
    assert f.supports_server_side_cursors and f.supports_statement_timeout and f.supports_cancel
    assert f.supports_concurrent_index and f.supports_not_valid_constraints and f.supports_migration_lock
    dorm.get_connection().execute("SELECT 1")
    assert f.supports_metadata_only_default == (backend.server_version() >= (11,))
