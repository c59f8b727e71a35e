"""Budgets on real databases: rows, statement timeouts, query counts, nesting, context isolation."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

import dorm
from dorm import plugins
from dorm_resilience import Budget, budget
from dorm_resilience.budget import current_budgets

ALL_ROWS = "SELECT id, name FROM item ORDER BY id"


def _wrapper_registered() -> bool:
    return any(getattr(w, "__qualname__", "").startswith("_BudgetHook") for w in plugins.kernel.statement_wrappers())


# -- the seed entry: BudgetExceeded: Query returned N rows, exceeds active budget -------------


def test_rows_over_budget_raise_with_the_seed_message_and_fix(backend: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.BudgetExceeded) as info:
        with dorm.budget(max_rows=5):
            conn.execute(ALL_ROWS)
    message = str(info.value)
    assert message.startswith("Query returned 20 rows, exceeds active budget (max_rows=5)")
    assert "raise max_rows or tighten the filter()/limit()" in message
    assert isinstance(info.value, dorm.OperationalError)


def test_rows_fix_tightening_the_query_stays_within_budget(backend: str) -> None:
    conn = dorm.get_connection()
    with dorm.budget(max_rows=5):
        rows = conn.execute("SELECT id FROM item WHERE id <= %s ORDER BY id LIMIT 5", [10])
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]


def test_rows_fix_raising_max_rows(backend: str) -> None:
    with dorm.budget(max_rows=20):
        assert len(dorm.get_connection().execute(ALL_ROWS)) == 20


def test_rows_exactly_at_the_limit_pass(backend: str) -> None:
    with dorm.budget(max_rows=20):
        dorm.get_connection().execute(ALL_ROWS)
    with pytest.raises(dorm.BudgetExceeded):
        with dorm.budget(max_rows=19):
            dorm.get_connection().execute(ALL_ROWS)


async def test_rows_async(backend: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.BudgetExceeded, match="Query returned 20 rows"):
        async with dorm.budget(max_rows=3):
            await conn.aexecute(ALL_ROWS)
    async with dorm.budget(max_rows=3):
        assert len(await conn.aexecute("SELECT id FROM item WHERE id < %s", [4])) == 3


# -- the seed entry: BudgetExceeded / OperationalError: statement timeout ---------------------


def test_timeout_cancels_the_statement_in_the_database(backend: str, slow_sql: str) -> None:
    conn = dorm.get_connection()
    started = time.perf_counter()
    with pytest.raises(dorm.BudgetExceeded) as info:
        with dorm.budget(timeout_ms=100):
            conn.execute(slow_sql)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"the statement was not cancelled in time ({elapsed:.2f} s)"
    error = info.value
    assert isinstance(error, dorm.OperationalError)
    assert isinstance(error.__cause__, dorm.QueryCanceledError)
    message = str(error)
    if backend == "postgres":
        assert "canceling statement due to statement timeout" in message
    else:
        assert "timeout of 100 ms" in message
    assert "(exceeds active budget timeout_ms=100)" in message
    assert "EXPLAIN ANALYZE before raising the budget" in message
    # the connection (pool) stays usable afterwards, with and without a budget
    assert conn.execute("SELECT count(*) FROM item") == [(20,)]
    with dorm.budget(timeout_ms=5000):
        assert conn.execute("SELECT 1") == [(1,)]


async def test_timeout_async(backend: str, slow_sql: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.BudgetExceeded, match="exceeds active budget timeout_ms=100"):
        async with dorm.budget(timeout_ms=100):
            await conn.aexecute(slow_sql)
    assert await conn.aexecute("SELECT count(*) FROM item") == [(20,)]


def test_timeout_fix_a_fast_query_passes(backend: str) -> None:
    with dorm.budget(timeout_ms=2000):
        assert dorm.get_connection().execute("SELECT count(*) FROM item WHERE id > %s", [10]) == [(10,)]


def test_timeout_inside_a_transaction_leaves_the_outer_code_in_charge(backend: str, slow_sql: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.BudgetExceeded):
        with dorm.transaction.atomic():
            conn.execute("INSERT INTO item (id, name) VALUES (%s, %s)", [100, "tx"])
            with dorm.budget(timeout_ms=100):
                conn.execute(slow_sql)
    # the block rolled back and the database is usable
    assert conn.execute("SELECT count(*) FROM item WHERE id = %s", [100]) == [(0,)]


# -- max_queries ---------------------------------------------------------------------------------


def test_max_queries_refuses_the_statement_over_the_count(backend: str) -> None:
    conn = dorm.get_connection()
    with pytest.raises(dorm.BudgetExceeded) as info:
        with dorm.budget(max_queries=3):
            for i in range(1, 6):
                conn.execute("UPDATE item SET name = %s WHERE id = %s", [f"renamed {i}", i])
    assert "Block ran 4 queries, exceeds active budget (max_queries=3)" in str(info.value)
    # the 4th statement was refused before it was sent
    renamed = conn.execute("SELECT id FROM item WHERE name LIKE %s ORDER BY id", ["renamed%"])
    assert [r[0] for r in renamed] == [1, 2, 3]


# -- nesting -------------------------------------------------------------------------------------


def test_nested_budgets_the_tighter_limit_wins(backend: str) -> None:
    conn = dorm.get_connection()
    with dorm.budget(max_rows=10):
        with pytest.raises(dorm.BudgetExceeded, match=r"max_rows=10\)"):
            with dorm.budget(max_rows=100):  # a looser inner budget does not lift the outer one
                conn.execute("SELECT id FROM item WHERE id <= %s", [15])
        with pytest.raises(dorm.BudgetExceeded, match=r"max_rows=2\)"):
            with dorm.budget(max_rows=2):
                conn.execute("SELECT id FROM item WHERE id <= %s", [5])
        assert len(conn.execute("SELECT id FROM item WHERE id <= %s", [8])) == 8
    assert current_budgets() == ()


def test_nested_timeout_the_tighter_wins(backend: str, slow_sql: str) -> None:
    started = time.perf_counter()
    with pytest.raises(dorm.BudgetExceeded, match="timeout_ms=100"):
        with dorm.budget(timeout_ms=100):
            with dorm.budget(timeout_ms=60_000):
                dorm.get_connection().execute(slow_sql)
    assert time.perf_counter() - started < 3.0


def test_nested_max_queries_counts_per_block() -> None:
    with budget(max_queries=10):
        assert current_budgets()[0]["max_queries"] == 10
        with budget(max_queries=1):
            assert [b["max_queries"] for b in current_budgets()] == [10, 1]
    assert current_budgets() == ()


def test_nested_query_counts(backend: str) -> None:
    conn = dorm.get_connection()
    with dorm.budget(max_queries=4):
        conn.execute("SELECT 1")
        conn.execute("SELECT 1")
        with pytest.raises(dorm.BudgetExceeded, match=r"Block ran 5 queries.*max_queries=4"):
            with dorm.budget(max_queries=10):
                conn.execute("SELECT 1")
                conn.execute("SELECT 1")
                conn.execute("SELECT 1")  # the outer block's 5th


# -- warn mode -------------------------------------------------------------------------------------


def test_warn_mode_logs_instead_of_raising(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    conn = dorm.get_connection()
    with caplog.at_level(logging.WARNING, logger="dorm.resilience"):
        with dorm.budget(max_rows=5, max_queries=1, on_exceed="warn"):
            rows = conn.execute(ALL_ROWS)
            conn.execute("SELECT 1")
    assert len(rows) == 20
    messages = [r.getMessage() for r in caplog.records if r.name == "dorm.resilience"]
    assert any(m.startswith("Query returned 20 rows, exceeds active budget (max_rows=5)") for m in messages)
    assert any("Block ran 2 queries" in m for m in messages)
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.name == "dorm.resilience")


def test_warn_mode_timeout_does_not_cancel(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    sql = (
        "SELECT pg_sleep(0.2)"
        if backend == "postgres"
        else (
            "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3000000) SELECT count(*) FROM r"
        )
    )
    with caplog.at_level(logging.WARNING, logger="dorm.resilience"):
        with dorm.budget(timeout_ms=1, on_exceed="warn"):
            rows = dorm.get_connection().execute(sql)
    assert len(rows) == 1  # it ran to completion
    assert any("exceeds active budget timeout_ms=1" in r.getMessage() for r in caplog.records)


def test_enforced_outer_budget_still_raises_inside_a_warn_block(backend: str) -> None:
    with pytest.raises(dorm.BudgetExceeded, match=r"max_rows=5\)"):
        with dorm.budget(max_rows=5):
            with dorm.budget(max_rows=1, on_exceed="warn"):
                dorm.get_connection().execute(ALL_ROWS)


# -- decorator, reuse, validation ------------------------------------------------------------------


def test_decorator_sync(backend: str) -> None:
    @dorm.budget(max_rows=3)
    def load(limit: int) -> list[tuple[object, ...]]:
        return dorm.get_connection().execute("SELECT id FROM item ORDER BY id LIMIT %s", [limit])

    assert len(load(3)) == 3
    with pytest.raises(dorm.BudgetExceeded, match="Query returned 4 rows"):
        load(4)
    assert load.__name__ == "load"
    assert current_budgets() == ()


async def test_decorator_async(backend: str) -> None:
    @dorm.budget(max_rows=3)
    async def load(limit: int) -> list[tuple[object, ...]]:
        return await dorm.get_connection().aexecute("SELECT id FROM item ORDER BY id LIMIT %s", [limit])

    assert len(await load(2)) == 2
    with pytest.raises(dorm.BudgetExceeded, match="Query returned 5 rows"):
        await load(5)


def test_budget_object_is_reusable(backend: str) -> None:
    small = dorm.budget(max_rows=2)
    assert isinstance(small, Budget)
    for _ in range(2):
        with pytest.raises(dorm.BudgetExceeded):
            with small:
                dorm.get_connection().execute(ALL_ROWS)
    assert current_budgets() == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"max_rows": -1}, {"timeout_ms": 0}, {"max_queries": 1.5}, {"on_exceed": "ignore"}, {"max_rows": True}],
)
def test_bad_arguments_say_what_to_use(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="budget"):
        dorm.budget(**kwargs)  # type: ignore[arg-type]


# -- registration: only an active budget pays --------------------------------------------------


def test_wrapper_is_registered_only_while_a_budget_is_active(backend: str) -> None:
    assert not _wrapper_registered()
    with dorm.budget(max_rows=100):
        assert _wrapper_registered()
        with dorm.budget(max_rows=10):
            assert _wrapper_registered()
        assert _wrapper_registered()
    assert not _wrapper_registered()


def test_wrapper_is_unregistered_when_the_block_raises(backend: str) -> None:
    with pytest.raises(ZeroDivisionError):
        with dorm.budget(max_rows=1):
            1 / 0  # noqa: B018
    assert not _wrapper_registered()


# -- context isolation ------------------------------------------------------------------------------


async def test_tasks_under_gather_each_see_their_own_budget(backend: str) -> None:
    conn = dorm.get_connection()

    async def limited() -> str:
        async with dorm.budget(max_rows=3):
            await asyncio.sleep(0.01)  # let the other tasks interleave
            try:
                await conn.aexecute(ALL_ROWS)
            except dorm.BudgetExceeded:
                return "refused"
            return "ran"

    async def unlimited() -> str:
        await asyncio.sleep(0.005)
        assert current_budgets() == ()
        rows = await conn.aexecute(ALL_ROWS)
        await asyncio.sleep(0.01)
        rows += await conn.aexecute(ALL_ROWS)
        return f"ran {len(rows)}"

    results = await asyncio.gather(limited(), unlimited(), limited(), unlimited())
    assert results == ["refused", "ran 40", "refused", "ran 40"]
    assert current_budgets() == ()


def test_threads_each_see_their_own_budget(backend: str) -> None:
    results: dict[str, str] = {}
    barrier = threading.Barrier(4)

    def work(name: str, limit: int | None) -> None:
        conn = dorm.get_connection()
        try:
            if limit is None:
                barrier.wait(timeout=5)
                rows = conn.execute(ALL_ROWS)
                results[name] = f"ran {len(rows)}"
                return
            with dorm.budget(max_rows=limit):
                barrier.wait(timeout=5)
                rows = conn.execute(ALL_ROWS)
                results[name] = f"ran {len(rows)}"
        except dorm.BudgetExceeded:
            results[name] = "refused"

    threads = [
        threading.Thread(target=work, args=(name, limit))
        for name, limit in (("a", 5), ("b", None), ("c", 50), ("d", None))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"a": "refused", "b": "ran 20", "c": "ran 20", "d": "ran 20"}
    assert not _wrapper_registered()


# -- streamed statements: qs.iterator() / aiterator() ---------------------------------------------


class Item(dorm.Model):
    """The fixture's ``item`` table (20 rows)."""

    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "resilience_budget"
        db_table = "item"
        managed = False


class SlowItem(dorm.Model):
    """A view that keeps the database busy for seconds (see ``slow_view``)."""

    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "resilience_budget"
        db_table = "slow_item"
        managed = False


@pytest.fixture
def slow_view(backend: str) -> str:
    """``slow_item``: PostgreSQL sleeps 50 ms per row (100 rows); SQLite counts to 300 million first."""
    conn = dorm.get_connection()
    conn.execute("DROP VIEW IF EXISTS slow_item")
    if backend == "postgres":
        conn.execute(
            "CREATE VIEW slow_item AS SELECT g AS id, 'slow ' || g AS name "
            "FROM generate_series(1, 100) AS g WHERE pg_sleep(0.05) IS NOT NULL"
        )
    else:
        conn.execute(
            "CREATE VIEW slow_item AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
            "WHERE x < 300000000) SELECT x AS id, 'slow' AS name FROM r WHERE x % 100000000 = 0"
        )
    return backend


def _in_use() -> int:
    value = dorm.pool_stats("default").get("in_use", 0)
    return value if isinstance(value, int) else 0


def test_rows_over_budget_on_a_streamed_queryset(backend: str) -> None:
    with pytest.raises(dorm.BudgetExceeded) as info:
        with dorm.budget(max_rows=10):
            list(Item.objects.iterator())
    message = str(info.value)
    assert message.startswith("Query returned 20 rows, exceeds active budget (max_rows=10)")
    assert "raise max_rows or tighten the filter()/limit()" in message
    assert "streamed (iterator())" in message
    assert _in_use() == 0  # the connection went back
    with dorm.budget(max_rows=10):  # the seed's fix: tighten the filter / limit
        assert len(list(Item.objects.filter(id__lte=10).iterator())) == 10
    with dorm.budget(max_rows=20):
        assert len(list(Item.objects.iterator())) == 20


def test_streamed_rows_stop_at_the_first_chunk_past_the_limit(backend: str) -> None:
    got: list[int] = []
    with pytest.raises(dorm.BudgetExceeded, match=r"Query returned 12 rows, exceeds active budget \(max_rows=10\)"):
        with dorm.budget(max_rows=10):
            for item in Item.objects.order_by("id").iterator(chunk_size=4):
                got.append(item.pk)
    assert got == list(range(1, 9))  # the third chunk never reached the loop
    assert _in_use() == 0
    assert Item.objects.count() == 20


async def test_rows_over_budget_on_an_async_streamed_queryset(backend: str) -> None:
    with pytest.raises(dorm.BudgetExceeded, match=r"Query returned 6 rows, exceeds active budget \(max_rows=5\)"):
        async with dorm.budget(max_rows=5):
            [i async for i in Item.objects.order_by("id").aiterator(chunk_size=3)]
    async with dorm.budget(max_rows=5):
        assert len([i async for i in Item.objects.filter(id__lte=5).aiterator(chunk_size=2)]) == 5


def test_streamed_rows_in_warn_mode_are_logged_once(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dorm.resilience"):
        with dorm.budget(max_rows=5, on_exceed="warn"):
            assert len(list(Item.objects.iterator(chunk_size=4))) == 20
    messages = [r.getMessage() for r in caplog.records if r.name == "dorm.resilience"]
    assert len(messages) == 1
    assert messages[0].startswith("Query returned 20 rows, exceeds active budget (max_rows=5)")


def test_streamed_queries_count_for_max_queries(backend: str) -> None:
    with dorm.budget(max_queries=2):
        list(Item.objects.iterator())
        list(Item.objects.iterator(chunk_size=3))
        with pytest.raises(dorm.BudgetExceeded, match=r"Block ran 3 queries, exceeds active budget \(max_queries=2\)"):
            list(Item.objects.iterator())


def test_timeout_cancels_a_slow_streamed_query(slow_view: str) -> None:
    started = time.perf_counter()
    with pytest.raises(dorm.BudgetExceeded) as info:
        with dorm.budget(timeout_ms=100):
            list(SlowItem.objects.iterator())
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"the streamed statement was not cancelled in time ({elapsed:.2f} s)"
    assert isinstance(info.value.__cause__, dorm.QueryCanceledError)
    message = str(info.value)
    assert "(exceeds active budget timeout_ms=100)" in message
    if slow_view == "postgres":
        assert "canceling statement due to statement timeout" in message
    assert _in_use() == 0
    assert Item.objects.count() == 20
    assert dorm.get_connection().execute("SELECT 1") == [(1,)]


async def test_timeout_cancels_a_slow_async_streamed_query(slow_view: str) -> None:
    started = time.perf_counter()
    with pytest.raises(dorm.BudgetExceeded, match="exceeds active budget timeout_ms=100"):
        async with dorm.budget(timeout_ms=100):
            [i async for i in SlowItem.objects.aiterator()]
    assert time.perf_counter() - started < 3.0
    assert await Item.objects.acount() == 20


@pytest.mark.postgres
def test_timeout_bounds_the_whole_stream_not_only_each_fetch(slow_view: str) -> None:
    if slow_view != "postgres":
        pytest.skip("a server-side cursor fetches chunk by chunk on PostgreSQL only")
    got: list[int] = []
    with pytest.raises(dorm.BudgetExceeded, match=r"longer than its timeout of 300 ms") as info:
        with dorm.budget(timeout_ms=300):
            # each fetch of 2 rows takes about 100 ms (under the server's 300 ms), their sum does not
            # (no ORDER BY: sorting would compute every row before the first fetch returns)
            for item in SlowItem.objects.iterator(chunk_size=2):
                got.append(item.pk)
    assert not isinstance(info.value.__cause__, dorm.QueryCanceledError)  # stopped by the budget, between fetches
    assert 2 <= len(got) <= 6
    assert _in_use() == 0
