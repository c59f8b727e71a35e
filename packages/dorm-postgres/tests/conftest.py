"""PostgreSQL test setup: one throw-away database per session (and per xdist worker).

Server settings come from ``DORM_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/``).  Without a reachable server
every test here skips with the reason, unless ``DORM_TEST_REQUIRE_POSTGRES=1``
is set, which turns the skip into a failure (CI).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

import dorm

PG_URL = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/")
REQUIRE = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"
_app_names = itertools.count(1)


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _test_db_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"dorm_test_pg_{worker}_{os.getpid()}"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The server URL with the maintenance database; skip (or fail) without a server."""
    url = _with_db(PG_URL, "postgres")  # the maintenance database, whatever DORM_TEST_PG_URL names
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        message = f"no PostgreSQL server reachable at {PG_URL} ({error}); set DORM_TEST_PG_URL"
        if REQUIRE:
            pytest.fail(message + " (DORM_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_db_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database for this session, dropped at the end."""
    name = _test_db_name()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(PG_URL, name)
    dorm.close_all()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def admin(pg_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A plain psycopg connection to the test database, outside every pool."""
    with psycopg.connect(pg_db_url, autocommit=True, application_name="dorm_test_admin") as conn:
        yield conn


@pytest.fixture
def configure_pg(pg_db_url: str) -> Iterator[Callable[..., str]]:
    """``configure_pg(**alias_settings) -> application_name``: point ``default`` at the test database.

    Each call gets its own ``application_name`` so tests can count their
    server connections in ``pg_stat_activity``.
    """

    def configure(**overrides: Any) -> str:
        app = f"dorm_test_{os.getpid()}_{next(_app_names)}"
        extra = overrides.pop("EXTRA_ALIASES", None) or {}
        options = dict(overrides.pop("OPTIONS", {}))
        options.setdefault("application_name", app)
        databases: dict[str, Any] = {"default": {"URL": pg_db_url, "OPTIONS": options, **overrides}, **extra}
        dorm.close_all()
        dorm.configure(DATABASES=databases)
        return str(options["application_name"])

    yield configure
    dorm.close_all()


class PgAdmin:
    """Helpers over the admin connection (a fixture, since test modules cannot import conftest)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def connections(self, app: str, state: str | None = None) -> int:
        """How many server backends carry ``application_name = app`` (optionally in ``state``)."""
        return _count(self.conn, app, state)

    def terminate(self, app: str) -> int:
        """``pg_terminate_backend`` every backend of ``app``; returns how many."""
        return _terminate(self.conn, app)

    def scalar(self, sql: str, params: Any = None) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]


@pytest.fixture
def pg(admin: psycopg.Connection[Any]) -> PgAdmin:
    return PgAdmin(admin)


def _count(admin: psycopg.Connection[Any], app: str, state: str | None = None) -> int:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    params: list[Any] = [app]
    if state is not None:
        sql += " AND state = %s"
        params.append(state)
    row = admin.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def _terminate(admin: psycopg.Connection[Any], app: str) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [app]
    ).fetchall()
    return len(rows)
