"""The unit of work that crosses the backend boundary: one SQL statement and its outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, final

__all__ = ["FETCH_ALL", "FETCH_NONE", "FETCH_ONE", "Statement"]

#: ``Statement.fetch`` values.
FETCH_ALL: Final = 2  # return every row in ``rows``
FETCH_ONE: Final = 1  # return at most the first row in ``rows``
FETCH_NONE: Final = 0  # DML: only ``rowcount`` (and ``lastrowid``) matter


@final
class Statement:
    """One statement for one alias.

    The core fills the request half; the backend connection fills the
    outcome half in ``execute``.  Statement wrappers (the ``dorm_statement``
    hook) see both.

    Request:
        ``alias``, ``sql`` (with the backend's placeholders), ``params`` (a
        sequence; for ``many`` a sequence of sequences), ``fetch`` (one of
        ``FETCH_*``), ``model`` (the model class the statement is about, when
        known: the N+1 detector and tenancy use it), ``timeout_ms`` (a
        wrapper may set it; backends with ``features.supports_statement_timeout``
        make the database cancel the statement after that many ms),
        ``origin`` (a short description of what caused it, e.g.
        ``"Author.publisher"`` for a lazy relation load).

    Outcome:
        ``rows`` (list of tuples), ``rowcount``, ``lastrowid``,
        ``duration`` (seconds, set by the core).
    """

    __slots__ = (
        "alias",
        "sql",
        "params",
        "many",
        "fetch",
        "model",
        "timeout_ms",
        "origin",
        "rows",
        "rowcount",
        "lastrowid",
        "duration",
        "connection",
        "extra",
    )

    def __init__(
        self,
        alias: str,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        fetch: int = FETCH_ALL,
        many: bool = False,
        model: type | None = None,
        origin: str | None = None,
    ) -> None:
        self.alias = alias
        self.sql = sql
        self.params = params
        self.many = many
        self.fetch = fetch
        self.model = model
        self.timeout_ms: int | None = None
        self.origin = origin
        self.rows: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self.duration = 0.0
        #: The backend connection running it.  Inside a transaction it is set before the
        #: wrappers start; outside one the wrappers start before the checkout (so they can
        #: refuse a statement without waiting for a connection) and it is set when they resume.
        self.connection: Any = None
        #: Free space for plugins (None until one uses it).
        self.extra: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<Statement {self.alias}: {self.sql[:80]!r} params={self.params!r}>"
