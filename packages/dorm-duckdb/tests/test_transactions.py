"""Transactions on DuckDB: commit, rollback, and nested blocks as no-op boundaries (no SAVEPOINT)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import dorm
from dorm.db.connections import connections
from dorm.transaction import aatomic, atomic, on_commit
from dorm_duckdb.connection import DuckDBConnection


def add(name: str) -> None:
    dorm.get_connection().execute("INSERT INTO item (name) VALUES (%s)", [name])


def names() -> list[str]:
    return [row[0] for row in dorm.get_connection().execute("SELECT name FROM item ORDER BY id")]


class Boom(Exception):
    pass


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL text a DuckDB connection sends (statements, scripts, BEGIN/COMMIT/ROLLBACK)."""
    sent: list[str] = []
    original_execute = DuckDBConnection._execute
    original_script = DuckDBConnection.execute_script
    original_simple = DuckDBConnection._simple

    def _execute(self: DuckDBConnection, statement: dorm.backends.base.Statement) -> None:
        sent.append(statement.sql)
        original_execute(self, statement)

    def execute_script(self: DuckDBConnection, sql: str) -> None:
        sent.append(sql)
        original_script(self, sql)

    def _simple(self: DuckDBConnection, sql: str) -> None:
        sent.append(sql)
        original_simple(self, sql)

    monkeypatch.setattr(DuckDBConnection, "_execute", _execute)
    monkeypatch.setattr(DuckDBConnection, "execute_script", execute_script)
    monkeypatch.setattr(DuckDBConnection, "_simple", _simple)
    yield sent


def test_features_say_no_savepoints(db: str) -> None:
    features = connections["default"].features
    assert features.supports_savepoints is False
    assert features.supports_transactional_ddl is True


def test_commit_and_rollback(db: str) -> None:
    with atomic():
        add("kept")
    with pytest.raises(Boom):
        with atomic():
            add("lost")
            assert names() == ["kept", "lost"]  # the block sees its own write
            raise Boom
    assert names() == ["kept"]


def test_uncommitted_rows_are_invisible_to_other_threads(db: str) -> None:
    import threading

    seen: list[list[str]] = []
    with atomic():
        add("pending")
        thread = threading.Thread(target=lambda: seen.append(names()))
        thread.start()
        thread.join()
    assert seen == [[]]
    assert names() == ["pending"]


def test_ddl_is_transactional(db: str) -> None:
    with pytest.raises(Boom):
        with atomic():
            dorm.get_connection().execute("CREATE TABLE scratch (a INTEGER)")
            raise Boom
    assert dorm.get_connection().execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch'") == [(0,)]


def test_nested_block_success_commits_with_the_outer(db: str, sent_sql: list[str]) -> None:
    with atomic():
        add("outer")
        with atomic():
            add("inner")
    assert names() == ["outer", "inner"]
    assert not [sql for sql in sent_sql if "SAVEPOINT" in sql.upper()]


def test_seed_error_escaping_a_nested_block_rolls_back_the_outer(db: str, sent_sql: list[str]) -> None:
    """SPEC §4 and the seed entry: nested blocks are no-op boundaries; the outer rollback discards everything."""
    add("before")
    committed: list[str] = []
    with atomic():
        add("outer-1")
        on_commit(lambda: committed.append("outer"))
        try:
            with atomic():
                add("inner")
                on_commit(lambda: committed.append("inner"))
                raise Boom
        except Boom:
            pass  # caught inside the outer block: with savepoints the outer would continue
        add("outer-2")
    # without savepoints the whole outer block rolled back, rows written before the nested block too
    assert names() == ["before"]
    assert committed == []
    assert not [sql for sql in sent_sql if "SAVEPOINT" in sql.upper()]
    assert "ROLLBACK" in sent_sql


def test_error_inside_a_transaction_aborts_it(db: str) -> None:
    """DuckDB aborts a transaction on the first failed statement; the block rolls back whole."""
    add("dup")
    with pytest.raises(dorm.IntegrityError):
        with atomic():
            add("fresh")
            add("dup")
    assert names() == ["dup"]


def test_connection_is_clean_after_a_rolled_back_block(db: str) -> None:
    with pytest.raises(Boom):
        with atomic():
            add("x")
            raise Boom
    add("y")  # autocommit again
    assert names() == ["y"]


async def test_async_commit_rollback_and_nested(db: str, sent_sql: list[str]) -> None:
    conn = dorm.get_connection()
    async with aatomic():
        await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a-kept"])
        async with aatomic():
            await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a-inner"])
    with pytest.raises(Boom):
        async with aatomic():
            await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a-lost"])
            raise Boom
    async with aatomic():
        await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a-outer"])
        try:
            async with aatomic():
                await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a-nested"])
                raise Boom
        except Boom:
            pass
    rows = await conn.aexecute("SELECT name FROM item ORDER BY id")
    assert [r[0] for r in rows] == ["a-kept", "a-inner"]
    assert not [sql for sql in sent_sql if "SAVEPOINT" in sql.upper()]


async def test_async_pool_timeout(small_pool_db: None) -> None:
    conn = dorm.get_connection()
    await conn.aexecute("CREATE TABLE t (a INTEGER)")
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with aatomic():
            await conn.aexecute("INSERT INTO t VALUES (1)")
            holding.set()
            await release.wait()

    async def other() -> None:
        await conn.aexecute("SELECT 1")  # its own task: no transaction, needs a second connection

    holder = asyncio.create_task(hold())
    await holding.wait()
    with pytest.raises(dorm.PoolTimeout, match="MAX_POOL_SIZE=1"):
        await asyncio.create_task(other())
    release.set()
    await holder
    assert await conn.aexecute("SELECT count(*) FROM t") == [(1,)]
    assert dorm.pool_stats()["max_size"] == 1


async def test_async_cancel_interrupts_the_statement(db: str) -> None:
    conn = dorm.get_connection()
    task = asyncio.create_task(conn.aexecute("SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert await conn.aexecute("SELECT 1") == [(1,)]
