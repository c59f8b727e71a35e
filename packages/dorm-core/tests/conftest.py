"""Shared fixtures: one configured alias per available backend (pytest-djanorm's matrix).

Tests written against ``alias`` run unchanged on SQLite and, when reachable,
PostgreSQL (database ``dorm_test_core``); see ``pytest_djanorm.backends``.
"""

from __future__ import annotations

from pytest_djanorm.backends import BackendMatrix

matrix = BackendMatrix(pg_database="dorm_test_core")
alias = matrix.alias_fixture()
backend = matrix.backend_fixture()
create_tables = matrix.create_tables_fixture()
