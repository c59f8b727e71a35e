"""dorm-postgres runs pytest-djanorm's backend conformance suite exactly as a third-party backend would.

The server comes from ``DORM_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/dorm_suite``;
the suite works in ``test_<name>``).  No server: the tests skip with the reason, unless
``DORM_TEST_REQUIRE_POSTGRES=1``.
"""

import os
from typing import Any

import pytest

from pytest_djanorm.suite import *  # noqa: F403

URL = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/dorm_suite")


@pytest.fixture(scope="session")
def djanorm_settings() -> dict[str, Any]:
    import psycopg

    from dorm.conf import parse_database_url

    config = parse_database_url(URL)
    try:
        psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {URL}: {exc}"
        if os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (DORM_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    return {"DATABASES": {"default": {**config, "MAX_POOL_SIZE": 4}}}
