"""The ```python blocks of docs/tenancy.md run as written, top to bottom (SQLite)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import dorm
from dorm.conf import settings
from dorm.models import apps

ROOT = Path(__file__).resolve().parents[4]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in a temporary folder; put the settings back; forget the page's models."""
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
        apps.all_models.pop("tenancy_docs", None)


def test_tenancy_page_examples_run(sandbox: None) -> None:
    blocks = BLOCK.findall((ROOT / "docs" / "tenancy.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "docs_tenancy"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"docs/tenancy.md (python block {number})", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples
    assert dorm.get_current_tenant() is None
