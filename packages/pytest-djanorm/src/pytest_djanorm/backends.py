"""Run the same tests on every available backend: the ``alias`` fixture matrix.

For plugin and library authors who want each test to run once per backend
(SQLite always, PostgreSQL when reachable), the way djanorm's own packages
test themselves.  In your ``conftest.py``::

    from pytest_djanorm.backends import BackendMatrix

    matrix = BackendMatrix(pg_database="myplugin_tests")
    alias = matrix.alias_fixture()
    backend = matrix.backend_fixture()
    create_tables = matrix.create_tables_fixture()

``alias`` is parametrized over ``"sqlite"`` (a temporary file) and
``"postgresql"`` (``DORM_TEST_PG_URL``'s server, default
``postgresql://postgres@127.0.0.1:5432/``, database ``pg_database`` created
if missing; under pytest-xdist each worker gets ``<pg_database>_<worker>``).  An unreachable server skips with the reason, unless
``DORM_TEST_REQUIRE_POSTGRES=1`` makes it a failure.  A router sends every
model to the running test's alias, so plain ``Model.objects...`` calls hit
it.  ``create_tables(*models)`` creates tables with the backend's schema
editor and drops them after the test.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["BackendMatrix"]

REQUIRE_PG = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"


class BackendMatrix:
    """The settings, router and fixtures of one test package's backend matrix."""

    def __init__(self, *, pg_database: str, name: str | None = None) -> None:
        server = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:  # xdist workers create and drop the same tables: one database each
            pg_database = f"{pg_database}_{worker}"
        self.pg_url = server.rsplit("/", 1)[0] + "/" + pg_database
        label = name or pg_database
        self.sqlite_path = os.path.join(tempfile.mkdtemp(prefix=f"{label}-"), f"{label}.sqlite3")
        self._current: contextvars.ContextVar[str | None] = contextvars.ContextVar(f"{label}_alias", default=None)
        self._pg_reason: list[str | None] = []
        self.router = _MatrixRouter(self._current)

    # -- PostgreSQL availability ------------------------------------------------

    def postgres_reason(self) -> str | None:
        """None when PostgreSQL is usable (the database created if needed), else why not."""
        if self._pg_reason:
            return self._pg_reason[0]
        reason: str | None = None
        try:
            import psycopg
            from psycopg import sql

            from dorm.conf import parse_database_url

            dbname = parse_database_url(self.pg_url)["NAME"]
            admin = self.pg_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except Exception as exc:  # any failure means: not reachable
            reason = f"PostgreSQL not reachable at {self.pg_url}: {type(exc).__name__}: {exc}"
        self._pg_reason.append(reason)
        return reason

    # -- settings ---------------------------------------------------------------

    def databases(self) -> dict[str, Any]:
        sqlite = {"ENGINE": "sqlite", "NAME": self.sqlite_path}
        dbs: dict[str, Any] = {"default": sqlite, "sqlite": dict(sqlite)}
        if self.postgres_reason() is None:
            dbs["postgresql"] = {"URL": self.pg_url, "MIN_POOL_SIZE": 1, "MAX_POOL_SIZE": 4}
        return dbs

    def configure(self) -> None:
        """(Re)apply the matrix's settings; unchanged aliases keep their connections."""
        import dorm
        from dorm.conf import settings

        wanted = self.databases()
        values = settings._values
        if (
            values is not None
            and values.get("DATABASES", {}).get("sqlite", {}).get("NAME") == self.sqlite_path
            and set(values.get("DATABASES", {})) == set(wanted)
            and self.router in (values.get("DATABASE_ROUTERS") or ())
        ):
            return
        dorm.configure(DATABASES=wanted, DATABASE_ROUTERS=[self.router])

    # -- fixtures ---------------------------------------------------------------

    def alias_fixture(self) -> Any:
        matrix = self

        @pytest.fixture(params=["sqlite", "postgresql"])
        def alias(request: pytest.FixtureRequest) -> Iterator[str]:
            """The alias of one backend; every model is routed to it for the test."""
            name: str = request.param
            if name == "postgresql":
                reason = matrix.postgres_reason()
                if reason is not None:
                    if REQUIRE_PG:
                        pytest.fail(reason + " (DORM_TEST_REQUIRE_POSTGRES=1)")
                    pytest.skip(reason)
            matrix.configure()
            token = matrix._current.set(name)
            try:
                yield name
            finally:
                matrix._current.reset(token)

        return alias

    def backend_fixture(self) -> Any:
        @pytest.fixture
        def backend(alias: str) -> Any:
            """The backend wrapper of ``alias``."""
            from dorm.db.connections import connections

            return connections[alias]

        return backend

    def create_tables_fixture(self) -> Any:
        @pytest.fixture
        def create_tables(alias: str) -> Iterator[Callable[..., None]]:
            """``create_tables(Model, ...)``: create tables now (dropping leftovers), drop them after the test."""
            created: list[Any] = []

            def create(*models: Any) -> None:
                for model in models:
                    _drop_quietly(alias, model)
                    _create(alias, model)
                    created.append(model)

            yield create
            for model in reversed(created):
                _drop_quietly(alias, model)

        return create_tables


class _MatrixRouter:
    """Routes every model to the alias of the running test."""

    def __init__(self, current: contextvars.ContextVar[str | None]) -> None:
        self._current = current

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return self._current.get()

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return self._current.get()


def _create(alias: str, model: Any) -> None:
    from dorm.db.connections import connections

    wrapper = connections[alias]
    conn = wrapper.acquire()
    try:
        wrapper.schema_editor(conn).create_model(model)
    finally:
        wrapper.release(conn)


def _drop_quietly(alias: str, model: Any) -> None:
    from dorm.db.connections import get_connection

    conn = get_connection(alias)
    q = conn.backend.ops.quote_name
    tables = [
        m2m.through._meta.db_table
        for m2m in model._meta.local_many_to_many
        if getattr(m2m.through._meta, "auto_created", False)
    ]
    tables.append(model._meta.db_table)
    cascade = " CASCADE" if conn.backend.vendor == "postgresql" else ""
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}{cascade}")
