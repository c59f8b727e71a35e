"""dorm-duckdb runs pytest-djanorm's backend conformance suite exactly as a third-party backend would."""

from typing import Any

import pytest

from pytest_djanorm.suite import *  # noqa: F403


@pytest.fixture(scope="session")
def djanorm_settings() -> dict[str, Any]:
    return {"DATABASES": {"default": {"ENGINE": "duckdb", "NAME": ":memory:"}}}
