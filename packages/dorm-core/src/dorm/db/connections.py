"""One backend object per configured alias, created lazily; raw SQL access; pool control."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "DEFAULT_DB_ALIAS",
    "ConnectionHandler",
    "RawConnection",
    "close_all",
    "close_all_async",
    "connections",
    "get_connection",
    "pool_stats",
]

DEFAULT_DB_ALIAS: Final = "default"
logger = logging.getLogger("dorm.db")


class ConnectionHandler:
    """``connections[alias]`` → the alias's :class:`BaseDatabaseWrapper` (created on first use)."""

    def __init__(self) -> None:
        self._wrappers: dict[str, BaseDatabaseWrapper] = {}
        self._lock = threading.Lock()

    def __getitem__(self, alias: str) -> BaseDatabaseWrapper:
        wrapper = self._wrappers.get(alias)
        if wrapper is not None:
            return wrapper
        return self._create(alias)

    def _create(self, alias: str) -> BaseDatabaseWrapper:
        from dorm import plugins
        from dorm.conf import settings

        config = settings.database(alias)  # raises "Database alias ... not found"
        with self._lock:
            wrapper = self._wrappers.get(alias)
            if wrapper is None:
                plugins.kernel.ensure_loaded()
                backend_class = plugins.kernel.backend_class(str(config["ENGINE"]))
                wrapper = backend_class(alias, config)
                self._wrappers[alias] = wrapper
            return wrapper

    def initialised(self) -> dict[str, BaseDatabaseWrapper]:
        """The aliases whose backend exists already (no side effects)."""
        return dict(self._wrappers)

    def __contains__(self, alias: object) -> bool:
        return alias in self._wrappers

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._wrappers))

    def discard(self, alias: str) -> None:
        """Close and forget an alias's backend; the next use creates a new one."""
        with self._lock:
            wrapper = self._wrappers.pop(alias, None)
        if wrapper is not None:
            try:
                wrapper.close()
            except Exception:  # closing must not hide the reconfiguration
                logger.warning("Error while closing connections of alias %r", alias, exc_info=True)

    def close_all(self) -> None:
        for wrapper in list(self._wrappers.values()):
            wrapper.close()

    async def aclose_all(self) -> None:
        for wrapper in list(self._wrappers.values()):
            await wrapper.aclose()


connections: Final = ConnectionHandler()


def close_all() -> None:
    """Close every connection and drain every pool (sync pools; async pools of no running loop)."""
    connections.close_all()


async def close_all_async() -> None:
    """Close every connection and drain every pool, async pools included.

    Call it at shutdown (a FastAPI lifespan's exit, a session fixture's
    teardown) so no pool outlives its event loop.
    """
    await connections.aclose_all()


def pool_stats(alias: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """Pool numbers for ``alias``; never raises.

    ``{"status": "uninitialised"}`` before the alias was first used.
    """
    wrapper = connections.initialised().get(alias)
    if wrapper is None:
        return {"status": "uninitialised", "alias": alias}
    try:
        return wrapper.pool_stats()
    except Exception as exc:  # monitoring must never break the caller
        return {"status": "error", "alias": alias, "error": f"{type(exc).__name__}: {exc}"}


class RawConnection:
    """Raw SQL on one alias: ``dorm.get_connection(alias)``.

    Placeholders are ``%s`` on every backend (``%%`` for a literal percent
    sign).  Statements go through the same path as the ORM's: the current
    ``atomic()`` block's connection if there is one (autocommit otherwise),
    statement hooks, logging and error translation.
    """

    __slots__ = ("alias",)

    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.alias = alias

    @property
    def backend(self) -> BaseDatabaseWrapper:
        return connections[self.alias]

    def _statement(self, sql: str, params: Sequence[Any] | None, many: bool = False) -> Statement:
        ops = connections[self.alias].ops
        converted = ops.convert_raw_placeholders(sql, params)
        return Statement(self.alias, converted, params, fetch=FETCH_ALL, many=many)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement; returns its rows (an empty list for statements without rows)."""
        stmt = _executor.run(self._statement(sql, params), "execute")
        return stmt.rows or []

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run one statement for each parameter set; returns the total row count."""
        stmt = self._statement(sql, seq_of_params, many=True)
        stmt.fetch = FETCH_NONE
        return _executor.run(stmt, "executemany").rowcount

    def execute_script(self, sql: str) -> None:
        """Run several ``;``-separated statements without parameters."""
        _executor.run_script(self.alias, sql)

    async def aexecute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Async twin of :meth:`execute`."""
        stmt = await _executor.arun(self._statement(sql, params))
        return stmt.rows or []

    async def aexecutemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Async twin of :meth:`executemany`."""
        stmt = self._statement(sql, seq_of_params, many=True)
        stmt.fetch = FETCH_NONE
        return (await _executor.arun(stmt)).rowcount

    async def aexecute_script(self, sql: str) -> None:
        """Async twin of :meth:`execute_script`."""
        await _executor.arun_script(self.alias, sql)

    def __repr__(self) -> str:
        return f"<RawConnection alias={self.alias!r}>"


def get_connection(alias: str = DEFAULT_DB_ALIAS) -> RawConnection:
    """Raw SQL access to ``alias``: ``execute``, ``execute_script`` and their ``a*`` twins."""
    from dorm.conf import settings

    settings.database(alias)  # fail early with "Database alias ... not found"
    return RawConnection(alias)


# At the bottom: the executor imports this module, so this import sees it complete.
# A module-level name keeps a per-statement ``from ... import`` (about 0.5 µs) off the raw path.
from dorm.db import executor as _executor  # noqa: E402
