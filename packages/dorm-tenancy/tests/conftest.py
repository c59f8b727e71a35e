"""dorm-tenancy fixtures: one configured alias per available backend (pytest-djanorm's matrix,
database ``dorm_test_tenancy`` on PostgreSQL), and the tenancy hooks active only during
this package's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_djanorm.backends import BackendMatrix

matrix = BackendMatrix(pg_database="dorm_test_tenancy")
alias = matrix.alias_fixture()
backend = matrix.backend_fixture()
create_tables = matrix.create_tables_fixture()


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
