"""Query budgets: ``with dorm.budget(max_rows=..., timeout_ms=..., max_queries=...):``.

A budget is a ceiling on what the statements run inside a block may cost:

* ``max_rows``: a statement that returns more rows raises
  ``BudgetExceeded: Query returned N rows, exceeds active budget (max_rows=M)``.
* ``timeout_ms``: every statement gets ``Statement.timeout_ms``; backends with
  ``features.supports_statement_timeout`` make the database cancel it
  (PostgreSQL ``statement_timeout``, SQLite an interrupt) and the cancel
  surfaces as :class:`~dorm.exceptions.BudgetExceeded`, which is also an
  ``OperationalError``.  On a backend without statement timeouts the check
  happens after the statement, on its measured duration.
* ``max_queries``: the statement that would exceed the count is refused
  before it is sent.

Streamed statements (``qs.iterator()`` / ``aiterator()``) count as one
query; ``max_rows`` counts the rows streamed and stops the stream at the
first chunk past the limit (a chunk callback, see
``Statement.add_chunk_callback``), before that chunk reaches the loop;
``timeout_ms`` bounds each fetch in the database and, checked after each
chunk, the time the statement has spent in the database altogether.

Budgets nest (each active budget applies, so the tighter limit wins) and
follow the context: threads and asyncio tasks each see their own.  With
``on_exceed="warn"`` nothing is raised or cancelled; each overrun is logged
at WARNING on the ``dorm.resilience`` logger (for rolling a budget out in
production before enforcing it).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Generator
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, final

from dorm.exceptions import BudgetExceeded, QueryCanceledError
from dorm.plugins import hookimpl
from dorm_resilience._slots import HookSlot

if TYPE_CHECKING:
    from dorm.backends.base.statement import Statement

__all__ = ["Budget", "budget", "current_budgets"]

logger: Final = logging.getLogger("dorm.resilience")

OnExceed = Literal["raise", "warn"]
_F = TypeVar("_F", bound=Callable[..., Any])

_SQL_PREVIEW: Final = 200


@final
class _Frame:
    """One entered budget: its limits and its own statement counter."""

    __slots__ = ("counter", "max_queries", "max_rows", "raise_", "timeout_ms")

    def __init__(self, max_rows: int | None, timeout_ms: int | None, max_queries: int | None, raise_: bool) -> None:
        self.max_rows = max_rows
        self.timeout_ms = timeout_ms
        self.max_queries = max_queries
        self.raise_ = raise_
        # next() on itertools.count is atomic, so threads sharing a copied context count safely.
        self.counter = itertools.count(1)


_frames: ContextVar[tuple[_Frame, ...]] = ContextVar("dorm_resilience_budgets", default=())


def current_budgets() -> tuple[dict[str, Any], ...]:
    """The budgets active in this context, outermost first (for debugging and tests)."""
    return tuple(
        {
            "max_rows": f.max_rows,
            "timeout_ms": f.timeout_ms,
            "max_queries": f.max_queries,
            "on_exceed": "raise" if f.raise_ else "warn",
        }
        for f in _frames.get()
    )


def _preview(sql: str) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= _SQL_PREVIEW else sql[: _SQL_PREVIEW - 3] + "..."


def _rows_error(count: int, limit: int, stmt: Statement) -> BudgetExceeded:
    streamed = (
        " The rows were streamed (iterator()): it stopped at the first chunk past the limit, "
        "before that chunk reached the loop."
        if stmt.streamed
        else ""
    )
    return BudgetExceeded(
        f"Query returned {count} rows, exceeds active budget (max_rows={limit}). "
        "Either raise max_rows or tighten the filter()/limit(): the budget exists to stop "
        f"querysets that quietly lost selectivity.{streamed} Alias {stmt.alias!r}, SQL: {_preview(stmt.sql)}"
    )


def _queries_error(count: int, limit: int, stmt: Statement) -> BudgetExceeded:
    return BudgetExceeded(
        f"Block ran {count} queries, exceeds active budget (max_queries={limit}); the statement was not sent. "
        "Look for a query in a loop (select_related()/prefetch_related() fetch related rows up front, "
        f"bulk_create()/bulk_update() batch writes) or raise max_queries. Alias {stmt.alias!r}, "
        f"SQL: {_preview(stmt.sql)}"
    )


def _timeout_error(server_text: str, limit: int, stmt: Statement) -> BudgetExceeded:
    # The backend's message may end with the SQL; we append it once, ourselves.
    server_text = server_text.split(" SQL: ", 1)[0].strip().rstrip(".")
    return BudgetExceeded(
        f"{server_text} (exceeds active budget timeout_ms={limit}). "
        "Diagnose with EXPLAIN ANALYZE before raising the budget: a high timeout_ms masks "
        f"genuinely slow queries. Alias {stmt.alias!r}, SQL: {_preview(stmt.sql)}"
    )


def _overrun_text(duration_ms: float, limit: int) -> str:
    return f"Statement ran {duration_ms:.0f} ms, longer than its timeout of {limit} ms"


def _supports_timeout(stmt: Statement) -> bool:
    from dorm.db.connections import connections

    try:
        return bool(connections[stmt.alias].features.supports_statement_timeout)
    except Exception:  # an alias we cannot resolve: fall back to the duration check
        return False


def _report(errors: list[tuple[BudgetExceeded, bool]]) -> None:
    """Raise the first enforced error (tightest frame first); log the warn-only ones."""
    to_raise: BudgetExceeded | None = None
    for error, enforced in errors:
        if enforced:
            if to_raise is None:
                to_raise = error
        else:
            logger.warning("%s", error, extra={"budget_error": str(error)})
    if to_raise is not None:
        raise to_raise


@final
class _BudgetHook:
    """The ``dorm_statement`` wrapper, registered only while a budget is active somewhere."""

    __slots__ = ()

    def __dir__(self) -> list[str]:
        # pluggy inspects every name dir() lists on register; one name keeps that cheap.
        return ["dorm_statement"]

    @hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        frames = _frames.get()
        if not frames:
            yield
            return
        errors: list[tuple[BudgetExceeded, bool]] = []
        timeout: int | None = None  # the tightest enforced timeout
        warn_timeout: int | None = None  # the tightest warn-only timeout
        for frame in reversed(frames):  # innermost first
            if frame.max_queries is not None:
                count = next(frame.counter)
                if count > frame.max_queries:
                    errors.append((_queries_error(count, frame.max_queries, statement), frame.raise_))
            if frame.timeout_ms is not None:
                if frame.raise_:
                    timeout = frame.timeout_ms if timeout is None else min(timeout, frame.timeout_ms)
                else:
                    warn_timeout = frame.timeout_ms if warn_timeout is None else min(warn_timeout, frame.timeout_ms)
        if errors:
            _report(errors)  # raises for an enforced max_queries: the statement is not sent
        database_enforces = False
        if timeout is not None:
            database_enforces = _supports_timeout(statement)
            if database_enforces and (statement.timeout_ms is None or statement.timeout_ms > timeout):
                statement.timeout_ms = timeout
        if statement.streamed:
            row_limit = min((f.max_rows for f in frames if f.raise_ and f.max_rows is not None), default=None)
            if row_limit is not None or timeout is not None:
                statement.add_chunk_callback(_stream_check(row_limit, timeout))
        try:
            yield
        except QueryCanceledError as exc:
            if timeout is not None and database_enforces and statement.timeout_ms == timeout:
                raise _timeout_error(str(exc), timeout, statement) from exc
            raise
        errors = []
        duration_ms = statement.duration * 1000.0
        if timeout is not None and not database_enforces and duration_ms > timeout:
            errors.append((_timeout_error(_overrun_text(duration_ms, timeout), timeout, statement), True))
        if warn_timeout is not None and duration_ms > warn_timeout:
            errors.append((_timeout_error(_overrun_text(duration_ms, warn_timeout), warn_timeout, statement), False))
        rows = statement.rows
        count = len(rows) if rows is not None else (statement.rowcount if statement.streamed else -1)
        if count >= 0:
            for frame in sorted(frames, key=_rows_key):
                if frame.max_rows is not None and count > frame.max_rows:
                    errors.append((_rows_error(count, frame.max_rows, statement), frame.raise_))
        if errors:
            _report(errors)


def _stream_check(row_limit: int | None, timeout: int | None) -> Callable[[Statement], None]:
    """The chunk callback of a streamed statement: stop at the first chunk past a limit.

    ``row_limit``: the tightest enforced ``max_rows``; ``timeout``: the tightest
    enforced ``timeout_ms``, checked against the time the statement has spent
    in the database so far (the server's own timeout covers each fetch; this
    covers their sum).  Warn-only budgets are checked once, when the stream ends.
    """

    def check(statement: Statement) -> None:
        if row_limit is not None and statement.rowcount > row_limit:
            raise _rows_error(statement.rowcount, row_limit, statement)
        if timeout is not None and (spent := statement.duration * 1000.0) > timeout:
            raise _timeout_error(_overrun_text(spent, timeout), timeout, statement)

    return check


def _rows_key(frame: _Frame) -> int:
    return frame.max_rows if frame.max_rows is not None else 1 << 62


_slot: Final = HookSlot(_BudgetHook(), "dorm_resilience.budget")


class Budget:
    """A ceiling on the statements run inside a block.

    Use :func:`budget` (``dorm.budget``) to build one.  It is a sync and async
    context manager and a decorator (each call of the decorated function
    runs inside a fresh entry).  One ``Budget`` object may be entered again
    after it exits; do not enter the same object concurrently from several
    threads or tasks (build one per block with ``dorm.budget(...)``, or use
    it as a decorator, which is safe).
    """

    __slots__ = ("_entries", "max_queries", "max_rows", "on_exceed", "timeout_ms")

    def __init__(
        self,
        max_rows: int | None = None,
        timeout_ms: int | None = None,
        max_queries: int | None = None,
        on_exceed: OnExceed = "raise",
    ) -> None:
        for name, value in (("max_rows", max_rows), ("timeout_ms", timeout_ms), ("max_queries", max_queries)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"budget({name}={value!r}): use a non-negative int, or None for no limit.")
        if timeout_ms == 0:
            raise ValueError("budget(timeout_ms=0): use a positive number of milliseconds, or None for no limit.")
        if on_exceed not in ("raise", "warn"):
            raise ValueError(f"budget(on_exceed={on_exceed!r}): use 'raise' (enforce) or 'warn' (log only).")
        self.max_rows = max_rows
        self.timeout_ms = timeout_ms
        self.max_queries = max_queries
        self.on_exceed: OnExceed = on_exceed
        self._entries: list[tuple[Token[tuple[_Frame, ...]], Any]] = []

    def __repr__(self) -> str:
        return (
            f"Budget(max_rows={self.max_rows!r}, timeout_ms={self.timeout_ms!r}, "
            f"max_queries={self.max_queries!r}, on_exceed={self.on_exceed!r})"
        )

    def _copy(self) -> Budget:
        return Budget(self.max_rows, self.timeout_ms, self.max_queries, self.on_exceed)

    # -- context manager ----------------------------------------------------

    def __enter__(self) -> Budget:
        frame = _Frame(self.max_rows, self.timeout_ms, self.max_queries, self.on_exceed == "raise")
        kernel = _slot.acquire()
        token = _frames.set((*_frames.get(), frame))
        self._entries.append((token, kernel))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, kernel = self._entries.pop()
        _frames.reset(token)
        _slot.release(kernel)

    async def __aenter__(self) -> Budget:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator ----------------------------------------------------------

    def __call__(self, func: _F) -> _F:
        """Run every call of ``func`` (sync or ``async def``) inside this budget."""
        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._copy():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._copy():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def budget(
    max_rows: int | None = None,
    timeout_ms: int | None = None,
    max_queries: int | None = None,
    on_exceed: OnExceed = "raise",
) -> Budget:
    """A query budget for a block: ``with dorm.budget(max_rows=1000, timeout_ms=200):``.

    :param max_rows: most rows one statement may return.
    :param timeout_ms: longest one statement may run; the database cancels it.
    :param max_queries: most statements the block may run.
    :param on_exceed: ``"raise"`` (default) raises :class:`~dorm.exceptions.BudgetExceeded`;
        ``"warn"`` only logs each overrun at WARNING on the ``dorm.resilience`` logger
        and sets no database timeout.
    :return: a :class:`Budget` (context manager, ``async with``, decorator).
    """
    return Budget(max_rows=max_rows, timeout_ms=timeout_ms, max_queries=max_queries, on_exceed=on_exceed)
