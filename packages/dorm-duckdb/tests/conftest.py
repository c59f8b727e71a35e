"""Fixtures: a fresh plugin kernel per test and DuckDB aliases (file and in-memory)."""

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


def configure(databases: dict[str, Any], **extra: Any) -> Iterator[None]:
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


def db_name(kind: str, tmp_path: Path) -> str:
    return str(tmp_path / "test.duckdb") if kind == "file" else ":memory:"


@pytest.fixture(params=["file", "memory"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``default`` on a file database, then on an in-memory one; a table ``item`` exists."""
    for _ in configure({"default": {"ENGINE": "duckdb", "NAME": db_name(request.param, tmp_path)}}):
        dorm.get_connection().execute_script(
            "CREATE SEQUENCE item_id_seq; "
            "CREATE TABLE item (id BIGINT PRIMARY KEY DEFAULT nextval('item_id_seq'), name VARCHAR NOT NULL UNIQUE, qty INTEGER DEFAULT 0)"
        )
        yield request.param


@pytest.fixture
def small_pool_db() -> Iterator[None]:
    """``default`` in memory with an async pool of one connection and a 0.2 s checkout timeout."""
    yield from configure({"default": {"ENGINE": "duckdb", "NAME": ":memory:", "MAX_POOL_SIZE": 1, "POOL_TIMEOUT": 0.2}})


@pytest.fixture(params=["file", "memory"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``default`` on an empty file database, then on an in-memory one (``USE_TZ=True``)."""
    yield from (
        request.param
        for _ in configure({"default": {"ENGINE": "duckdb", "NAME": db_name(request.param, tmp_path)}}, USE_TZ=True)
    )
