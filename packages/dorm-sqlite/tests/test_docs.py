"""The code blocks of ``docs/sqlite.md`` and ``docs/transactions.md`` run as written."""

from __future__ import annotations

import importlib.util
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


@pytest.mark.parametrize("page", ["sqlite.md", "transactions.md"])
def test_docs_page_examples_run(page: str, restore_settings: None) -> None:
    namespace = docs_examples.run_python_blocks(ROOT / "docs" / page)
    assert "db" in namespace  # the page's own asserts did the checking
