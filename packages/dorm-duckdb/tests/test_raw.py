"""Raw SQL on DuckDB: placeholders, row counts, error translation, timeouts, the SAVEPOINT seed entry."""

from __future__ import annotations

import time

import duckdb
import pytest

import dorm
from dorm.backends.base.statement import FETCH_ALL, Statement
from dorm.db.connections import connections


def test_format_placeholders_are_converted(db: str) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO item (name, qty) VALUES (%s, %s)", ["50%", 3])
    assert conn.execute("SELECT name, qty + %s FROM item WHERE name LIKE '50%%'", [4]) == [("50%", 7)]
    # without parameters the SQL is left alone (a single % is a literal)
    assert conn.execute("SELECT count(*) FROM item WHERE name LIKE '5%'") == [(1,)]


def test_rowcount_and_executemany(db: str) -> None:
    conn = dorm.get_connection()
    assert conn.executemany("INSERT INTO item (name) VALUES (%s)", [["a"], ["b"], ["c"]]) == 3
    assert conn.execute("SELECT name FROM item ORDER BY id") == [("a",), ("b",), ("c",)]
    backend = connections["default"]
    raw = backend.acquire()
    try:
        stmt = Statement("default", "UPDATE item SET qty = qty + 1 WHERE name <> ?", ["a"], fetch=FETCH_ALL)
        raw.execute(stmt)
        assert stmt.rowcount == 2
    finally:
        backend.release(raw)


def test_returning(db: str) -> None:
    rows = dorm.get_connection().execute("INSERT INTO item (name) VALUES (%s), (%s) RETURNING id, name", ["x", "y"])
    assert [name for _, name in rows] == ["x", "y"]
    assert rows[0][0] != rows[1][0]


@pytest.mark.parametrize(
    ("sql", "params", "expected", "cause"),
    [
        ("INSERT INTO item (name) VALUES (%s)", ["dup"], dorm.IntegrityError, duckdb.ConstraintException),
        ("SELEC 1", None, dorm.ProgrammingError, duckdb.ParserException),
        ("SELECT * FROM no_such_table", None, dorm.ProgrammingError, duckdb.CatalogException),
        ("SELECT no_such_column FROM item", None, dorm.ProgrammingError, duckdb.BinderException),
        ("SELECT CAST(%s AS INTEGER)", ["not a number"], dorm.DataError, duckdb.ConversionException),
    ],
)
def test_errors_are_translated(db: str, sql: str, params: list[str] | None, expected: type, cause: type) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO item (name) VALUES (%s)", ["dup"])
    with pytest.raises(expected) as info:
        conn.execute(sql, params)
    assert isinstance(info.value.__cause__, cause)
    # the connection is still usable afterwards
    assert conn.execute("SELECT count(*) FROM item") == [(1,)]


def test_other_driver_errors_are_operational(db: str) -> None:
    # COMMIT outside a transaction: a TransactionException, none of the mapped classes
    with pytest.raises(dorm.OperationalError) as info:
        dorm.get_connection().execute("COMMIT")
    assert isinstance(info.value.__cause__, duckdb.TransactionException)
    assert not isinstance(info.value, (dorm.IntegrityError, dorm.ProgrammingError))


def test_seed_entry_savepoint_is_a_parser_error(db: str) -> None:
    """The troubleshooting entry ``_duckdb.ParserException: syntax error at or near "SAVEPOINT"`` is true."""
    with pytest.raises(dorm.ProgrammingError) as info:
        dorm.get_connection().execute("SAVEPOINT s1")
    cause = info.value.__cause__
    assert isinstance(cause, duckdb.ParserException)
    assert type(cause).__module__ == "_duckdb" and type(cause).__name__ == "ParserException"
    assert 'syntax error at or near "SAVEPOINT"' in str(cause)
    assert "no-op boundaries" in str(info.value)  # the message says what to do


def test_statement_timeout_interrupts(db: str) -> None:
    backend = connections["default"]
    assert backend.features.supports_statement_timeout
    conn = backend.acquire()
    try:
        slow = Statement(
            "default", "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b", fetch=FETCH_ALL
        )
        slow.timeout_ms = 100
        started = time.perf_counter()
        with pytest.raises(dorm.QueryCanceledError, match="timeout of 100 ms") as info:
            conn.execute(slow)
        assert time.perf_counter() - started < 5
        assert isinstance(info.value.__cause__, duckdb.InterruptException)
        fast = Statement("default", "SELECT 42", fetch=FETCH_ALL)
        fast.timeout_ms = 100
        conn.execute(fast)
        time.sleep(0.2)  # the timer of a finished statement must not interrupt a later one
        after = Statement("default", "SELECT 43", fetch=FETCH_ALL)
        conn.execute(after)
        assert fast.rows == [(42,)] and after.rows == [(43,)]
    finally:
        backend.release(conn)


def test_unknown_option_is_refused() -> None:
    from dorm_duckdb.base import DatabaseWrapper

    with pytest.raises(dorm.ImproperlyConfigured, match="unknown keys for DuckDB"):
        DatabaseWrapper("x", {"ENGINE": "duckdb", "NAME": ":memory:", "OPTIONS": {"journal_mode": "WAL"}})


def test_memory_database_is_shared_by_threads(db: str) -> None:
    import threading

    dorm.get_connection().execute("INSERT INTO item (name) VALUES (%s)", ["main"])
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(dorm.get_connection().execute("SELECT name FROM item")))
    thread.start()
    thread.join()
    assert seen == [[("main",)]]


async def test_async_raw(db: str) -> None:
    conn = dorm.get_connection()
    await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["async"])
    assert await conn.aexecute("SELECT name FROM item") == [("async",)]
    with pytest.raises(dorm.IntegrityError):
        await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["async"])
    with pytest.raises(dorm.ProgrammingError) as info:
        await conn.aexecute("SAVEPOINT s1")
    assert isinstance(info.value.__cause__, duckdb.ParserException)
