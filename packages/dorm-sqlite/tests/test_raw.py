"""Raw SQL through the core: ``dorm.get_connection(alias)`` on SQLite, sync and async."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

import dorm
from dorm.backends.base.statement import FETCH_NONE, FETCH_ONE, Statement
from dorm.db import executor


def test_execute_returns_rows_with_format_placeholders(db: str) -> None:
    conn = dorm.get_connection()
    assert conn.execute("INSERT INTO item (name, qty) VALUES (%s, %s)", ["apple", 3]) == []
    assert conn.execute("SELECT name, qty FROM item WHERE name = %s", ["apple"]) == [("apple", 3)]
    assert conn.execute("SELECT name FROM item WHERE name = %s", ["pear"]) == []


def test_percent_signs(db: str) -> None:
    conn = dorm.get_connection()
    conn.executemany("INSERT INTO item (name) VALUES (%s)", [["100%"], ["a_b"], ["abc"]])
    # With parameters, %% is a literal percent sign.
    assert conn.execute("SELECT name FROM item WHERE name LIKE %s AND name LIKE '%%0%%' ORDER BY id", ["1%"]) == [
        ("100%",)
    ]
    # Without parameters the SQL is sent untouched (DB-API format style).
    assert conn.execute("SELECT count(*) FROM item WHERE name LIKE 'a%'") == [(2,)]


def test_executemany_returns_total_rowcount(db: str) -> None:
    conn = dorm.get_connection()
    assert conn.executemany("INSERT INTO item (name, qty) VALUES (%s, %s)", [("a", 1), ("b", 2), ("c", 3)]) == 3
    assert conn.executemany("UPDATE item SET qty = qty + 1 WHERE name = %s", [("a",), ("b",), ("zzz",)]) == 2
    assert conn.execute("SELECT sum(qty) FROM item") == [(1 + 1 + 2 + 1 + 3,)]


def test_execute_script_runs_every_statement(db: str) -> None:
    conn = dorm.get_connection()
    conn.execute_script(
        "INSERT INTO item (name) VALUES ('x;y'); INSERT INTO item (name) VALUES ('z');"
        "CREATE TRIGGER t AFTER INSERT ON item BEGIN UPDATE item SET qty = 7 WHERE id = new.id; END;"
    )
    conn.execute("INSERT INTO item (name) VALUES (%s)", ["w"])
    assert conn.execute("SELECT name, qty FROM item ORDER BY id") == [("x;y", 0), ("z", 0), ("w", 7)]


def test_execute_script_inside_atomic_does_not_commit(db: str) -> None:
    """sqlite3's executescript() would COMMIT first; inside atomic() the script stays in the transaction."""
    conn = dorm.get_connection()
    with pytest.raises(RuntimeError, match="boom"):
        with dorm.transaction.atomic():
            conn.execute_script("INSERT INTO item (name) VALUES ('a;b'); INSERT INTO item (name) VALUES ('c')")
            assert len(conn.execute("SELECT * FROM item")) == 2
            raise RuntimeError("boom")
    assert conn.execute("SELECT count(*) FROM item") == [(0,)]


def test_returning_and_lastrowid(db: str) -> None:
    conn = dorm.get_connection()
    backend = dorm.connections["default"]
    if backend.features.supports_returning:
        assert conn.execute("INSERT INTO item (name) VALUES (%s) RETURNING id, name", ["r"]) == [(1, "r")]
    stmt = executor.run(Statement("default", "INSERT INTO item (name) VALUES (?)", ["s"], fetch=FETCH_NONE))
    assert stmt.rows is None
    assert stmt.rowcount == 1
    assert conn.execute("SELECT id FROM item WHERE name = %s", ["s"]) == [(stmt.lastrowid,)]


def test_fetch_one_finishes_the_statement(db: str) -> None:
    """FETCH_ONE reads one row and leaves no statement (and so no lock) open."""
    conn = dorm.get_connection()
    conn.executemany("INSERT INTO item (name) VALUES (%s)", [("a",), ("b",), ("c",)])
    stmt = executor.run(Statement("default", "SELECT name FROM item ORDER BY id", (), fetch=FETCH_ONE))
    assert stmt.rows == [("a",)]
    raw = stmt.connection.raw
    assert not raw.in_transaction
    if dorm.connections["default"].features.supports_returning:
        stmt = executor.run(
            Statement("default", "INSERT INTO item (name) VALUES (?), (?) RETURNING name", ("d", "e"), fetch=FETCH_ONE)
        )
        assert stmt.rows == [("d",)]
        assert not raw.in_transaction
        assert conn.execute("SELECT count(*) FROM item") == [(5,)]


def test_unique_violation_is_integrity_error(db: str) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO item (name) VALUES (%s)", ["dup"])
    with pytest.raises(dorm.IntegrityError, match="UNIQUE constraint failed: item.name") as info:
        conn.execute("INSERT INTO item (name) VALUES (%s)", ["dup"])
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    # The connection stays usable after the error.
    assert conn.execute("SELECT count(*) FROM item") == [(1,)]


def test_not_null_and_foreign_key_violations_are_integrity_errors(db: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.IntegrityError, match="NOT NULL"):
        conn.execute("INSERT INTO item (name) VALUES (%s)", [None])
    conn.execute_script("CREATE TABLE child (id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES item (id))")
    with pytest.raises(dorm.IntegrityError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO child (item_id) VALUES (%s)", [999])


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM no_such_table", "no such table: no_such_table"),
        ("SELECT no_such_column FROM item", "no such column"),
    ],
)
def test_bad_sql_is_programming_error(db: str, sql: str, message: str) -> None:
    with pytest.raises(dorm.ProgrammingError, match=message) as info:
        dorm.get_connection().execute(sql)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert sql in str(info.value)


def test_wrong_number_of_parameters_is_programming_error(db: str) -> None:
    with pytest.raises(dorm.ProgrammingError, match="bindings") as info:
        dorm.get_connection().execute("SELECT %s, %s", [1])
    assert isinstance(info.value.__cause__, sqlite3.ProgrammingError)


def test_integer_overflow_is_data_error(db: str) -> None:
    with pytest.raises(dorm.DataError, match="64-bit") as info:
        dorm.get_connection().execute("INSERT INTO item (name, qty) VALUES (%s, %s)", ["big", 2**70])
    assert isinstance(info.value.__cause__, OverflowError)


def test_unsupported_parameter_type_is_translated(db: str) -> None:
    with pytest.raises(dorm.DatabaseError) as info:
        dorm.get_connection().execute("SELECT %s", [object()])
    assert isinstance(info.value.__cause__, sqlite3.Error)


async def test_async_raw_access(db: str) -> None:
    conn = dorm.get_connection()
    await conn.aexecute_script("INSERT INTO item (name) VALUES ('a'); INSERT INTO item (name) VALUES ('b')")
    assert await conn.aexecutemany("INSERT INTO item (name, qty) VALUES (%s, %s)", [("c", 1), ("d", 2)]) == 2
    assert await conn.aexecute("SELECT name FROM item WHERE qty > %s ORDER BY id", [0]) == [("c",), ("d",)]
    with pytest.raises(dorm.IntegrityError) as info:
        await conn.aexecute("INSERT INTO item (name) VALUES (%s)", ["a"])
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(dorm.ProgrammingError, match="no such table"):
        await conn.aexecute("SELECT * FROM nope")
    # The sync path (another thread) sees what the async path committed.
    assert await asyncio.to_thread(conn.execute, "SELECT count(*) FROM item") == [(4,)]


def test_sync_raw_access_inside_a_running_loop_is_refused(db: str) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="this event loop is already running"):
            dorm.get_connection().execute("SELECT 1")

    asyncio.run(main())


def test_regexp_function(db: str) -> None:
    conn = dorm.get_connection()
    conn.executemany("INSERT INTO item (name) VALUES (%s)", [("alpha",), ("beta",), ("Alfa",)])
    assert conn.execute("SELECT name FROM item WHERE name REGEXP %s ORDER BY id", ["^al"]) == [("alpha",)]
    assert conn.execute("SELECT name FROM item WHERE name REGEXP %s ORDER BY id", ["(?i)^al"]) == [
        ("alpha",),
        ("Alfa",),
    ]
    assert conn.execute("SELECT NULL REGEXP 'a'") == [(None,)]


def test_unknown_alias(db: str) -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match="Database alias 'replica' not found"):
        dorm.get_connection("replica")
