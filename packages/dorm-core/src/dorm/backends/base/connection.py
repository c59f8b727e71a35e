"""Physical connections as the core sees them: one sync and one async shape.

A backend implements both (SQLite's async one runs the driver on a
dedicated worker thread per connection; PostgreSQL's is psycopg's
``AsyncConnection``).  Every method raises ``dorm.exceptions`` database
errors (``IntegrityError``, ``OperationalError``, ...) with the driver's
exception as ``__cause__``; nothing driver-specific escapes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dorm.backends.base.statement import FETCH_ALL, Statement

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["BaseAsyncConnection", "BaseConnection"]


class BaseConnection(ABC):
    """A driver connection used from one thread at a time.

    ``raw`` is the driver's connection object (an escape hatch for plugins
    and ``dbshell``-style tools).  Outside a transaction every statement
    commits on its own (autocommit); :meth:`begin` opens an explicit
    transaction that lasts until :meth:`commit` or :meth:`rollback`.
    """

    def __init__(self, wrapper: BaseDatabaseWrapper, raw: Any) -> None:
        self.wrapper = wrapper
        self.raw = raw
        self.in_transaction = False

    @abstractmethod
    def execute(self, statement: Statement) -> None:
        """Run ``statement``; fill ``rows`` (per ``fetch``), ``rowcount`` and ``lastrowid``.

        Honour ``statement.timeout_ms`` when the backend supports statement
        timeouts (``features.supports_statement_timeout``) and ``many``
        (``executemany`` over ``params``).
        """

    @abstractmethod
    def execute_script(self, sql: str) -> None:
        """Run several ``;``-separated statements without parameters."""

    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """All rows of one read (no timeout, no ``many``): the core's express lane.

        ``get(pk=...)`` and friends call this instead of :meth:`execute`
        when no plugin watches statements.  The default runs
        :meth:`execute`; override it with the driver's shortest path when
        that is measurably faster (same error translation as ``execute``).
        """
        statement = Statement(self.wrapper.alias, sql, params)
        self.execute(statement)
        return statement.rows or []

    def iterate(self, statement: Statement, chunk_size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Yield rows in chunks; backends with server-side cursors override this
        (``features.supports_server_side_cursors``).  The default fetches everything."""
        statement.fetch = FETCH_ALL
        self.execute(statement)
        rows = statement.rows or []
        for start in range(0, len(rows), chunk_size):
            yield rows[start : start + chunk_size]

    @abstractmethod
    def begin(self) -> None:
        """Start a transaction (writers take the write lock here where the backend has one)."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    def savepoint(self, name: str) -> None:
        """Create a savepoint (only called when ``features.supports_savepoints``)."""
        self.execute_script(f"SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def release_savepoint(self, name: str) -> None:
        self.execute_script(f"RELEASE SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def rollback_to_savepoint(self, name: str) -> None:
        self.execute_script(f"ROLLBACK TO SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    def cancel(self) -> None:
        """Ask the server to cancel the running statement; callable from another thread."""
        raise NotImplementedError

    def is_usable(self) -> bool:
        """False when the connection is known to be broken."""
        return True

    @abstractmethod
    def close(self) -> None: ...


class BaseAsyncConnection(ABC):
    """The async twin of :class:`BaseConnection`: same contract, awaited."""

    def __init__(self, wrapper: BaseDatabaseWrapper, raw: Any) -> None:
        self.wrapper = wrapper
        self.raw = raw
        self.in_transaction = False

    @abstractmethod
    async def execute(self, statement: Statement) -> None: ...

    @abstractmethod
    async def execute_script(self, sql: str) -> None: ...

    async def iterate(self, statement: Statement, chunk_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        statement.fetch = FETCH_ALL
        await self.execute(statement)
        rows = statement.rows or []
        for start in range(0, len(rows), chunk_size):
            yield rows[start : start + chunk_size]

    @abstractmethod
    async def begin(self) -> None: ...

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...

    async def savepoint(self, name: str) -> None:
        await self.execute_script(f"SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    async def release_savepoint(self, name: str) -> None:
        await self.execute_script(f"RELEASE SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    async def rollback_to_savepoint(self, name: str) -> None:
        await self.execute_script(f"ROLLBACK TO SAVEPOINT {self.wrapper.ops.quote_name(name)}")

    async def cancel(self) -> None:
        """Cancel the running statement on the server (used on task cancellation)."""
        raise NotImplementedError

    def is_usable(self) -> bool:
        return True

    @abstractmethod
    async def close(self) -> None: ...
