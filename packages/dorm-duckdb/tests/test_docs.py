"""The code blocks of ``docs/duckdb.md`` run as written; ``dorm --version`` lists dorm-duckdb."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import dorm
from dorm.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def _load_helper() -> ModuleType:
    path = ROOT / "packages" / "dorm-core" / "tests" / "docs_examples.py"
    spec = importlib.util.spec_from_file_location("docs_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_examples = _load_helper()


@pytest.fixture
def restore_settings() -> Iterator[None]:
    previous = dict(settings._values) if settings.configured else None
    try:
        yield
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()


def test_docs_page_examples_run(restore_settings: None) -> None:
    namespace = docs_examples.run_python_blocks(ROOT / "docs" / "duckdb.md")
    assert "db" in namespace and "City" in namespace  # the page's own asserts did the checking


def test_dorm_version_lists_dorm_duckdb() -> None:
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, "-m", "dorm.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"dorm-duckdb {version('dorm-duckdb')}" in out.splitlines()


def test_url_settings(restore_settings: None, tmp_path: Path) -> None:
    dorm.configure(DATABASES={"default": {"URL": f"duckdb:///{tmp_path}/u.duckdb?timezone=UTC"}})
    from dorm.db.connections import connections

    assert connections["default"].vendor == "duckdb"
    assert dorm.get_connection().execute("SELECT current_setting('TimeZone')") == [("UTC",)]
    assert (tmp_path / "u.duckdb").exists()
