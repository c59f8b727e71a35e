"""The PostgreSQL backend (ENGINE ``postgresql`` or ``postgres``) on psycopg 3 and psycopg_pool.

Supports PostgreSQL 12 and newer (tested on 15).  Connections come from
pools opened lazily on first use:

* one sync ``ConnectionPool`` per alias, shared by every thread;
* one ``AsyncConnectionPool`` per alias *per event loop*, so repeated
  ``asyncio.run()`` calls work; the pools of a loop that has closed are
  discarded (their idle sockets closed) the next time the alias is used.

Alias settings: ``MIN_POOL_SIZE``, ``MAX_POOL_SIZE``, ``POOL_TIMEOUT``
(seconds a checkout waits before :class:`dorm.PoolTimeout`), ``POOL_CHECK``
(test each connection at checkout), ``MAX_IDLE``, ``MAX_LIFETIME``
(seconds), ``PREPARE_THRESHOLD`` (executions before psycopg prepares a
statement server-side; ``None`` turns prepared statements off, as PgBouncer
in transaction mode needs), ``OPTIONS`` (libpq parameters such as
``sslmode``, ``application_name``, ``connect_timeout``).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar, Final

import psycopg
import psycopg_pool
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm.exceptions import ImproperlyConfigured, PoolTimeout
from dorm_postgres.connection import PgAsyncConnection, PgConnection
from dorm_postgres.features import DatabaseFeatures
from dorm_postgres.introspection import DatabaseIntrospection
from dorm_postgres.operations import DatabaseOperations
from dorm_postgres.pools import DormAsyncPool, DormSyncPool, discard_async_pool, pool_numbers
from dorm_postgres.schema import DatabaseSchemaEditor

__all__ = ["DatabaseWrapper"]

_get_running_loop: Final = asyncio._get_running_loop
_IDLE: Final = TransactionStatus.IDLE
_POOL_TIMEOUT_FIX: Final = (
    "Usually a connection is held too long: a leaked connection (held over an await outside its block) "
    "or a query that ran too long. Check dorm.pool_stats({alias!r}), EXPLAIN the slow query, and "
    "raise MAX_POOL_SIZE only if you actually need more connections."
)
_CONNECT_FIX: Final = (
    "If the server says 'too many clients already', the connections of all your processes exceed "
    "its max_connections: lower MAX_POOL_SIZE (MAX_POOL_SIZE x workers x pods <= max_connections / 2), "
    "scale PostgreSQL up, or put PgBouncer in front."
)


class DatabaseWrapper(BaseDatabaseWrapper):
    """PostgreSQL through psycopg 3 pools (sync and async)."""

    vendor: ClassVar[str] = "postgresql"
    display_name: ClassVar[str] = "PostgreSQL"
    features_class = DatabaseFeatures
    operations_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    schema_editor_class = DatabaseSchemaEditor

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        super().__init__(alias, settings_dict)
        self._lock = threading.Lock()
        self._sync_pool: DormSyncPool | None = None
        self._async_pools: dict[asyncio.AbstractEventLoop, DormAsyncPool] = {}
        self._server_version: tuple[int, ...] | None = None
        self._pool_kwargs = self._build_pool_kwargs(settings_dict)

    # -- settings -----------------------------------------------------------------

    def _build_pool_kwargs(self, s: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, name in (
            ("HOST", "host"),
            ("PORT", "port"),
            ("NAME", "dbname"),
            ("USER", "user"),
            ("PASSWORD", "password"),
        ):
            if s.get(key) not in (None, ""):
                params[name] = str(s[key])
        params.update({k: v for k, v in (s.get("OPTIONS") or {}).items() if v is not None})
        try:
            conninfo = make_conninfo("", **params)
        except psycopg.ProgrammingError as error:
            raise ImproperlyConfigured(
                f"DATABASES[{self.alias!r}] has settings libpq does not accept: {error}. "
                "OPTIONS takes libpq connection parameters (sslmode, application_name, connect_timeout, ...)."
            ) from error
        threshold = s.get("PREPARE_THRESHOLD", 5)
        return {
            "conninfo": conninfo,
            "min_size": int(s.get("MIN_POOL_SIZE", 1)),
            "max_size": int(s.get("MAX_POOL_SIZE", 10)),
            "timeout": float(s.get("POOL_TIMEOUT", 30.0)),
            "max_idle": float(s.get("MAX_IDLE", 600.0)),
            "max_lifetime": float(s.get("MAX_LIFETIME", 3600.0)),
            "kwargs": {"autocommit": True, "prepare_threshold": None if threshold is None else int(threshold)},
            "name": f"dorm:{self.alias}",
            "open": False,
        }

    # -- sync checkout -------------------------------------------------------------

    def _get_sync_pool(self) -> DormSyncPool:
        pool = self._sync_pool
        if pool is not None:
            return pool
        with self._lock:
            if self._sync_pool is None:
                check = psycopg_pool.ConnectionPool.check_connection if self.settings_dict.get("POOL_CHECK") else None
                pool = DormSyncPool(check=check, **self._pool_kwargs)
                pool.open(wait=False)
                self._sync_pool = pool
            return self._sync_pool

    def checkout(self, pool: DormSyncPool) -> psycopg.Connection[Any]:
        """A raw connection from ``pool``; a timeout becomes :class:`dorm.PoolTimeout`."""
        while True:
            try:
                raw = pool.getconn()
            except psycopg_pool.PoolTimeout as error:
                raise self._pool_timeout(pool) from error
            except psycopg_pool.PoolClosed as error:
                raise self._pool_closed() from error
            if not raw.closed:
                break
            pool.putconn(raw)  # closed while idle: the pool replaces it
        pool.count_checkout(1)
        if self._server_version is None:
            self._server_version = _version_tuple(raw.info.server_version)
        return raw

    def acquire(self) -> BaseConnection:
        pool = self._sync_pool or self._get_sync_pool()
        return PgConnection(self, self.checkout(pool), pool)

    def release(self, connection: BaseConnection, *, broken: bool = False) -> None:
        # The pool rolls back a connection left in a transaction and replaces a closed one.
        assert isinstance(connection, PgConnection)
        connection.in_transaction = False
        raw = connection.raw
        if not raw.closed and raw.pgconn.transaction_status != _IDLE:
            # Left in a transaction (an error or a cancel between BEGIN and its end):
            # roll back here, quietly, instead of the pool doing it with a warning.
            try:
                raw.rollback()
            except psycopg.Error:
                raw.close()  # the pool discards a closed connection
        self.checkin(connection.pool, raw)

    def checkin(self, pool: DormSyncPool, raw: psycopg.Connection[Any]) -> None:
        """Give ``raw`` back to ``pool`` (the pool resets, checks or discards it)."""
        pool.count_checkout(-1)
        try:
            pool.putconn(raw)
        except psycopg_pool.PoolClosed:
            raw.close()

    # -- async checkout ----------------------------------------------------------

    async def _get_async_pool(self, loop: asyncio.AbstractEventLoop) -> DormAsyncPool:
        with self._lock:
            pool = self._async_pools.get(loop)
            if pool is None:
                self._discard_dead_loops()
                check = (
                    psycopg_pool.AsyncConnectionPool.check_connection if self.settings_dict.get("POOL_CHECK") else None
                )
                pool = DormAsyncPool(check=check, **self._pool_kwargs)
                pool.loop = loop
                self._async_pools[loop] = pool
        await pool.open(wait=False)
        return pool

    def _discard_dead_loops(self) -> None:
        for loop, pool in list(self._async_pools.items()):
            if loop.is_closed():
                del self._async_pools[loop]
                discard_async_pool(pool)

    async def acheckout(self, pool: DormAsyncPool) -> psycopg.AsyncConnection[Any]:
        """Async twin of :meth:`checkout`."""
        while True:
            try:
                raw = await pool.getconn()
            except psycopg_pool.PoolTimeout as error:
                raise self._pool_timeout(pool) from error
            except psycopg_pool.PoolClosed as error:
                raise self._pool_closed() from error
            if not raw.closed:
                break
            await pool.putconn(raw)
        pool.count_checkout(1)
        if self._server_version is None:
            self._server_version = _version_tuple(raw.info.server_version)
        return raw

    async def aacquire(self) -> BaseAsyncConnection:
        loop = _get_running_loop()
        assert loop is not None, "aacquire() outside a running event loop"
        pool = self._async_pools.get(loop)
        if pool is None or pool.closed:
            if pool is not None:
                with self._lock:
                    self._async_pools.pop(loop, None)
            pool = await self._get_async_pool(loop)
        return PgAsyncConnection(self, await self.acheckout(pool), pool)

    async def arelease(self, connection: BaseAsyncConnection, *, broken: bool = False) -> None:
        assert isinstance(connection, PgAsyncConnection)
        connection.in_transaction = False
        raw = connection.raw
        if not raw.closed and raw.pgconn.transaction_status != _IDLE:
            try:
                await raw.rollback()
            except psycopg.Error:
                await raw.close()
        await self.acheckin(connection.pool, raw)

    async def acheckin(self, pool: DormAsyncPool, raw: psycopg.AsyncConnection[Any]) -> None:
        """Async twin of :meth:`checkin`."""
        pool.count_checkout(-1)
        try:
            await pool.putconn(raw)
        except psycopg_pool.PoolClosed:
            await raw.close()

    # -- errors -------------------------------------------------------------------

    def _pool_timeout(self, pool: DormSyncPool | DormAsyncPool) -> PoolTimeout:
        kw = self._pool_kwargs
        numbers = pool_numbers(pool)
        message = (
            f"pool timeout: no connection to database alias {self.alias!r} became free within "
            f"POOL_TIMEOUT={kw['timeout']:g}s (MAX_POOL_SIZE={kw['max_size']}, "
            f"{numbers['in_use']} in use, {numbers.get('requests_waiting', 0)} waiting). "
        )
        error = pool.last_connect_error
        if error is not None:
            text = str(error).strip().replace("\n", " ")
            message += f"Opening a new connection failed: {text}. {_CONNECT_FIX}"
        else:
            message += _POOL_TIMEOUT_FIX.format(alias=self.alias)
        return PoolTimeout(message)

    def _pool_closed(self) -> PoolTimeout:
        return PoolTimeout(
            f"pool timeout: the connection pool of database alias {self.alias!r} was closed while a checkout "
            "waited (dorm.close_all() ran during a query). Close pools only at shutdown."
        )

    # -- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        """Close the sync pool and the async pools that can be closed from here.

        Async pools of a closed loop are discarded; of a loop that is not
        running, closed on it; of a loop running in this thread, closed by a
        task scheduled on it (use ``await dorm.close_all_async()`` there).
        """
        with self._lock:
            pool, self._sync_pool = self._sync_pool, None
            async_pools, self._async_pools = self._async_pools, {}
        if pool is not None:
            pool.close()
        running = _get_running_loop()
        for loop, apool in async_pools.items():
            if loop.is_closed():
                discard_async_pool(apool)
            elif loop is running:
                _background.add(task := loop.create_task(apool.close()))
                task.add_done_callback(_background.discard)
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(apool.close(), loop).result(timeout=10)
            else:
                loop.run_until_complete(apool.close())

    async def aclose(self) -> None:
        """Close every pool; the running loop's async pool is awaited."""
        running = _get_running_loop()
        with self._lock:
            mine = self._async_pools.pop(running, None) if running is not None else None
        if mine is not None:
            await mine.close()
        self.close()

    def pool_stats(self) -> dict[str, Any]:
        """``status``, the configured sizes, the sync pool's numbers at top level,
        ``async`` for the running loop's pool and ``async_pools`` (count).  Never raises."""
        kw = self._pool_kwargs
        stats: dict[str, Any] = {
            "status": "uninitialised",
            "alias": self.alias,
            "vendor": self.vendor,
            "min_size": kw["min_size"],
            "max_size": kw["max_size"],
            "timeout": kw["timeout"],
        }
        pool = self._sync_pool
        if pool is not None:
            stats["status"] = "open"
            stats.update(pool_numbers(pool))
        pools = dict(self._async_pools)
        live = {loop: p for loop, p in pools.items() if not loop.is_closed()}
        stats["async_pools"] = len(live)
        if live:
            stats["status"] = "open"
        running = _get_running_loop()
        if running is not None and running in live:
            stats["async"] = pool_numbers(live[running])
        elif len(live) == 1:
            stats["async"] = pool_numbers(next(iter(live.values())))
        return stats

    def server_version(self) -> tuple[int, ...] | None:
        return self._server_version


_background: set[asyncio.Task[Any]] = set()


def _version_tuple(number: int) -> tuple[int, ...]:
    # PostgreSQL 10+: 150020 -> (15, 20)
    return (number // 10000, number % 10000)
