"""The suite's fixtures: the alias under test, its ``Requirements``, the suite's tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_djanorm.databases import TestDatabases
from pytest_djanorm.suite.models import SUITE_MODELS
from pytest_djanorm.suite.requirements import Requirements

__all__ = ["djanorm_suite_alias", "requirements", "require", "suite_db", "suite_schema"]


@pytest.fixture(scope="session")
def djanorm_suite_alias() -> str:
    """The alias the suite runs on; override to test another (``default`` routing must reach it)."""
    return "default"


@pytest.fixture(scope="session")
def requirements(djanorm_suite_alias: str, djanorm_setup_databases: TestDatabases) -> Requirements:
    """The capabilities of the backend under test; override to return your ``Requirements`` subclass."""
    return Requirements(djanorm_suite_alias)


def require(requirements: Requirements, *names: str) -> None:
    """Skip the calling test unless every named requirement holds."""
    for name in names:
        if not getattr(requirements, name):
            pytest.skip(f"requirement {name!r} not met by the backend under test ({type(requirements).__name__}.{name} is False)")


def _drop(alias: str, tables: list[str]) -> None:
    from dorm.db.connections import connections, get_connection

    conn = get_connection(alias)
    q = connections[alias].ops.quote_name
    cascade = " CASCADE" if connections[alias].vendor == "postgresql" else ""
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}{cascade}")


def suite_tables() -> list[str]:
    tables = []
    for model in SUITE_MODELS:
        tables.append(model._meta.db_table)
        tables += [f.through._meta.db_table for f in model._meta.local_many_to_many]  # type: ignore[attr-defined]
    return tables


@pytest.fixture(scope="session")
def suite_schema(djanorm_suite_alias: str, djanorm_setup_databases: TestDatabases) -> Iterator[str]:
    """The suite's tables, created once on the alias under test (leftovers dropped first)."""
    from dorm.migrations import create_tables

    djanorm_setup_databases.activate()
    alias = djanorm_suite_alias
    _drop(alias, list(reversed(suite_tables())))
    create_tables(SUITE_MODELS, using=alias)
    yield alias
    djanorm_setup_databases.activate()
    _drop(alias, list(reversed(suite_tables())))


@pytest.fixture
def suite_db(suite_schema: str, djanorm_setup_databases: TestDatabases) -> Iterator[str]:
    """The alias under test with empty suite tables; rows are committed for real and deleted after the test."""
    from dorm.db.connections import connections, get_connection

    djanorm_setup_databases.activate()
    alias = suite_schema
    yield alias
    djanorm_setup_databases.activate()
    conn = get_connection(alias)
    q = connections[alias].ops.quote_name
    for table in reversed(suite_tables()):  # children first
        conn.execute(f"DELETE FROM {q(table)}")
