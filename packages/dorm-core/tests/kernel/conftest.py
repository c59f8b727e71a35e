"""Isolation for kernel tests: a fresh plugin kernel, empty settings and no open aliases per test.

Whatever the surrounding test session configured (settings, connections,
the global kernel) is set aside for the test and put back afterwards, so
these tests neither see nor disturb it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from dorm import conf, plugins
from dorm.db import executor
from dorm.db.connections import connections as handler
from dorm.db.router import router

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_BACKEND_SRC = FIXTURES / "fake-backend" / "src"
FAKE_ENGINE = "fake_backend.base.DatabaseWrapper"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[conf.Settings]:
    """No settings, no env switch, no backends: discovery starts from scratch."""
    settings = conf.settings
    saved = (settings._values, settings.source, dict(handler._wrappers), executor.slow_query_seconds)
    settings._values, settings.source = None, None
    handler._wrappers.clear()
    router.reset()
    monkeypatch.delenv(conf.SETTINGS_ENV, raising=False)
    monkeypatch.delenv(plugins.AUTOLOAD_ENV, raising=False)
    monkeypatch.delitem(sys.modules, "settings", raising=False)
    try:
        yield settings
    finally:
        for wrapper in list(handler._wrappers.values()):
            wrapper.close()
        handler._wrappers.clear()
        settings._values, settings.source = saved[0], saved[1]
        handler._wrappers.update(saved[2])
        executor.slow_query_seconds = saved[3]
        router.reset()
        sys.modules.pop("settings", None)


@pytest.fixture(autouse=True)
def kernel() -> Iterator[plugins.Kernel]:
    """A fresh kernel without autoloaded plugins, active for the test only."""
    fresh = plugins.Kernel(autoload=False)
    previous = fresh.activate()
    try:
        yield fresh
    finally:
        previous.activate()


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[EntryPoint]]:
    """Replace entry point discovery with a table the test fills: ``{group: [EntryPoint, ...]}``."""
    table: dict[str, list[EntryPoint]] = {
        plugins.PLUGINS_GROUP: [],
        plugins.BACKENDS_GROUP: [],
        plugins.CONTRIB_GROUP: [],
    }
    monkeypatch.setattr(plugins, "_entry_points", lambda group: list(table.get(group, [])))
    return table


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> str:
    """The ``ENGINE`` dotted path of the fixture backend (sqlite3 behind the SPI)."""
    monkeypatch.syspath_prepend(str(FAKE_BACKEND_SRC))
    return FAKE_ENGINE


@pytest.fixture
def fake_db(tmp_path: Path, fake_engine: str) -> dict[str, str]:
    """Alias settings for a fresh database file on the fixture backend."""
    return {"ENGINE": fake_engine, "NAME": str(tmp_path / "fake.sqlite3")}
