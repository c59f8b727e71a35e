"""pytest-djanorm's conformance suite again, on a DuckDB file database (the other module runs it in memory)."""

from typing import Any

import pytest

from pytest_djanorm.suite import *  # noqa: F403


@pytest.fixture(scope="session")
def djanorm_settings() -> dict[str, Any]:
    return {"DATABASES": {"default": {"ENGINE": "duckdb", "NAME": "suite.duckdb"}}}
