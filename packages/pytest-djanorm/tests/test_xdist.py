"""An async suite under ``pytest -n 2``: one test database per worker, and the run ends (bounded time)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

ASYNC_TESTS = """
import os

import dorm
import pytest
from dorm import transaction
from library.models import Author


@pytest.mark.parametrize("i", range(15))
async def test_isolated(atransactional_db, i):
    await Author.objects.acreate(name=f"{__name__}-{i}")
    assert await Author.objects.acount() == 1


@pytest.mark.parametrize("i", range(5))
async def test_live(live_db, i):
    async with transaction.aatomic():
        await Author.objects.acreate(name=f"live-{__name__}-{i}")
    assert await Author.objects.acount() == 1


async def test_own_database(atransactional_db):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert str(dorm.conf.settings.database("default")["NAME"]).endswith(f"_{worker}" + ("" if "{engine}" == "postgresql" else ".sqlite3"))
"""

#: The inner run must finish well inside this; a hang (a pool outliving its loop) fails the test instead.
BOUND_SECONDS = 120


def test_async_suite_with_two_workers(project: Callable[..., pytest.Pytester], engine: str) -> None:
    source = ASYNC_TESTS.replace("{engine}", engine)
    pytester = project(engine, tests={"test_async_a.py": source, "test_async_b.py": source})
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-n", "2", timeout=BOUND_SECONDS)
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=42)
    result.stdout.fnmatch_lines(["*2 workers*"])
    print(f"-n 2 async suite on {engine}: {elapsed:.1f}s")
    assert elapsed < BOUND_SECONDS
