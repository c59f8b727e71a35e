"""Raw SQL, error translation, autocommit."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import dorm
from pytest_djanorm.suite.fixtures import require
from pytest_djanorm.suite.models import Author
from pytest_djanorm.suite.requirements import Requirements

__all__ = ["TestSuiteConstraintsAndTimeouts", "TestSuiteRawSQL", "in_other_thread"]


def in_other_thread(fn: Any) -> Any:
    """Run ``fn`` in a fresh thread (its own connection, outside this thread's transaction); return its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _table(alias: str) -> str:
    return dorm.connections[alias].ops.quote_name(Author._meta.db_table)


class TestSuiteRawSQL:
    def test_runs_on_the_configured_backend(
        self, suite_db: str, djanorm_settings: dict[str, Any], suite_databases: Any
    ) -> None:
        from dorm.conf import normalize_database, settings

        wanted = normalize_database(suite_db, djanorm_settings["DATABASES"][suite_db])
        active = settings.database(suite_db)
        assert active["ENGINE"] == wanted["ENGINE"]
        assert active["NAME"] == suite_databases.databases[suite_db]["NAME"] != wanted["NAME"]

    def test_execute_with_params(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        assert conn.execute("SELECT %s, %s", [7, "seven"]) == [(7, "seven")]

    def test_percent_literal(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        assert conn.execute("SELECT 'a%%b', %s", [1]) == [("a%b", 1)]

    def test_insert_and_select(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        table = _table(suite_db)
        conn.execute(f"INSERT INTO {table} (name, age) VALUES (%s, %s)", ["ada", 36])
        assert conn.execute(f"SELECT name, age FROM {table} WHERE age > %s", [30]) == [("ada", 36)]

    def test_value_is_never_interpolated(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        table = _table(suite_db)
        nasty = "x'); DROP TABLE djanorm_suite_author; --"
        conn.execute(f"INSERT INTO {table} (name, age) VALUES (%s, %s)", [nasty, 1])
        assert conn.execute(f"SELECT name FROM {table}") == [(nasty,)]

    def test_execute_script(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        table = _table(suite_db)
        conn.execute_script(
            f"INSERT INTO {table} (name, age) VALUES ('a', 1); INSERT INTO {table} (name, age) VALUES ('b', 2);"
        )
        assert conn.execute(f"SELECT COUNT(*) FROM {table}") == [(2,)]

    async def test_aexecute(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "async_io")
        conn = dorm.get_connection(suite_db)
        table = _table(suite_db)
        await conn.aexecute(f"INSERT INTO {table} (name, age) VALUES (%s, %s)", ["bo", 5])
        assert await conn.aexecute(f"SELECT name, age FROM {table}") == [("bo", 5)]

    def test_unique_violation_is_integrity_error(self, suite_db: str) -> None:
        conn = dorm.get_connection(suite_db)
        table = _table(suite_db)
        conn.execute(f"INSERT INTO {table} (name, age) VALUES (%s, %s)", ["dup", 1])
        with pytest.raises(dorm.IntegrityError):
            conn.execute(f"INSERT INTO {table} (name, age) VALUES (%s, %s)", ["dup", 2])
        # the failed statement did not break the connection
        assert conn.execute(f"SELECT COUNT(*) FROM {table}") == [(1,)]

    def test_syntax_error_is_a_database_error(self, suite_db: str) -> None:
        with pytest.raises(dorm.DatabaseError):
            dorm.get_connection(suite_db).execute("SELEKT 1")

    def test_orm_unique_violation_is_integrity_error(self, suite_db: str) -> None:
        Author.objects.create(name="same")
        with pytest.raises(dorm.IntegrityError):
            Author.objects.create(name="same")

    def test_autocommit_outside_atomic(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "threads")
        Author.objects.create(name="committed")
        assert in_other_thread(lambda: Author.objects.filter(name="committed").count()) == 1


class _Timeout:
    """A ``dorm_statement`` wrapper giving every statement of this thread a timeout."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self.thread = threading.get_ident()

    @dorm.hookimpl
    def dorm_statement(self, statement: Any) -> Any:
        if threading.get_ident() == self.thread:
            statement.timeout_ms = self.timeout_ms
        yield


class TestSuiteConstraintsAndTimeouts:
    def test_foreign_key_enforced(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "foreign_keys")
        q = dorm.connections[suite_db].ops.quote_name
        with pytest.raises(dorm.IntegrityError):
            dorm.get_connection(suite_db).execute(
                f"INSERT INTO {q('djanorm_suite_book')} (title, pages, author_id) VALUES (%s, %s, %s)",
                ["orphan", 1, 987654],
            )

    def test_statement_timeout_cancels(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "statement_timeout")
        slow = (
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 500000000) SELECT COUNT(*) FROM t"
        )
        hook = _Timeout(100)
        dorm.plugins.kernel.register(hook)
        try:
            with pytest.raises(dorm.QueryCanceledError):
                dorm.get_connection(suite_db).execute(slow)
        finally:
            dorm.plugins.kernel.unregister(hook)
        assert dorm.get_connection(suite_db).execute("SELECT %s", [1]) == [(1,)]  # the connection is still good
