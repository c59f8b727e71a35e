"""The ``dorm.db`` logger: every statement at DEBUG, slow ones at WARNING."""

from __future__ import annotations

import logging

import pytest

import dorm
from dorm.conf import settings

SLOWISH_SQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c"


def test_each_statement_is_logged_at_debug(db: str, caplog: pytest.LogCaptureFixture) -> None:
    conn = dorm.get_connection()
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        conn.execute("INSERT INTO item (name) VALUES (%s)", ["a"])
        conn.execute("SELECT name FROM item WHERE name = %s", ["a"])
    records = [r for r in caplog.records if r.name == "dorm.db"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.DEBUG]
    insert, select = records
    assert insert.alias == "default" and insert.rows == 1  # type: ignore[attr-defined]
    assert select.rows == 1 and select.duration >= 0  # type: ignore[attr-defined]
    assert "alias=default" in select.getMessage() and "SELECT name FROM item" in select.getMessage()
    assert " ms)" in select.getMessage()


async def test_async_statements_are_logged(db: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        await dorm.get_connection().aexecute("SELECT 1")
    assert any(r.name == "dorm.db" and "SELECT 1" in r.getMessage() for r in caplog.records)


def test_slow_statements_are_logged_at_warning(tmp_path: object, caplog: pytest.LogCaptureFixture) -> None:
    previous = dict(settings._values) if settings.configured else None
    try:
        dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": ":memory:"}}, SLOW_QUERY_MS=1)
        with caplog.at_level(logging.WARNING, logger="dorm.db"):
            dorm.get_connection().execute("SELECT 1")
            dorm.get_connection().execute(SLOWISH_SQL)
        warnings = [r for r in caplog.records if r.name == "dorm.db"]
        assert len(warnings) == 1
        assert warnings[0].levelno == logging.WARNING
        assert "WITH RECURSIVE" in warnings[0].getMessage()
        assert warnings[0].duration >= 0.001  # type: ignore[attr-defined]
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()
