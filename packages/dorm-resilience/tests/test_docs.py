"""The ```python blocks of docs/budgets.md, docs/circuit-breaker.md and docs/nplusone.md run as written (SQLite)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import dorm
from dorm.conf import settings

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: str) -> list[str]:
    return BLOCK.findall((ROOT / "docs" / page).read_text(encoding="utf-8"))


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
        from dorm.models import apps

        apps.all_models.pop("shop", None)
        from dorm_resilience.circuit import configure_alias_breakers

        configure_alias_breakers(settings if settings.configured else _Empty())


class _Empty:
    def get(self, name: str, default: object = None) -> object:
        return default


@pytest.mark.parametrize("page", ["budgets.md", "circuit-breaker.md", "nplusone.md"])
def test_page_examples_run(page: str, sandbox: None, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks(page)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {"__name__": f"docs_{page.split('.')[0].replace('-', '_')}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"docs/{page} (python block {number})", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples
    if page == "nplusone.md":
        assert "1 N+1 pattern(s) found" in capsys.readouterr().out
