"""Fixtures: a fresh plugin kernel per test and SQLite aliases (file and in-memory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm.conf import settings


@pytest.fixture(autouse=True)
def kernel() -> Iterator[plugins.Kernel]:
    """A kernel with no plugins, so these tests see the backend alone."""
    fresh = plugins.Kernel(autoload=False)
    previous = fresh.activate()
    try:
        yield fresh
    finally:
        previous.activate()


def _configure(databases: dict[str, Any], **extra: Any) -> Iterator[None]:
    previous = dict(settings._values) if settings.configured else None
    dorm.configure(DATABASES=databases, **extra)
    try:
        yield
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[str]:
    """``default`` is a file database in a temporary folder."""
    yield from _configure({"default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "test.sqlite3")}})


@pytest.fixture
def memory_db() -> Iterator[str]:
    """``default`` is ``:memory:`` (one database shared by threads and the async path)."""
    yield from _configure({"default": {"ENGINE": "sqlite", "NAME": ":memory:"}})


@pytest.fixture(params=["file", "memory"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``default`` on a file database, then on an in-memory one; a table ``item`` exists."""
    name = str(tmp_path / "test.sqlite3") if request.param == "file" else ":memory:"
    for _ in _configure({"default": {"ENGINE": "sqlite", "NAME": name}}):
        dorm.get_connection().execute_script(
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER DEFAULT 0)"
        )
        yield request.param


@pytest.fixture
def two_dbs(tmp_path: Path) -> Iterator[None]:
    """``default`` and ``other``: two file databases, each with a table ``item``."""
    databases = {
        "default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "default.sqlite3")},
        "other": {"ENGINE": "sqlite", "NAME": str(tmp_path / "other.sqlite3")},
    }
    for _ in _configure(databases):
        for alias in databases:
            dorm.get_connection(alias).execute_script("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        yield
