"""A third party runs the conformance suite: one file, one import, its settings; unmet requirements skip."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

THIRD_PARTY = """
import pytest

from pytest_djanorm.suite import *  # noqa: F403
from pytest_djanorm.suite import Requirements


class NoRegex(Requirements):
    @property
    def regex(self):
        return False


@pytest.fixture(scope="session")
def djanorm_settings():
    return {"DATABASES": {"default": {"ENGINE": "sqlite", "NAME": "thirdparty.db"}}}


@pytest.fixture(scope="module")
def requirements(djanorm_suite_alias):
    return NoRegex(djanorm_suite_alias)
"""


def test_third_party_runs_the_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DORM_SETTINGS_MODULE", raising=False)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = session\nfilterwarnings = error\n"
    )
    pytester.makepyfile(test_suite=THIRD_PARTY)
    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 70
    result.stdout.fnmatch_lines(["*requirement 'regex' not met by the backend under test (NoRegex.regex is False)*"])
