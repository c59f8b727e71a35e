"""The unit of work that crosses the backend boundary: one SQL statement and its outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    Streamed statements (``QuerySet.iterator()`` / ``aiterator()``) have
    ``streamed = True``.  Their rows go to the consumer chunk by chunk and
    are never collected: ``rows`` stays None and ``rowcount`` counts the
    rows fetched so far (0 when the wrappers start).  The wrappers resume
    when the iteration ends: normally, with an error, or when the consumer
    stops early (``break``, ``close()``, garbage collection; that is a normal
    end, with the rows fetched until then).  ``duration`` is the time spent
    waiting for the database (the statement and every fetch), not the
    consumer's time between chunks.  A wrapper that must act during the
    stream registers a chunk callback with :meth:`add_chunk_callback`.
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
        "streamed",
        "chunk_callbacks",
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
        #: True for a statement whose rows are streamed to an iterator (see the class docstring).
        self.streamed = False
        #: Callbacks of a streamed statement (see :meth:`add_chunk_callback`); None until one is added.
        self.chunk_callbacks: list[Callable[[Statement], None]] | None = None

    def add_chunk_callback(self, callback: Callable[[Statement], None]) -> None:
        """Call ``callback(statement)`` after each chunk of rows of a streamed statement is fetched.

        For wrappers (add it before their ``yield``); only streamed statements
        call them.  ``rowcount`` and ``duration`` are up to date and the chunk
        has not reached the consumer yet.  A callback that raises stops the
        stream: the error is thrown into the wrappers like a failed statement,
        the connection goes back to the pool (not counted as broken) and the
        consumer gets the error.  Budgets use it to stop at the first chunk
        past ``max_rows``.
        """
        callbacks = self.chunk_callbacks
        if callbacks is None:
            self.chunk_callbacks = [callback]
        else:
            callbacks.append(callback)

    def __repr__(self) -> str:
        return f"<Statement {self.alias}: {self.sql[:80]!r} params={self.params!r}>"
