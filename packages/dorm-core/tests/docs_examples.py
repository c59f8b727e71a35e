"""Run the ```python code blocks of a docs page, in order, in one namespace.

A plain helper with no dependencies, so any package's tests can load it by
path (or copy it)::

    import importlib.util
    from pathlib import Path

    _path = Path(__file__).parents[2] / "dorm-core" / "tests" / "docs_examples.py"
    _spec = importlib.util.spec_from_file_location("docs_examples", _path)
    docs_examples = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(docs_examples)

    def test_docs_page() -> None:
        docs_examples.run_python_blocks(ROOT / "docs" / "sqlite.md")

Blocks fenced as ```python run; any other fence (```text, ```py-norun, ```console)
is left alone.  A block may use top-level ``await``: it then runs in its own
``asyncio.run``.  Tracebacks point at the page's own line numbers.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from pathlib import Path
from typing import Any

__all__ = ["python_blocks", "run_python_blocks"]

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(path: str | Path) -> list[tuple[int, str]]:
    """``(first line number, source)`` of each ```python block of a Markdown file."""
    text = Path(path).read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in _BLOCK.finditer(text)]


def run_python_blocks(path: str | Path, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute every ```python block of ``path`` in order in one namespace; returns the namespace."""
    scope: dict[str, Any] = {"__name__": "__docs__"} if namespace is None else namespace
    blocks = python_blocks(path)
    if not blocks:
        raise AssertionError(f"{path} has no ```python blocks to run")
    for first_line, source in blocks:
        padded = "\n" * (first_line - 1) + source  # keep the page's line numbers in tracebacks
        code = compile(padded, str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if code.co_flags & inspect.CO_COROUTINE:
            asyncio.run(eval(code, scope))
        else:
            exec(code, scope)
    return scope
