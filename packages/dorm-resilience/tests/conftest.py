"""Fixtures: a fresh kernel (with dorm-resilience loaded) per test, and SQLite / PostgreSQL aliases.

PostgreSQL comes from ``DORM_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/``) with a database of our own,
``dorm_test_resilience_<worker>_<pid>``.  Without a server the PostgreSQL tests
skip with the reason, unless ``DORM_TEST_REQUIRE_POSTGRES=1`` (then they fail).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

import dorm
from dorm import plugins
from dorm.conf import settings
from dorm_resilience import circuit

PG_URL = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/")
REQUIRE_PG = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"

#: SQLite needs a CPU-bound statement to be slow: counting a recursive CTE.
SQLITE_SLOW = (
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 300000000) SELECT count(*) FROM r"
)
PG_SLOW = "SELECT pg_sleep(5)"


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@pytest.fixture(autouse=True)
def kernel() -> Iterator[plugins.Kernel]:
    """A fresh kernel that autoloads the installed plugins (dorm-resilience among them)."""
    fresh = plugins.Kernel(autoload=True)
    previous = fresh.activate()
    try:
        yield fresh
    finally:
        previous.activate()


@pytest.fixture(autouse=True)
def _forget_breakers() -> Iterator[None]:
    before = set(circuit.get_breakers())
    yield
    for name in set(circuit.get_breakers()) - before:
        circuit.forget_breaker(name)


def configure(databases: dict[str, Any]) -> Iterator[None]:
    previous = dict(settings._values) if settings.configured else None
    dorm.close_all()
    dorm.configure(DATABASES=databases)
    try:
        yield
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()
        # per-alias breakers follow the settings; drop them with the test's settings
        circuit.configure_alias_breakers(_NoSettings())


class _NoSettings:
    def get(self, name: str, default: Any = None) -> Any:
        return default


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of our own on the test server; skip (or fail) without a server."""
    psycopg = pytest.importorskip("psycopg")
    server = _with_db(PG_URL, urlsplit(PG_URL).path.lstrip("/") or "postgres")
    try:
        with psycopg.connect(server, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        message = f"no PostgreSQL server reachable at {PG_URL} ({error}); set DORM_TEST_PG_URL"
        if REQUIRE_PG:
            pytest.fail(message + " (DORM_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    # per worker and process: two test runs at once (CI, a colleague) must not share tables
    name = f"dorm_test_resilience_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(PG_URL, name)
    dorm.close_all()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alias_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    if backend == "sqlite":
        return {"ENGINE": "sqlite", "NAME": str(tmp_path / "resilience.sqlite3")}
    url = request.getfixturevalue("pg_url")
    return {"URL": url}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``default`` on SQLite (a file), then on PostgreSQL; a table ``item`` with 20 rows exists."""
    for _ in configure({"default": alias_settings(request.param, tmp_path, request)}):
        conn = dorm.get_connection()
        conn.execute("DROP TABLE IF EXISTS item")
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)")
        conn.executemany("INSERT INTO item (id, name) VALUES (%s, %s)", [(i, f"item {i}") for i in range(1, 21)])
        yield request.param


@pytest.fixture
def slow_sql(backend: str) -> str:
    """A statement that runs for seconds unless cancelled."""
    return SQLITE_SLOW if backend == "sqlite" else PG_SLOW


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[None]:
    """``default`` on a SQLite file with a table ``item`` (20 rows)."""
    for _ in configure({"default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "resilience.sqlite3")}}):
        conn = dorm.get_connection()
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)")
        conn.executemany("INSERT INTO item (id, name) VALUES (%s, %s)", [(i, f"item {i}") for i in range(1, 21)])
        yield


class Helpers:
    """Helpers for test modules (which cannot import conftest under importlib mode)."""

    configure = staticmethod(configure)
    alias_settings = staticmethod(alias_settings)


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers
