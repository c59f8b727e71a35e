"""dorm-tenancy fixtures (the dorm-core pattern): one configured alias per available backend.

``alias`` is parametrized over ``"sqlite"`` (always: a temporary file) and
``"postgresql"`` (when reachable at ``DORM_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/dorm_test_tenancy``; the database is
created if missing).  An unreachable server skips with the reason, unless
``DORM_TEST_REQUIRE_POSTGRES=1``, which makes it a failure.

Tests written against ``alias`` run unchanged on every backend: a router
sends every model to the fixture's alias, so plain ``Model.objects...``
calls hit it.  ``create_tables(*models)`` creates tables with the backend's
schema editor and drops them after the test.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

PG_URL = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/dorm_test_tenancy")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one database per xdist worker: tables never collide
    PG_URL = f"{PG_URL}_{os.environ['PYTEST_XDIST_WORKER']}"
REQUIRE_PG = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"

_current_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar("dorm_test_alias", default=None)
_SQLITE_PATH = os.path.join(tempfile.mkdtemp(prefix="dorm-tenancy-tests-"), "tenancy.sqlite3")
_pg_state: dict[str, Any] = {}


class FixtureRouter:
    """Routes every model to the alias of the running test."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _current_alias.get()

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return _current_alias.get()


ROUTER = FixtureRouter()


def _postgres_reason() -> str | None:
    """None when PostgreSQL is usable (database created if needed), else why not."""
    if "reason" in _pg_state:
        return _pg_state["reason"]  # type: ignore[no-any-return]
    reason: str | None = None
    try:
        import psycopg
        from psycopg import sql

        from dorm.conf import parse_database_url

        info = parse_database_url(PG_URL)
        dbname = info["NAME"]
        admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except Exception as exc:  # any failure means: not reachable
        reason = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"
    _pg_state["reason"] = reason
    return reason


def _databases() -> dict[str, Any]:
    dbs: dict[str, Any] = {
        "default": {"ENGINE": "sqlite", "NAME": _SQLITE_PATH},
        "sqlite": {"ENGINE": "sqlite", "NAME": _SQLITE_PATH},
    }
    if _postgres_reason() is None:
        dbs["postgresql"] = {"URL": PG_URL, "MIN_POOL_SIZE": 1, "MAX_POOL_SIZE": 4}
    return dbs


def configure_test_databases() -> None:
    """(Re)apply the test settings; unchanged aliases keep their connections."""
    import dorm
    from dorm.conf import settings

    wanted = _databases()
    values = settings._values
    if (
        values is not None
        and set(values.get("DATABASES", {})) == set(wanted)
        and ROUTER in (values.get("DATABASE_ROUTERS") or ())
    ):
        return
    dorm.configure(DATABASES=wanted, DATABASE_ROUTERS=[ROUTER])


@pytest.fixture(params=["sqlite", "postgresql"])
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """The alias of one backend; every model is routed to it for the test."""
    name: str = request.param
    if name == "postgresql":
        reason = _postgres_reason()
        if reason is not None:
            if REQUIRE_PG:
                pytest.fail(reason + " (DORM_TEST_REQUIRE_POSTGRES=1)")
            pytest.skip(reason)
    configure_test_databases()
    token = _current_alias.set(name)
    try:
        yield name
    finally:
        _current_alias.reset(token)


@pytest.fixture
def backend(alias: str) -> Any:
    """The backend wrapper of ``alias``."""
    from dorm.db.connections import connections

    return connections[alias]


def _run_ddl(alias: str, action: Callable[[Any], None]) -> None:
    from dorm.db.connections import connections

    wrapper = connections[alias]
    conn = wrapper.acquire()
    try:
        action(wrapper.schema_editor(conn))
    finally:
        wrapper.release(conn)


@pytest.fixture
def create_tables(alias: str) -> Iterator[Callable[..., None]]:
    """``create_tables(Model, ...)``: create tables now (dropping leftovers), drop them after the test."""
    created: list[Any] = []

    def create(*models: Any) -> None:
        for model in models:
            _drop_quietly(alias, model)
            _run_ddl(alias, lambda editor, m=model: editor.create_model(m))
            created.append(model)

    yield create
    for model in reversed(created):
        _drop_quietly(alias, model)


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
    for table in tables:
        cascade = " CASCADE" if conn.backend.vendor == "postgresql" else ""
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}{cascade}")


# -- tenancy hooks: active during this package's tests only -----------------
# Importing the test models (at collection) registers the tenancy hooks; other
# packages' tests collected in the same run must not run with them.


def pytest_collection_finish(session: pytest.Session) -> None:
    from dorm_tenancy import scope

    scope.deactivate()


@pytest.fixture(autouse=True)
def _tenancy_hooks() -> Iterator[None]:
    from dorm_tenancy import scope

    scope.activate()
    try:
        yield
    finally:
        scope.deactivate()
