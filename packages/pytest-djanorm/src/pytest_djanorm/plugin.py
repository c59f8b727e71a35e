"""The ``djanorm`` entry of the ``pytest11`` group: installing pytest-djanorm is enough.

Fixtures (see ``docs/testing.md``):

* ``djanorm_settings`` (session): the settings to test with, as a dict for
  ``dorm.configure``; found like the ORM finds them (``--dorm-settings``,
  ``DORM_SETTINGS_MODULE``, ``settings.py`` in the working directory, or an
  earlier ``dorm.configure()``).  Override it in a conftest to return your own.
* ``djanorm_setup_databases`` (session): creates the test databases (one set
  per xdist worker) and builds the schema once.
* ``transactional_db`` / ``db``: the test runs inside ``atomic()`` on every
  alias, rolled back at its end.  ``atransactional_db``: the same with
  ``aatomic()`` for async tests.
* ``live_db``: real commits; every model table is emptied afterwards.
* ``assert_num_queries``: ``with assert_num_queries(3): ...``.
* ``nplusone``: the test fails if a SQL template repeats (dorm-resilience).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import pytest_asyncio

from pytest_djanorm.databases import NoSettingsError, TestDatabases, test_databases
from pytest_djanorm.queries import QueryCapture
from pytest_djanorm.queries import assert_num_queries as _assert_num_queries


class _EndOfTest(Exception):
    """Handed to the fixture's atomic blocks so they roll back without an error."""


# --------------------------------------------------------------------------
# options and hooks
# --------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("djanorm", "djanorm test databases")
    group.addoption(
        "--dorm-settings",
        dest="dorm_settings",
        default=None,
        metavar="MODULE",
        help="dotted settings module for dorm (sets DORM_SETTINGS_MODULE).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "nplusone(threshold=5): the threshold of the `nplusone` fixture")
    module = config.getoption("dorm_settings", None)
    if module:
        os.environ["DORM_SETTINGS_MODULE"] = module
        root = str(config.rootpath)
        if root not in sys.path:  # the module lives in the project, like for the `dorm` CLI
            sys.path.insert(0, root)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so when async tests would get a loop per test (pools then stack up; see docs/testing.md)."""
    try:
        scopes = [
            config.getini(name) for name in ("asyncio_default_fixture_loop_scope", "asyncio_default_test_loop_scope")
        ]
    except ValueError:  # pytest-asyncio disabled
        return None
    if all(scope == "session" for scope in scopes):
        return None
    return (
        "djanorm: async tests run on a loop per test; for async suites set "
        'asyncio_default_fixture_loop_scope = "session" and asyncio_default_test_loop_scope = "session"'
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drain every pool the run opened, so no pool (or its threads) outlives the session."""
    if "dorm.db.connections" in sys.modules:
        from dorm.db.connections import close_all

        close_all()


# --------------------------------------------------------------------------
# settings and databases
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def djanorm_settings() -> dict[str, Any] | None:
    """The settings the test databases derive from (override to return your own dict)."""
    from dorm.conf import settings

    if not settings.try_setup():
        return None
    return {name: settings.get(name) for name in settings}


@pytest.fixture(scope="session")
def djanorm_setup_databases(djanorm_settings: dict[str, Any] | None) -> Iterator[TestDatabases]:
    """Create the test databases, configure dorm to use them, build the schema; drop them at the end."""
    try:
        with test_databases(djanorm_settings) as dbs:
            yield dbs
    except NoSettingsError as exc:
        pytest.fail(str(exc), pytrace=False)


def _aliases(dbs: TestDatabases) -> list[str]:
    dbs.activate()
    return list(dbs.databases)


# --------------------------------------------------------------------------
# per-test database access
# --------------------------------------------------------------------------


def _refuse_async(request: pytest.FixtureRequest, name: str) -> None:
    if inspect.iscoroutinefunction(getattr(request.node, "obj", None)):
        pytest.fail(
            f"{request.node.nodeid} is an async test but uses `{name}`, a sync transaction: its "
            "statements would raise TransactionManagementError. Use the `atransactional_db` fixture.",
            pytrace=False,
        )


@pytest.fixture
def transactional_db(djanorm_setup_databases: TestDatabases, request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test inside ``atomic()`` on every alias; everything it wrote is rolled back at its end.

    ``atomic()`` blocks in the code under test become savepoints;
    ``on_commit`` callbacks never run (use ``live_db`` for those).
    """
    from dorm.transaction import Atomic

    _refuse_async(request, "transactional_db")
    blocks: list[Atomic] = []
    try:
        for alias in _aliases(djanorm_setup_databases):
            block = Atomic(using=alias)
            block.__enter__()
            blocks.append(block)
        yield
    finally:
        end = _EndOfTest()
        for block in reversed(blocks):
            block.__exit__(_EndOfTest, end, None)


@pytest.fixture
def db(transactional_db: None) -> None:
    """``transactional_db`` under pytest-django's name."""


@pytest_asyncio.fixture
async def atransactional_db(
    djanorm_setup_databases: TestDatabases, request: pytest.FixtureRequest
) -> AsyncIterator[None]:
    """Async twin of ``transactional_db``: the test runs inside ``aatomic()`` on every alias, rolled back."""
    from dorm.transaction import AsyncAtomic

    mismatch = _loop_scope_mismatch(request)
    if mismatch is not None:
        pytest.fail(mismatch, pytrace=False)
    blocks: list[AsyncAtomic] = []
    try:
        for alias in _aliases(djanorm_setup_databases):
            block = AsyncAtomic(using=alias)
            await block.__aenter__()
            blocks.append(block)
        yield
    finally:
        end = _EndOfTest()
        for block in reversed(blocks):
            await block.__aexit__(_EndOfTest, end, None)


def _loop_scope_mismatch(request: pytest.FixtureRequest) -> str | None:
    """Why ``atransactional_db`` and the test would run on different event loops, if they would."""
    try:
        fixture_scope = request.config.getini("asyncio_default_fixture_loop_scope") or "function"
        test_scope = request.config.getini("asyncio_default_test_loop_scope") or "function"
    except ValueError:  # pytest-asyncio not active
        return None
    marker = request.node.get_closest_marker("asyncio")
    if marker is not None and marker.kwargs.get("loop_scope"):
        test_scope = marker.kwargs["loop_scope"]
    if fixture_scope == test_scope:
        return None
    return (
        f"atransactional_db would open its transaction on the {fixture_scope!r}-scoped event loop while "
        f"{request.node.nodeid} runs on a {test_scope!r}-scoped one; a connection cannot move between loops. "
        'Set asyncio_default_fixture_loop_scope = "session" and asyncio_default_test_loop_scope = "session" '
        "(and no per-test loop_scope), so fixtures and tests share one loop."
    )


@pytest.fixture
def live_db(djanorm_setup_databases: TestDatabases) -> Iterator[None]:
    """Real commits (on_commit callbacks run, other threads see the rows); every model table is emptied afterwards."""
    from pytest_djanorm.cleanup import flush_tables

    yield
    for alias in _aliases(djanorm_setup_databases):
        flush_tables(alias)


@pytest.fixture
def assert_num_queries() -> Callable[..., AbstractContextManager[QueryCapture]]:
    """``with assert_num_queries(3): ...`` (``using="alias"`` counts one alias); the failure lists the SQL."""
    return _assert_num_queries


_NPLUSONE_KEY = pytest.StashKey[Any]()


@pytest.fixture
def nplusone(request: pytest.FixtureRequest) -> Any:
    """Fail the test when one SQL template runs more than ``threshold`` times (default 5).

    The test's call phase runs inside ``dorm.contrib.nplusone.assert_no_nplusone``
    (so a finding is a test failure, not a teardown error); the fixture's
    value is the active detector.  Needs dorm-resilience
    (``pip install 'djanorm[resilience]'``); without it the test is skipped.
    Set the threshold with ``@pytest.mark.nplusone(threshold=3)``.
    """
    try:
        import dorm.contrib.nplusone  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the nplusone fixture needs dorm-resilience (pip install 'djanorm[resilience]'): {exc}")
    return NPlusOneHandle(request.node)


class NPlusOneHandle:
    """The fixture value: ``.detector`` is the active detector during the test's call."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    @property
    def detector(self) -> Any:
        return self._item.stash.get(_NPLUSONE_KEY, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if "nplusone" not in getattr(item, "fixturenames", ()):
        return (yield)
    try:
        from dorm.contrib.nplusone import assert_no_nplusone
    except ImportError:  # the fixture has skipped the test already
        return (yield)
    marker = item.get_closest_marker("nplusone")
    threshold = int(marker.kwargs.get("threshold", 5)) if marker else 5
    with assert_no_nplusone(threshold=threshold) as detector:
        item.stash[_NPLUSONE_KEY] = detector
        return (yield)
