"""Fixtures: a temporary project per backend (see ``project.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .project import REQUIRE_PG, Project, _pg_reset, database_settings, pg_drop_all


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_test_databases() -> Iterator[None]:
    yield
    pg_drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql":
        reason = _pg_reset()
        if reason is not None:
            if REQUIRE_PG:
                pytest.fail(reason + " (DORM_TEST_REQUIRE_POSTGRES=1)")
            pytest.skip(reason)
    return name


@pytest.fixture
def project(tmp_path: Path, backend: str) -> Project:
    """``dorm init blog`` in a temporary folder, pointed at the backend under test."""
    root = tmp_path / "proj"
    root.mkdir()
    proj = Project(root, backend)
    proj.run("init", "blog")
    proj.aliases = {"default": database_settings(backend, root)}
    proj.write_settings()
    return proj


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    proj = Project(root, "sqlite")
    proj.run("init", "blog")
    proj.aliases = {"default": database_settings("sqlite", root)}
    proj.write_settings()
    return proj
