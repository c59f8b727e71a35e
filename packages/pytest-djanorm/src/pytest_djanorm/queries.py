"""``assert_num_queries``: count the statements a block runs.

The counter is a ``dorm_statement`` wrapper registered with the kernel only
while a block is open (an idle counter costs nothing per statement).
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import dorm
from dorm import plugins

__all__ = ["QueryCapture", "assert_num_queries", "capture_queries"]


class QueryCapture:
    """The statements seen while active: ``(alias, sql, params)`` in execution order."""

    def __init__(self, using: str | None = None) -> None:
        self.using = using
        self.statements: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()

    @dorm.hookimpl
    def dorm_statement(self, statement: Any) -> Generator[None, None, None]:
        yield
        if self.using is None or statement.alias == self.using:
            with self._lock:
                self.statements.append((statement.alias, statement.sql, statement.params))

    def __len__(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        lines = [
            f"  {i}. [{alias}] {sql}  params={params!r}" for i, (alias, sql, params) in enumerate(self.statements, 1)
        ]
        return "\n".join(lines) if lines else "  (none)"


@contextmanager
def capture_queries(using: str | None = None) -> Iterator[QueryCapture]:
    """Collect the statements run inside the block (every alias, or only ``using``)."""
    capture = QueryCapture(using)
    plugins.kernel.register(capture)
    try:
        yield capture
    finally:
        plugins.kernel.unregister(capture)


@contextmanager
def assert_num_queries(expected: int, using: str | None = None) -> Iterator[QueryCapture]:
    """Fail unless exactly ``expected`` statements ran inside the block; the failure lists their SQL."""
    with capture_queries(using) as capture:
        yield capture
    if len(capture) != expected:
        where = f" on {using!r}" if using else ""
        raise AssertionError(f"Expected {expected} queries{where}, but {len(capture)} ran:\n{capture.report()}")
