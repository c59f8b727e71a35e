"""The code blocks of the core's docs pages run as written (SQLite)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import dorm
from dorm.conf import settings
from dorm.models import apps

ROOT = Path(__file__).resolve().parents[3]


def _load_helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dorm_core_docs_examples", Path(__file__).parent / "docs_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_examples = _load_helper()

# page -> the app label its models get (the page's code runs as "<app>.models")
PAGES = {"models.md": "library", "relations.md": "library", "queries.md": "models", "async.md": "models"}


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
        for app in set(PAGES.values()):
            apps.all_models.pop(app, None)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_docs_page_examples_run(page: str, page_sandbox: None) -> None:
    app = PAGES[page]
    namespace = docs_examples.run_python_blocks(ROOT / "docs" / page, {"__name__": f"{app}.models"})
    if app == "library":
        assert namespace["Author"]._meta.app_label == "library"
