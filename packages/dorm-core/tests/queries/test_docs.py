"""The code blocks of ``docs/queries.md`` and ``docs/async.md`` run as written (SQLite)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import dorm
from dorm.conf import settings
from dorm.models import apps

ROOT = Path(__file__).resolve().parents[4]


def _load_helper() -> ModuleType:
    path = ROOT / "packages" / "dorm-core" / "tests" / "docs_examples.py"
    spec = importlib.util.spec_from_file_location("dorm_core_docs_examples_q", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_examples = _load_helper()


@pytest.fixture
def page_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in a temporary directory; put the settings back; forget the page's models."""
    monkeypatch.chdir(tmp_path)
    previous = dict(settings._values) if settings.configured else None
    try:
        yield
    finally:
        dorm.close_all()
        if previous is not None:
            dorm.configure(**previous)
        else:
            settings.reset()
        apps.all_models.pop("models", None)


@pytest.mark.parametrize("page", ["queries.md", "async.md"])
def test_docs_page_examples_run(page: str, page_sandbox: None) -> None:
    docs_examples.run_python_blocks(ROOT / "docs" / page, {"__name__": "models.models"})
