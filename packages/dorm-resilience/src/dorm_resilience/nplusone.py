"""The N+1 detector, served as ``dorm.contrib.nplusone``.

::

    from dorm.contrib.nplusone import NPlusOneDetector, assert_no_nplusone

    with NPlusOneDetector(threshold=5):
        handler()  # raises NPlusOneError if any SQL template runs more than 5 times

Every statement run inside the block is reduced to its parameter-stripped
template (string and number literals and placeholders become ``?``, ``IN``
lists and multi-row ``VALUES`` collapse), and the templates are counted.  A
template that ran **more than** ``threshold`` times is a finding; with
``threshold=2``, two runs stay silent and a third is reported.

Findings are raised when the block exits (never in the middle of it, so the
traceback of a real error inside the block is never replaced), as
:class:`~dorm.exceptions.NPlusOneError`, an ``AssertionError``.  With
``raise_on_detect=False`` the block never raises; read ``detector.findings``
and ``detector.report()`` afterwards.

When the ORM says which attribute access caused a statement
(``Statement.origin``, e.g. ``"Book.author"`` for a lazy foreign-key load),
the finding names it and suggests ``select_related("author")`` (forward
foreign key or one-to-one) or ``prefetch_related("tags")`` (reverse and
many-to-many relations).  Prefetch queries (origin starting with
``"prefetch:"``) that returned no rows are not counted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator, Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, final

from dorm.exceptions import NPlusOneError
from dorm.plugins import hookimpl
from dorm_resilience._slots import HookSlot

if TYPE_CHECKING:
    from dorm.backends.base.statement import Statement

__all__ = ["Finding", "NPlusOneDetector", "NPlusOneError", "assert_no_nplusone", "normalize_sql"]

# --------------------------------------------------------------------------
# SQL templates
# --------------------------------------------------------------------------

# One pass over the SQL: quoted identifiers are kept; string literals, numbers
# and placeholders become "?".  Order matters: identifiers and strings first.
_TOKEN: Final = re.compile(
    r"""
      (?P<ident>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
    | (?P<string>[EeNnXxBb]?'(?:[^']|'')*')
    | (?P<param>%\([A-Za-z_][A-Za-z0-9_]*\)s|%s|\$\d+|\?\d*|(?<![:\w]):[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))
    """,
    re.VERBOSE,
)
_LIST: Final = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_ROWS: Final = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")
_SPACE: Final = re.compile(r"\s+")
_CACHE_LIMIT: Final = 4096
_template_cache: dict[str, str] = {}


def _replace(match: re.Match[str]) -> str:
    return match.group("ident") or "?"


def normalize_sql(sql: str) -> str:
    """The parameter-stripped template of ``sql``: ``id = 1`` and ``id = 2`` give the same text.

    Placeholders (``%s``, ``?``, ``$1``, ``:name``), string and number
    literals become ``?``; ``(?, ?, ?)`` lists become ``(...)``; so do
    multi-row ``VALUES (...), (...)``; whitespace collapses.
    """
    cached = _template_cache.get(sql)
    if cached is not None:
        return cached
    template = _SPACE.sub(" ", _TOKEN.sub(_replace, sql)).strip()
    template = _LIST.sub("(...)", template)
    template = _ROWS.sub("(...)", template)
    if len(_template_cache) >= _CACHE_LIMIT:
        _template_cache.clear()
    _template_cache[sql] = template
    return template


_FROM_TABLE: Final = re.compile(r'\b(?:FROM|UPDATE|INTO)\s+("(?:[^"]|"")*"|[A-Za-z_][\w.]*)', re.IGNORECASE)


def _table_of(template: str) -> str | None:
    match = _FROM_TABLE.search(template)
    return match.group(1).strip('"') if match else None


# --------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One SQL template that ran more than the threshold."""

    #: The parameter-stripped SQL.
    template: str
    #: How many times it ran inside the block.
    count: int
    #: What caused it, when the ORM said (``"Book.author"``), else None.
    origin: str | None
    #: The suggested fix, in words.
    suggestion: str
    #: The detector's threshold when it was found.
    threshold: int

    def describe(self) -> str:
        """A few lines for people: template, count, cause and fix."""
        cause = f" caused by {self.origin}" if self.origin else ""
        return (
            f"SQL template ran {self.count} times (threshold {self.threshold}){cause}:\n"
            f"    {self.template}\n"
            f"  Fix: {self.suggestion}"
        )


def _suggest(template: str, origin: str | None, relation_kind: str | None) -> str:
    verb = template.split(" ", 1)[0].upper()
    if origin and "." in origin:
        model, _, attr = origin.rpartition(".")
        model = model.removeprefix("prefetch:")
        if relation_kind == "forward":
            return (
                f'{model}.{attr} is loaded lazily once per row: add .select_related("{attr}") to the {model} '
                "queryset that feeds the loop (one JOIN instead of one query per row)."
            )
        if relation_kind == "many":
            return (
                f'{model}.{attr} is queried once per row: add .prefetch_related("{attr}") to the {model} '
                "queryset that feeds the loop (one extra query for all rows)."
            )
        return (
            f'{model}.{attr} is loaded once per row: add .select_related("{attr}") to the {model} queryset '
            f'if it is a foreign key or one-to-one, or .prefetch_related("{attr}") if it is a reverse or '
            "many-to-many relation."
        )
    table = _table_of(template)
    where = f" on {table!r}" if table else ""
    if verb == "INSERT":
        return f"the same INSERT{where} runs in a loop: collect the objects and use bulk_create()."
    if verb == "UPDATE":
        return f"the same UPDATE{where} runs in a loop: use bulk_update() or a single queryset.update()."
    if verb == "DELETE":
        return f"the same DELETE{where} runs in a loop: filter once and call queryset.delete()."
    return (
        f"the same SELECT{where} runs once per row, usually a related object read inside a loop: "
        'add select_related("<fk>") (foreign key / one-to-one) or prefetch_related("<relation>") '
        "(reverse / many-to-many) to the queryset that feeds the loop, or fetch the rows once "
        "with filter(<field>__in=...)."
    )


def _relation_kind(stmt: Statement) -> str | None:
    """``"forward"`` when the statement loads one row by primary key, ``"many"`` otherwise (needs an origin)."""
    if not stmt.origin:
        return None
    extra = stmt.extra
    if extra is not None:
        kind = extra.get("relation_kind")
        if kind in ("forward", "many"):
            return str(kind)
    meta = getattr(stmt.model, "_meta", None)
    column = getattr(getattr(meta, "pk", None), "column", None)
    table = getattr(meta, "db_table", None)
    if not column or not table:
        return None
    # A lazy forward load reads the target row by its primary key: "table"."id" = %s
    pk_match = rf'(?:"{re.escape(table)}"|\b{re.escape(table)})\.(?:"{re.escape(column)}"|{re.escape(column)}\b)\s*=\s*(?:%s|\?|\$\d+)'
    return "forward" if re.search(pk_match, stmt.sql) else "many"


# --------------------------------------------------------------------------
# the detector
# --------------------------------------------------------------------------


@final
class _Tally:
    __slots__ = ("count", "origins", "relation_kind")

    def __init__(self) -> None:
        self.count = 0
        self.origins: dict[str, int] = {}
        self.relation_kind: str | None = None


_active: ContextVar[tuple[NPlusOneDetector, ...]] = ContextVar("dorm_resilience_nplusone", default=())


@final
class _DetectorHook:
    """The ``dorm_statement`` wrapper, registered only while a detector is active somewhere."""

    __slots__ = ()

    def __dir__(self) -> list[str]:
        # pluggy inspects every name dir() lists on register; one name keeps that cheap.
        return ["dorm_statement"]

    @hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        detectors = _active.get()
        yield
        if not detectors:
            return
        origin = statement.origin
        if origin is not None and origin.startswith("prefetch:") and not _returned_rows(statement):
            return
        template = normalize_sql(statement.sql)
        for detector in detectors:
            detector._count(template, statement)


def _returned_rows(statement: Statement) -> bool:
    # A streamed statement (iterator()) keeps rows None and counts them in rowcount.
    return bool(statement.rows) or (statement.streamed and statement.rowcount > 0)


_slot: Final = HookSlot(_DetectorHook(), "dorm_resilience.nplusone")


class NPlusOneDetector:
    """Counts SQL templates inside a block and reports those run more than ``threshold`` times.

    Sync and async context manager.  Only statements that succeeded are counted.

    :param threshold: a template may run this many times; one more is a finding.
    :param raise_on_detect: raise :class:`~dorm.exceptions.NPlusOneError` at block exit
        (default); False only collects :attr:`findings`.
    :param ignore: regular expressions (strings or compiled); a template or origin
        matching one (``re.search``) is never counted.
    """

    def __init__(
        self,
        threshold: int = 5,
        raise_on_detect: bool = True,
        ignore: Iterable[str | re.Pattern[str]] = (),
    ) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ValueError(f"NPlusOneDetector(threshold={threshold!r}): use an int >= 1.")
        self.threshold = threshold
        self.raise_on_detect = raise_on_detect
        if isinstance(ignore, (str, re.Pattern)):
            ignore = (ignore,)
        self.ignore: tuple[re.Pattern[str], ...] = tuple(
            p if isinstance(p, re.Pattern) else re.compile(p, re.IGNORECASE) for p in ignore
        )
        #: What the last block found (filled at block exit).
        self.findings: list[Finding] = []
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()
        self._token: Token[tuple[NPlusOneDetector, ...]] | None = None
        self._kernel: Any = None

    def __repr__(self) -> str:
        return f"<NPlusOneDetector threshold={self.threshold} findings={len(self.findings)}>"

    def _ignored(self, template: str, origin: str | None) -> bool:
        for pattern in self.ignore:
            if pattern.search(template) or (origin and pattern.search(origin)):
                return True
        return False

    def _count(self, template: str, stmt: Statement) -> None:
        origin = stmt.origin
        if self.ignore and self._ignored(template, origin):
            return
        with self._lock:
            tally = self._tallies.get(template)
            if tally is None:
                tally = self._tallies[template] = _Tally()
            tally.count += 1
            if origin:
                tally.origins[origin] = tally.origins.get(origin, 0) + 1
                if tally.relation_kind is None:
                    tally.relation_kind = _relation_kind(stmt)

    @property
    def counts(self) -> dict[str, int]:
        """Template → executions so far in the current (or last) block."""
        with self._lock:
            return {template: tally.count for template, tally in self._tallies.items()}

    def _collect(self) -> list[Finding]:
        findings = []
        with self._lock:
            for template, tally in self._tallies.items():
                if tally.count <= self.threshold:
                    continue
                origin = max(tally.origins, key=tally.origins.__getitem__) if tally.origins else None
                findings.append(
                    Finding(
                        template=template,
                        count=tally.count,
                        origin=origin.removeprefix("prefetch:") if origin else None,
                        suggestion=_suggest(template, origin, tally.relation_kind),
                        threshold=self.threshold,
                    )
                )
        findings.sort(key=lambda f: -f.count)
        return findings

    def report(self) -> str:
        """The findings as readable text ("No N+1 queries found ..." when there are none)."""
        findings = self.findings
        if not findings:
            return f"No N+1 queries found (no SQL template ran more than {self.threshold} times)."
        parts = [f"{len(findings)} N+1 pattern(s) found:"]
        parts.extend(f.describe() for f in findings)
        return "\n".join(parts)

    def _error(self) -> NPlusOneError:
        first = self.findings[0]
        cause = f" (caused by {first.origin})" if first.origin else ""
        head = (
            f"N+1 queries: SQL template ran {first.count} times, more than the threshold of "
            f"{self.threshold}{cause}: {first.template}\nFix: {first.suggestion}"
        )
        if len(self.findings) > 1:
            head += "\n\n" + self.report()
        return NPlusOneError(head)

    # -- context manager -----------------------------------------------------------

    def __enter__(self) -> NPlusOneDetector:
        if self._token is not None:
            raise RuntimeError("This NPlusOneDetector is already active; build one per block.")
        with self._lock:
            self._tallies = {}
        self.findings = []
        self._kernel = _slot.acquire()
        self._token = _active.set((*_active.get(), self))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            _active.reset(token)
        kernel, self._kernel = self._kernel, None
        _slot.release(kernel)
        self.findings = self._collect()
        if self.findings and self.raise_on_detect and exc is None:
            raise self._error()

    async def __aenter__(self) -> NPlusOneDetector:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def assert_no_nplusone(threshold: int = 5, ignore: Iterable[str | re.Pattern[str]] = ()) -> NPlusOneDetector:
    """Test helper: ``with assert_no_nplusone(threshold=5):`` (or ``async with``).

    Fails the test with :class:`~dorm.exceptions.NPlusOneError` (an
    ``AssertionError``) when a SQL template ran more than ``threshold``
    times inside the block.
    """
    return NPlusOneDetector(threshold=threshold, raise_on_detect=True, ignore=ignore)
