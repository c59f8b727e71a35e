"""``iterator()`` / ``aiterator()`` run through the executor like every statement.

Wrappers (``dorm_statement``) see the streamed statement once, when the
iteration ends (normally, with an error, or abandoned), with
``streamed=True``, ``rows=None`` and ``rowcount`` = the rows streamed; the
connection hooks fire and balance; the ``dorm.db`` logger logs it.  On
PostgreSQL (server-side cursors) the connection is held for the iteration
and comes back when the consumer stops.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Generator, Iterator
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm.backends.base.statement import Statement
from dorm.db.connections import connections
from dorm.exceptions import SyncInAsyncContextError

from .models import ALL, Author

ROWS = 25


class Recorder:
    """A statement wrapper that records what it sees when each statement ends."""

    def __init__(self) -> None:
        self.entered: list[Statement] = []
        self.ended: list[tuple[Statement, BaseException | None]] = []
        self.connection_at_entry: list[Any] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        self.entered.append(statement)
        self.connection_at_entry.append(statement.connection)
        try:
            yield
        except BaseException as exc:
            self.ended.append((statement, exc))
            raise
        self.ended.append((statement, None))

    def selects(self) -> list[Statement]:
        return [s for s in self.entered if s.sql.lstrip().upper().startswith("SELECT")]


class ConnectionHooks:
    def __init__(self) -> None:
        self.acquired: list[Any] = []
        self.released: list[tuple[Any, bool]] = []

    @dorm.hookimpl
    def dorm_connection_acquired(self, alias: str, connection: Any) -> None:
        self.acquired.append(connection)

    @dorm.hookimpl
    def dorm_connection_released(self, alias: str, connection: Any, broken: bool) -> None:
        self.released.append((connection, broken))


@pytest.fixture
def authors(create_tables: Any) -> None:
    create_tables(*ALL)
    Author.objects.bulk_create([Author(name=f"a{i:02}", age=i) for i in range(ROWS)])


@pytest.fixture
def recorder(authors: None) -> Iterator[Recorder]:
    rec = Recorder()
    plugins.kernel.register(rec)
    try:
        yield rec
    finally:
        plugins.kernel.unregister(rec)


@pytest.fixture
def hooks(authors: None) -> Iterator[ConnectionHooks]:
    watcher = ConnectionHooks()
    plugins.kernel.register(watcher)
    try:
        yield watcher
    finally:
        plugins.kernel.unregister(watcher)


def holds_connection(alias: str) -> bool:
    """True where iterator() keeps a server-side cursor (and its connection) open while streaming."""
    return bool(connections[alias].features.supports_server_side_cursors)


def in_use(alias: str) -> int | None:
    """Connections checked out of the alias's sync pool, where the backend reports it."""
    stats = dorm.pool_stats(alias)
    value = stats.get("in_use")
    return value if isinstance(value, int) else None


def assert_streamed(stmt: Statement, rows: int) -> None:
    assert stmt.streamed is True
    assert stmt.rows is None
    assert stmt.rowcount == rows
    assert stmt.duration > 0.0
    assert stmt.connection is not None


# -- the wrapper sees the statement once -----------------------------------------------------------


def test_wrapper_sees_the_streamed_statement_once(alias: str, recorder: Recorder) -> None:
    recorder.entered.clear()
    recorder.ended.clear()
    names = [a.name for a in Author.objects.order_by("name").iterator(chunk_size=4)]
    assert names == [f"a{i:02}" for i in range(ROWS)]
    assert len(recorder.entered) == 1 and len(recorder.ended) == 1
    stmt, error = recorder.ended[0]
    assert error is None
    assert_streamed(stmt, ROWS)
    assert recorder.connection_at_entry == [None]  # wrappers start before the checkout


async def test_wrapper_sees_the_async_streamed_statement_once(alias: str, recorder: Recorder) -> None:
    recorder.entered.clear()
    recorder.ended.clear()
    names = [a.name async for a in Author.objects.order_by("name").aiterator(chunk_size=4)]
    assert names == [f"a{i:02}" for i in range(ROWS)]
    assert len(recorder.entered) == 1 and len(recorder.ended) == 1
    stmt, error = recorder.ended[0]
    assert error is None
    assert_streamed(stmt, ROWS)
    assert recorder.connection_at_entry == [None]


def test_values_iterator_is_streamed_too(alias: str, recorder: Recorder) -> None:
    recorder.ended.clear()
    ages = list(Author.objects.filter(age__lt=10).order_by("age").values_list("age", flat=True).iterator())
    assert ages == list(range(10))
    (stmt, error), *_ = recorder.ended
    assert error is None
    assert_streamed(stmt, 10)


def test_an_empty_result_is_a_streamed_statement_with_no_rows(alias: str, recorder: Recorder) -> None:
    recorder.ended.clear()
    assert list(Author.objects.filter(name="nobody").iterator()) == []
    assert len(recorder.ended) == 1
    stmt, error = recorder.ended[0]
    assert error is None and stmt.streamed and stmt.rowcount == 0 and stmt.rows is None


def test_inside_atomic_the_block_connection_is_used(alias: str, recorder: Recorder, hooks: ConnectionHooks) -> None:
    with dorm.transaction.atomic(using=alias):
        recorder.entered.clear()
        recorder.ended.clear()
        recorder.connection_at_entry.clear()
        acquired = len(hooks.acquired)
        assert len(list(Author.objects.using(alias).iterator(chunk_size=10))) == ROWS
        assert len(hooks.acquired) == acquired  # no checkout of its own
    stmt, error = recorder.ended[0]
    assert error is None
    assert_streamed(stmt, ROWS)
    assert recorder.connection_at_entry[0] is not None  # inside a block the connection is known up front


def test_ordinary_statements_are_not_marked_streamed(alias: str, recorder: Recorder) -> None:
    recorder.ended.clear()
    assert len(list(Author.objects.all())) == ROWS
    stmt, _ = recorder.ended[0]
    assert stmt.streamed is False
    assert stmt.rows is not None and len(stmt.rows) == ROWS


# -- connection hooks ------------------------------------------------------------------------------


def test_connection_hooks_fire_and_balance(alias: str, hooks: ConnectionHooks) -> None:
    hooks.acquired.clear()
    hooks.released.clear()
    it = Author.objects.order_by("name").iterator(chunk_size=5)
    assert next(it).name == "a00"
    assert len(hooks.acquired) == 1
    if holds_connection(alias):
        assert hooks.released == []  # the server-side cursor needs its connection
        assert in_use(alias) == 1
    rest = list(it)
    assert len(rest) == ROWS - 1
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert hooks.released[0] == (hooks.acquired[0], False)
    if holds_connection(alias):
        assert in_use(alias) == 0


async def test_async_connection_hooks_fire_and_balance(alias: str, hooks: ConnectionHooks) -> None:
    hooks.acquired.clear()
    hooks.released.clear()
    seen = 0
    async for _ in Author.objects.aiterator(chunk_size=7):
        seen += 1
        if seen == 1 and holds_connection(alias):
            assert len(hooks.acquired) == 1 and hooks.released == []
    assert seen == ROWS
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert hooks.released[0] == (hooks.acquired[0], False)


# -- abandoning an iteration -----------------------------------------------------------------------


def test_closing_half_way_releases_the_connection_and_resumes_the_wrapper(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.acquired.clear()
    hooks.released.clear()
    it = Author.objects.order_by("name").iterator(chunk_size=4)
    assert [next(it).name for _ in range(6)] == [f"a{i:02}" for i in range(6)]
    if holds_connection(alias):
        assert recorder.ended == []  # still streaming
        assert hooks.released == []
    it.close()
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert hooks.released[0][1] is False  # the connection is fine
    assert len(recorder.ended) == 1
    stmt, error = recorder.ended[0]
    assert error is None  # the consumer stopping early is a normal end
    assert_streamed(stmt, 8)  # two chunks of 4 were fetched
    if holds_connection(alias):
        assert in_use(alias) == 0
    assert Author.objects.count() == ROWS  # the connection is usable


def test_break_and_garbage_collection_release_the_connection(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.released.clear()
    for author in Author.objects.order_by("name").iterator(chunk_size=3):
        if author.name == "a01":
            break
    del author
    gc.collect()
    assert len(hooks.released) == 1
    assert len(recorder.ended) == 1 and recorder.ended[0][1] is None
    assert recorder.ended[0][0].rowcount == 3


async def test_async_aclose_half_way_releases_the_connection(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.acquired.clear()
    hooks.released.clear()
    agen = Author.objects.order_by("name").aiterator(chunk_size=4)
    assert (await agen.__anext__()).name == "a00"
    if holds_connection(alias):
        assert recorder.ended == [] and hooks.released == []
    await agen.aclose()
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert hooks.released[0][1] is False
    stmt, error = recorder.ended[0]
    assert error is None
    assert_streamed(stmt, 4)
    assert await Author.objects.acount() == ROWS


async def test_async_abandoned_iterator_is_cleaned_up_by_the_loop(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.released.clear()
    async for author in Author.objects.order_by("name").aiterator(chunk_size=3):
        if author.name == "a01":
            break
    del author
    gc.collect()
    for _ in range(50):  # the loop's async-generator finaliser closes it in a task of its own
        if recorder.ended:
            break
        await asyncio.sleep(0.01)
    assert len(hooks.released) == 1
    assert len(recorder.ended) == 1 and recorder.ended[0][1] is None


async def test_cancelled_consumer_gives_the_connection_back(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.acquired.clear()
    hooks.released.clear()
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in Author.objects.aiterator(chunk_size=2):
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    del task
    gc.collect()
    for _ in range(50):
        if recorder.ended:
            break
        await asyncio.sleep(0.01)
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert len(recorder.ended) == 1
    assert await Author.objects.acount() == ROWS


# -- errors ----------------------------------------------------------------------------------------


class StopAfter:
    """A wrapper that stops a streamed statement once more than ``limit`` rows came (a chunk callback)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: list[tuple[int, BaseException | None]] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        if statement.streamed:
            statement.add_chunk_callback(self.check)
        try:
            yield
        except BaseException as exc:
            self.seen.append((statement.rowcount, exc))
            raise
        self.seen.append((statement.rowcount, None))

    def check(self, statement: Statement) -> None:
        if statement.rowcount > self.limit:
            raise ValueError(f"{statement.rowcount} rows streamed, more than {self.limit}")


def test_a_chunk_callback_stops_the_stream_before_the_rows_reach_the_consumer(
    alias: str, hooks: ConnectionHooks
) -> None:
    stopper = StopAfter(limit=5)
    plugins.kernel.register(stopper)
    hooks.acquired.clear()
    hooks.released.clear()
    got: list[str] = []
    try:
        with pytest.raises(ValueError, match="8 rows streamed, more than 5"):
            for author in Author.objects.order_by("name").iterator(chunk_size=4):
                got.append(author.name)
    finally:
        plugins.kernel.unregister(stopper)
    assert len(got) == 4  # the second chunk never reached the consumer
    assert len(stopper.seen) == 1
    rowcount, error = stopper.seen[0]
    assert rowcount == 8 and isinstance(error, ValueError)  # thrown into the wrapper like a failure
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert hooks.released[0][1] is False  # our own error: the connection is not broken


async def test_async_chunk_callback_stops_the_stream(alias: str, hooks: ConnectionHooks) -> None:
    stopper = StopAfter(limit=0)
    plugins.kernel.register(stopper)
    hooks.released.clear()
    try:
        with pytest.raises(ValueError, match="3 rows streamed"):
            async for _ in Author.objects.aiterator(chunk_size=3):
                pytest.fail("no row may reach the consumer")
    finally:
        plugins.kernel.unregister(stopper)
    assert len(hooks.released) == 1
    assert isinstance(stopper.seen[0][1], ValueError)


class NeverCreated(dorm.Model):
    """No table: every query of it fails in the database."""

    name = dorm.CharField(max_length=10)

    class Meta:
        app_label = "queries"
        db_table = "queries_streaming_never_created"


def test_a_failing_statement_is_thrown_into_the_wrapper(alias: str, recorder: Recorder, hooks: ConnectionHooks) -> None:
    recorder.ended.clear()
    hooks.acquired.clear()
    hooks.released.clear()
    with pytest.raises(dorm.DatabaseError):
        list(NeverCreated.objects.using(alias).iterator())
    assert len(recorder.ended) == 1
    stmt, error = recorder.ended[0]
    assert isinstance(error, dorm.DatabaseError)
    assert stmt.streamed
    assert len(hooks.acquired) == len(hooks.released) == 1
    assert Author.objects.count() == ROWS  # the pool is fine afterwards


async def test_a_failing_async_statement_is_thrown_into_the_wrapper(
    alias: str, recorder: Recorder, hooks: ConnectionHooks
) -> None:
    recorder.ended.clear()
    hooks.released.clear()
    with pytest.raises(dorm.DatabaseError):
        [x async for x in NeverCreated.objects.using(alias).aiterator()]
    assert isinstance(recorder.ended[0][1], dorm.DatabaseError)
    assert len(hooks.released) == 1


# -- logging ---------------------------------------------------------------------------------------


def test_the_dorm_db_logger_logs_the_streamed_statement(
    alias: str, authors: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        assert len(list(Author.objects.iterator(chunk_size=10))) == ROWS
    records = [r for r in caplog.records if r.name == "dorm.db" and getattr(r, "streamed", False)]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.DEBUG
    assert record.rows == ROWS  # type: ignore[attr-defined]
    assert record.alias == alias  # type: ignore[attr-defined]
    assert record.duration > 0  # type: ignore[attr-defined]
    assert f"alias={alias} rows={ROWS} " in record.getMessage()


async def test_the_dorm_db_logger_logs_the_async_streamed_statement(
    alias: str, authors: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        assert len([a async for a in Author.objects.aiterator(chunk_size=10)]) == ROWS
    records = [r for r in caplog.records if r.name == "dorm.db" and getattr(r, "streamed", False)]
    assert len(records) == 1 and records[0].rows == ROWS  # type: ignore[attr-defined]


def test_slow_streamed_statements_log_a_warning(
    alias: str, authors: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dorm.db import executor

    monkeypatch.setattr(executor, "slow_query_seconds", 0.0)
    with caplog.at_level(logging.WARNING, logger="dorm.db"):
        list(Author.objects.iterator())
    assert [r.levelno for r in caplog.records if getattr(r, "streamed", False)] == [logging.WARNING]


# -- refusals stay -------------------------------------------------------------------------------


async def test_sync_iterator_inside_a_running_loop_is_refused(alias: str, authors: None) -> None:
    with pytest.raises(SyncInAsyncContextError, match=r"this event loop is already running.*aiterator"):
        next(Author.objects.iterator())


class Reading(dorm.AsyncModel):
    value = dorm.IntegerField()

    class Meta:
        app_label = "queries"
        db_table = "queries_streaming_reading"


@pytest.fixture
def readings(create_tables: Any) -> None:
    create_tables(Reading)


def test_async_model_refuses_the_sync_iterator(alias: str, readings: None) -> None:
    with pytest.raises(dorm.AsyncOnlyError, match="AsyncModel forbids sync access"):
        next(Reading.objects.iterator())


async def test_async_model_streams_with_aiterator(alias: str, readings: None, recorder: Recorder) -> None:
    await Reading.objects.abulk_create([Reading(value=i) for i in range(7)])
    recorder.ended.clear()
    assert [r.value async for r in Reading.objects.order_by("value").aiterator(chunk_size=3)] == list(range(7))
    stmt, error = recorder.ended[0]
    assert error is None
    assert_streamed(stmt, 7)
