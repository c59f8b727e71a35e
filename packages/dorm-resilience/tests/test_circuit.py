"""Circuit breakers: the state machine (with an injected clock), concurrency, per-alias breakers on real databases."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm_resilience import CircuitBreaker, CircuitState, circuit_breaker
from dorm_resilience.circuit import get_breakers


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fail(cb: CircuitBreaker, exc: BaseException | None = None) -> None:
    with pytest.raises(type(exc) if exc else dorm.OperationalError):
        with cb:
            raise exc or dorm.OperationalError("server closed the connection unexpectedly")


def succeed(cb: CircuitBreaker) -> str:
    with cb:
        return "ok"


# -- the state machine -----------------------------------------------------------------------


def test_closed_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    cb = CircuitBreaker("payments", failure_threshold=3, cooldown=30.0, clock=clock)
    assert cb.state is CircuitState.CLOSED
    fail(cb)
    fail(cb)
    succeed(cb)  # a success resets the consecutive count
    fail(cb)
    fail(cb)
    assert cb.state is CircuitState.CLOSED
    assert cb.failures == 2
    fail(cb)
    assert cb.state is CircuitState.OPEN
    assert cb.state == "open"


def test_open_circuit_bounces_calls_with_the_seed_message(clock: FakeClock) -> None:
    cb = CircuitBreaker("payments", failure_threshold=1, cooldown=30.0, clock=clock)
    fail(cb)
    clock.advance(12.0)
    ran = []
    with pytest.raises(dorm.CircuitOpenError) as info:
        with cb:
            ran.append(1)
    assert ran == []
    message = str(info.value)
    assert message.startswith("Circuit 'payments' is OPEN")
    assert "18.0 s until HALF_OPEN" in message
    assert "circuit_breaker('payments').reset()" in message
    assert isinstance(info.value, dorm.OperationalError)
    assert cb.time_until_half_open() == pytest.approx(18.0)


def test_reset_closes_the_circuit(clock: FakeClock) -> None:
    cb = CircuitBreaker("payments", failure_threshold=1, clock=clock)
    fail(cb)
    with pytest.raises(dorm.CircuitOpenError):
        succeed(cb)
    cb.reset()  # the seed's fix
    assert cb.state is CircuitState.CLOSED
    assert succeed(cb) == "ok"


def test_cooldown_half_open_trial_success_closes(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=2, cooldown=30.0, clock=clock)
    fail(cb)
    fail(cb)
    clock.advance(29.9)
    assert cb.state is CircuitState.OPEN
    clock.advance(0.1)  # the seed's other fix: wait out the cooldown
    assert cb.state is CircuitState.HALF_OPEN
    assert succeed(cb) == "ok"
    assert cb.state is CircuitState.CLOSED


def test_half_open_trial_failure_reopens_with_a_fresh_cooldown(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=2, cooldown=10.0, clock=clock)
    fail(cb)
    fail(cb)
    clock.advance(10)
    fail(cb)  # the trial call
    assert cb.state is CircuitState.OPEN
    assert cb.time_until_half_open() == pytest.approx(10.0)
    clock.advance(10)
    assert cb.state is CircuitState.HALF_OPEN


def test_success_threshold_needs_that_many_trials(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=1, cooldown=5, success_threshold=3, clock=clock)
    fail(cb)
    clock.advance(5)
    succeed(cb)
    succeed(cb)
    assert cb.state is CircuitState.HALF_OPEN
    succeed(cb)
    assert cb.state is CircuitState.CLOSED


def test_half_open_admits_one_trial_at_a_time(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=1, cooldown=1, clock=clock)
    fail(cb)
    clock.advance(1)
    with cb:  # the trial is running
        with pytest.raises(dorm.CircuitOpenError, match="one trial call is already running"):
            with cb:
                pass
    assert cb.state is CircuitState.CLOSED


def test_unexpected_exceptions_do_not_count(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=2, clock=clock)
    for _ in range(5):
        fail(cb, KeyError("not a database failure"))
        fail(cb, dorm.IntegrityError("duplicate key"))
    assert cb.state is CircuitState.CLOSED
    assert cb.failures == 0


def test_cancelled_error_never_counts_even_when_expected(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=1, expected=(BaseException,), clock=clock)
    for _ in range(3):
        fail(cb, asyncio.CancelledError())
    assert cb.state is CircuitState.CLOSED
    fail(cb, RuntimeError("counts: BaseException is expected"))
    assert cb.state is CircuitState.OPEN


def test_cancelled_trial_frees_the_trial_slot(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=1, cooldown=1, clock=clock)
    fail(cb)
    clock.advance(1)
    fail(cb, asyncio.CancelledError())
    assert cb.state is CircuitState.HALF_OPEN
    assert succeed(cb) == "ok"
    assert cb.state is CircuitState.CLOSED


def test_a_call_admitted_before_opening_is_not_taken_for_the_trial(clock: FakeClock) -> None:
    cb = CircuitBreaker("svc", failure_threshold=1, cooldown=1, clock=clock)
    slow = cb._admit()  # a slow call admitted while CLOSED
    fail(cb)
    clock.advance(1)
    assert cb.state is CircuitState.HALF_OPEN
    cb._settle(slow, None)  # finishes successfully during HALF_OPEN
    assert cb.state is CircuitState.HALF_OPEN


def test_state_changes_are_logged(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    cb = CircuitBreaker("logged", failure_threshold=1, cooldown=1, clock=clock)
    with caplog.at_level(logging.INFO, logger="dorm.resilience.circuit"):
        fail(cb)
        clock.advance(1)
        succeed(cb)
    changes = [(r.from_state, r.to_state) for r in caplog.records if r.name == "dorm.resilience.circuit"]  # type: ignore[attr-defined]
    assert changes == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    assert caplog.records[0].levelno == logging.WARNING


# -- decorator and async ------------------------------------------------------------------------


def test_decorator_sync(clock: FakeClock) -> None:
    cb = CircuitBreaker("deco", failure_threshold=2, clock=clock)
    calls = []

    @cb
    def flaky(ok: bool) -> str:
        calls.append(ok)
        if not ok:
            raise dorm.OperationalError("down")
        return "up"

    assert flaky(True) == "up"
    for _ in range(2):
        with pytest.raises(dorm.OperationalError):
            flaky(False)
    with pytest.raises(dorm.CircuitOpenError):
        flaky(True)
    assert calls == [True, False, False]
    assert flaky.__name__ == "flaky"


async def test_async_context_manager_and_decorator(clock: FakeClock) -> None:
    cb = CircuitBreaker("adeco", failure_threshold=2, cooldown=5, clock=clock)

    @cb
    async def flaky(ok: bool) -> str:
        await asyncio.sleep(0)
        if not ok:
            raise dorm.OperationalError("down")
        return "up"

    with pytest.raises(dorm.OperationalError):
        await flaky(False)
    with pytest.raises(dorm.OperationalError):
        async with cb:
            raise dorm.OperationalError("down")
    with pytest.raises(dorm.CircuitOpenError):
        await flaky(True)
    clock.advance(5)
    assert await flaky(True) == "up"
    assert cb.state is CircuitState.CLOSED


async def test_cancelled_task_does_not_count(clock: FakeClock) -> None:
    cb = CircuitBreaker("cancel", failure_threshold=1, clock=clock)

    @cb
    async def hang() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(hang())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cb.state is CircuitState.CLOSED


# -- the registry ---------------------------------------------------------------------------------


def test_circuit_breaker_is_process_wide_by_name(caplog: pytest.LogCaptureFixture) -> None:
    first = dorm.circuit_breaker("registry-test", failure_threshold=3, cooldown=12.0)
    assert dorm.circuit_breaker("registry-test") is first
    assert circuit_breaker("registry-test") is first
    with caplog.at_level(logging.WARNING, logger="dorm.resilience.circuit"):
        again = dorm.circuit_breaker("registry-test", failure_threshold=9)
    assert again is first and first.failure_threshold == 3 and first.cooldown == 12.0
    assert "keeping the first ones (ignored: failure_threshold=9)" in caplog.text
    assert isinstance(first, dorm.CircuitBreaker)


def test_defaults() -> None:
    cb = dorm.circuit_breaker("defaults-test")
    assert (cb.failure_threshold, cb.cooldown, cb.success_threshold, cb.expected) == (
        5,
        30.0,
        1,
        (dorm.OperationalError, OSError),
    )


@pytest.mark.parametrize("exc", [ConnectionError("refused"), TimeoutError("read timed out"), OSError("reset")])
def test_network_errors_count_by_default(clock: FakeClock, exc: OSError) -> None:
    # "with cb:" around an HTTP call: its connection failures trip the breaker without configuring expected=
    cb = CircuitBreaker("http", failure_threshold=2, clock=clock)
    fail(cb, exc)
    fail(cb, exc)
    assert cb.state == "open"
    with pytest.raises(dorm.CircuitOpenError, match="^Circuit 'http' is OPEN"):
        with cb:
            pass


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0}, {"cooldown": -1}, {"success_threshold": 0}, {"expected": ("x",)}]
)
def test_bad_parameters(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="circuit_breaker"):
        CircuitBreaker("bad", **kwargs)


# -- 100 concurrent callers -------------------------------------------------------------------------


def test_one_hundred_threads_failing_open_the_circuit_once(caplog: pytest.LogCaptureFixture) -> None:
    cb = CircuitBreaker("threads", failure_threshold=10, cooldown=60)
    barrier = threading.Barrier(100)
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait(timeout=10)
        for _ in range(5):
            try:
                with cb:
                    time.sleep(0.001)
                    raise dorm.OperationalError("down")
            except dorm.CircuitOpenError:
                result = "bounced"
            except dorm.OperationalError:
                result = "failed"
            with lock:
                outcomes.append(result)

    with caplog.at_level(logging.WARNING, logger="dorm.resilience.circuit"):
        threads = [threading.Thread(target=call) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert len(outcomes) == 500
    assert cb.state is CircuitState.OPEN
    assert outcomes.count("failed") >= 10
    assert outcomes.count("bounced") > 0
    opened = [r for r in caplog.records if "-> OPEN" in r.getMessage()]
    assert len(opened) == 1


def test_one_hundred_threads_half_open_admits_exactly_one_trial() -> None:
    clock = FakeClock()
    cb = CircuitBreaker("threads-trial", failure_threshold=1, cooldown=5, clock=clock)
    fail(cb)
    clock.advance(5)
    barrier = threading.Barrier(100)
    release = threading.Event()
    admitted: list[int] = []
    bounced: list[int] = []
    lock = threading.Lock()

    def call(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            with cb:
                with lock:
                    admitted.append(i)
                release.wait(5)
        except dorm.CircuitOpenError:
            with lock:
                bounced.append(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(admitted) + len(bounced) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for t in threads:
        t.join(10)
    assert len(admitted) == 1 and len(bounced) == 99
    assert cb.state is CircuitState.CLOSED


async def test_one_hundred_tasks_half_open_admits_exactly_one_trial() -> None:
    clock = FakeClock()
    cb = CircuitBreaker("tasks-trial", failure_threshold=3, cooldown=5, clock=clock)
    for _ in range(3):
        fail(cb)
    clock.advance(5)
    gate = asyncio.Event()

    async def call() -> str:
        try:
            async with cb:
                await gate.wait()
                return "admitted"
        except dorm.CircuitOpenError:
            return "bounced"

    tasks = [asyncio.ensure_future(call()) for _ in range(100)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert results.count("admitted") == 1 and results.count("bounced") == 99
    assert cb.state is CircuitState.CLOSED


async def test_one_hundred_tasks_failing_concurrently() -> None:
    cb = CircuitBreaker("tasks", failure_threshold=20, cooldown=60)

    async def call() -> str:
        try:
            async with cb:
                await asyncio.sleep(0.001)
                raise dorm.OperationalError("down")
        except dorm.CircuitOpenError:
            return "bounced"
        except dorm.OperationalError:
            return "failed"

    first = await asyncio.gather(*(call() for _ in range(100)))
    assert first.count("failed") == 100  # all admitted while CLOSED
    assert cb.state is CircuitState.OPEN
    second = await asyncio.gather(*(call() for _ in range(100)))
    assert second.count("bounced") == 100


# -- per-alias breakers (settings) -------------------------------------------------------------------


def _alias_wrapper_registered() -> bool:
    return any(
        getattr(w, "__qualname__", "").startswith("_AliasBreakerHook") for w in plugins.kernel.statement_wrappers()
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def breaker_alias(request: pytest.FixtureRequest, tmp_path: Path, helpers: Any) -> Iterator[str]:
    """``default`` with ``CIRCUIT_BREAKER = {"failure_threshold": 3, "cooldown": 10}``."""
    settings = helpers.alias_settings(request.param, tmp_path, request)
    settings["CIRCUIT_BREAKER"] = {"failure_threshold": 3, "cooldown": 10}
    for _ in helpers.configure({"default": settings}):
        yield request.param


def test_alias_breaker_trips_on_database_failures_and_fails_fast(breaker_alias: str) -> None:
    assert _alias_wrapper_registered()
    cb = get_breakers()["db:default"]
    assert cb is dorm.circuit_breaker("db:default")
    assert (cb.failure_threshold, cb.cooldown) == (3, 10.0)
    conn = dorm.get_connection()
    conn.execute("SELECT 1")
    # an OperationalError from the database: a statement cancelled by its timeout
    slow = (
        "SELECT pg_sleep(5)"
        if breaker_alias == "postgres"
        else "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 300000000) SELECT count(*) FROM r"
    )
    for _ in range(3):
        with pytest.raises(dorm.BudgetExceeded):
            with dorm.budget(timeout_ms=50):
                conn.execute(slow)
    assert cb.state is CircuitState.OPEN
    started = time.perf_counter()
    with pytest.raises(dorm.CircuitOpenError, match="Circuit 'db:default' is OPEN"):
        conn.execute("SELECT 1")
    assert time.perf_counter() - started < 0.05
    cb.reset()
    assert conn.execute("SELECT 1") == [(1,)]


def test_alias_breaker_ignores_programming_errors_and_row_budgets(breaker_alias: str) -> None:
    cb = get_breakers()["db:default"]
    conn = dorm.get_connection()
    for _ in range(5):
        with pytest.raises(dorm.DatabaseError) as info:
            conn.execute("SELECT * FROM no_such_table_here")
        assert not isinstance(info.value, dorm.CircuitOpenError)
        with pytest.raises(dorm.BudgetExceeded):
            with dorm.budget(max_rows=0):
                conn.execute("SELECT 1")
    if breaker_alias == "postgres":
        assert cb.state is CircuitState.CLOSED  # an undefined table is a ProgrammingError there


async def test_alias_breaker_async(breaker_alias: str) -> None:
    cb = get_breakers()["db:default"]
    cb._transition(CircuitState.OPEN, "test")
    with pytest.raises(dorm.CircuitOpenError):
        await dorm.get_connection().aexecute("SELECT 1")
    cb.reset()
    assert await dorm.get_connection().aexecute("SELECT 1") == [(1,)]


@pytest.mark.postgres
def test_alias_breaker_fails_fast_when_the_server_is_down(tmp_path: Path, helpers: Any) -> None:
    """A server that refuses connections: after the threshold, queries bounce instead of waiting for the pool."""
    down = {
        "URL": "postgresql://postgres@127.0.0.1:1/nothing_listens_here",
        "POOL_TIMEOUT": 0.5,
        "CIRCUIT_BREAKER": {"failure_threshold": 2, "cooldown": 30},
    }
    pytest.importorskip("dorm_postgres")
    for _ in helpers.configure({"default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "x.sqlite3")}, "down": down}):
        conn = dorm.get_connection("down")
        for _ in range(2):
            with pytest.raises(dorm.OperationalError) as info:
                conn.execute("SELECT 1")
            assert not isinstance(info.value, dorm.CircuitOpenError)
        started = time.perf_counter()
        with pytest.raises(dorm.CircuitOpenError, match="Circuit 'db:down' is OPEN"):
            conn.execute("SELECT 1")
        assert time.perf_counter() - started < 0.05
        # other aliases are not affected
        assert dorm.get_connection().execute("SELECT 1") == [(1,)]


class _Settings:
    def __init__(self, databases: dict[str, Any]) -> None:
        self.databases = databases

    def get(self, name: str, default: Any = None) -> Any:
        return self.databases if name == "DATABASES" else default


@pytest.mark.parametrize(
    ("raw", "message"),
    [({"threshold": 3}, "unknown keys"), (5, "must be a dict"), ({"cooldown": -2}, "cooldown must be")],
)
def test_alias_breaker_settings_are_validated(raw: Any, message: str) -> None:
    from dorm_resilience.circuit import configure_alias_breakers

    with pytest.raises(dorm.ImproperlyConfigured, match=message):
        configure_alias_breakers(_Settings({"default": {"ENGINE": "sqlite", "CIRCUIT_BREAKER": raw}}))


def test_no_alias_breaker_no_wrapper(sqlite_db: None) -> None:
    assert not _alias_wrapper_registered()
    assert "db:default" not in get_breakers()


@pytest.mark.postgres
async def test_alias_breaker_fails_fast_when_the_server_is_down_async(tmp_path: Path, helpers: Any) -> None:
    down = {
        "URL": "postgresql://postgres@127.0.0.1:1/nothing_listens_here",
        "POOL_TIMEOUT": 0.5,
        "CIRCUIT_BREAKER": {"failure_threshold": 2, "cooldown": 30},
    }
    pytest.importorskip("dorm_postgres")
    for _ in helpers.configure({"default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "x.sqlite3")}, "down": down}):
        conn = dorm.get_connection("down")
        for _ in range(2):
            with pytest.raises(dorm.OperationalError) as info:
                await conn.aexecute("SELECT 1")
            assert not isinstance(info.value, dorm.CircuitOpenError)
        started = time.perf_counter()
        with pytest.raises(dorm.CircuitOpenError, match="Circuit 'db:down' is OPEN"):
            await conn.aexecute("SELECT 1")
        assert time.perf_counter() - started < 0.05
        await dorm.close_all_async()


# -- per-alias breakers and streamed statements (qs.iterator()) --------------------------------------


class StreamedItem(dorm.Model):
    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "resilience_circuit"
        db_table = "cb_item"
        managed = False


class SlowStreamedItem(dorm.Model):
    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "resilience_circuit"
        db_table = "cb_slow_item"
        managed = False


def _stream_tables(backend: str) -> None:
    conn = dorm.get_connection()
    conn.execute("DROP VIEW IF EXISTS cb_slow_item")
    conn.execute("DROP TABLE IF EXISTS cb_item")
    conn.execute("CREATE TABLE cb_item (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)")
    conn.executemany("INSERT INTO cb_item (id, name) VALUES (%s, %s)", [(i, f"item {i}") for i in range(1, 21)])
    if backend == "postgres":
        conn.execute(
            "CREATE VIEW cb_slow_item AS SELECT g AS id, 'slow' AS name "
            "FROM generate_series(1, 100) AS g WHERE pg_sleep(0.05) IS NOT NULL"
        )
    else:
        conn.execute(
            "CREATE VIEW cb_slow_item AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
            "WHERE x < 300000000) SELECT x AS id, 'slow' AS name FROM r WHERE x % 100000000 = 0"
        )


def test_alias_breaker_half_open_stream_succeeds_on_its_first_rows(breaker_alias: str) -> None:
    _stream_tables(breaker_alias)
    cb = get_breakers()["db:default"]
    cb._transition(CircuitState.HALF_OPEN, "test: the cooldown passed")
    names = []
    for item in StreamedItem.objects.order_by("id").iterator(chunk_size=5):
        # the loop's own queries are not bounced while the trial stream is still open
        names.append(StreamedItem.objects.get(pk=item.pk).name)
    assert len(names) == 20
    assert cb.state is CircuitState.CLOSED


async def test_alias_breaker_half_open_async_stream(breaker_alias: str) -> None:
    await asyncio.to_thread(_stream_tables, breaker_alias)
    cb = get_breakers()["db:default"]
    cb._transition(CircuitState.HALF_OPEN, "test: the cooldown passed")
    stream = StreamedItem.objects.aiterator(chunk_size=3)
    names = [(await StreamedItem.objects.aget(pk=i.pk)).name async for i in stream]
    assert len(names) == 20
    assert cb.state is CircuitState.CLOSED


def test_alias_breaker_counts_failing_streams_and_bounces_them(breaker_alias: str) -> None:
    _stream_tables(breaker_alias)
    cb = get_breakers()["db:default"]
    for _ in range(3):
        with pytest.raises(dorm.BudgetExceeded):
            with dorm.budget(timeout_ms=50):
                list(SlowStreamedItem.objects.iterator())
    assert cb.state is CircuitState.OPEN
    with pytest.raises(dorm.CircuitOpenError, match="Circuit 'db:default' is OPEN"):
        next(StreamedItem.objects.iterator())
    cb.reset()
    assert len(list(StreamedItem.objects.iterator())) == 20
