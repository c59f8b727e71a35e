"""The suite's fixtures: the alias under test, its ``Requirements``, the suite's tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_djanorm.databases import NoSettingsError, TestDatabases, test_databases
from pytest_djanorm.suite.models import SUITE_MODELS
from pytest_djanorm.suite.requirements import Requirements

__all__ = ["djanorm_suite_alias", "requirements", "require", "suite_databases", "suite_db", "suite_schema"]


@pytest.fixture(scope="session")
def djanorm_suite_alias() -> str:
    """The alias the suite runs on; override to test another (``default`` routing must reach it)."""
    return "default"


@pytest.fixture(scope="module")
def requirements(djanorm_suite_alias: str) -> Requirements:
    """The capabilities of the backend under test; override to return your ``Requirements`` subclass."""
    return Requirements(djanorm_suite_alias)


@pytest.fixture(scope="module")
def suite_databases(djanorm_settings: dict[str, Any] | None) -> Iterator[TestDatabases]:
    """The test databases of the module that imported the suite, from its ``djanorm_settings``.

    Module-scoped (not the plugin's session fixture) so that two backends'
    ``test_suite.py`` in one pytest run each get their own settings.
    """
    try:
        with test_databases(djanorm_settings, build=False) as dbs:
            yield dbs
    except NoSettingsError as exc:
        pytest.fail(str(exc), pytrace=False)


def require(requirements: Requirements, *names: str) -> None:
    """Skip the calling test unless every named requirement holds."""
    for name in names:
        if not getattr(requirements, name):
            pytest.skip(
                f"requirement {name!r} not met by the backend under test ({type(requirements).__name__}.{name} is False)"
            )


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


@pytest.fixture(scope="module")
def suite_schema(djanorm_suite_alias: str, suite_databases: TestDatabases) -> Iterator[str]:
    """The suite's tables, created once on the alias under test (leftovers dropped first)."""
    from dorm.migrations import create_tables

    suite_databases.activate()
    alias = djanorm_suite_alias
    _drop(alias, list(reversed(suite_tables())))
    create_tables(SUITE_MODELS, using=alias)
    yield alias
    suite_databases.activate()
    _drop(alias, list(reversed(suite_tables())))


@pytest.fixture
def suite_db(suite_schema: str, suite_databases: TestDatabases) -> Iterator[str]:
    """The alias under test with empty suite tables; rows are committed for real and deleted after the test."""
    from dorm.db.connections import connections, get_connection

    suite_databases.activate()
    alias = suite_schema
    yield alias
    suite_databases.activate()
    conn = get_connection(alias)
    q = connections[alias].ops.quote_name
    for table in reversed(suite_tables()):  # children first
        conn.execute(f"DELETE FROM {q(table)}")
