"""``dorm.transaction`` on SQLite: atomic / aatomic, savepoints, on_commit, and the concurrency rules."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

import dorm
from dorm.transaction import aatomic, atomic, get_rollback, in_atomic_block, on_commit, set_rollback


def add(name: str, alias: str = "default") -> None:
    dorm.get_connection(alias).execute("INSERT INTO item (name) VALUES (%s)", [name])


async def aadd(name: str, alias: str = "default") -> None:
    await dorm.get_connection(alias).aexecute("INSERT INTO item (name) VALUES (%s)", [name])


def names(alias: str = "default") -> list[str]:
    return [row[0] for row in dorm.get_connection(alias).execute("SELECT name FROM item ORDER BY id")]


async def anames(alias: str = "default") -> list[str]:
    return [row[0] for row in await dorm.get_connection(alias).aexecute("SELECT name FROM item ORDER BY id")]


def in_thread(func: Callable[[], Any]) -> Any:
    """Run ``func`` in a fresh thread (its own context, so no transaction) and return its result."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


# --------------------------------------------------------------------------
# sync atomic
# --------------------------------------------------------------------------


def test_atomic_commits_on_success_and_rolls_back_on_error(db: str) -> None:
    with atomic():
        add("kept")
        assert in_atomic_block()
    assert not in_atomic_block()
    with pytest.raises(ValueError, match="nope"):
        with atomic():
            add("dropped")
            assert names() == ["kept", "dropped"]
            raise ValueError("nope")
    assert names() == ["kept"]


def test_outside_atomic_every_statement_autocommits(db: str) -> None:
    add("a")
    # Another thread (another connection) sees it at once: it was committed.
    assert in_thread(names) == ["a"]
    raw = dorm.connections["default"].acquire().raw
    assert not raw.in_transaction


def test_atomic_as_decorator(db: str) -> None:
    @atomic
    def bare(fail: bool) -> str:
        add("bare")
        if fail:
            raise KeyError("x")
        return "done"

    @atomic(using="default")
    def called(name: str) -> None:
        add(name)
        assert in_atomic_block("default")

    with pytest.raises(KeyError):
        bare(True)
    assert bare(False) == "done"
    called("called")
    assert names() == ["bare", "called"]
    assert bare.__name__ == "bare"


def test_atomic_refuses_coroutine_functions() -> None:
    async def coro() -> None:
        pass

    with pytest.raises(TypeError, match="use @aatomic"):
        atomic(coro)


def test_using_picks_the_alias(two_dbs: None) -> None:
    with pytest.raises(RuntimeError):
        with atomic(using="other"):
            add("o", "other")
            add("d", "default")  # outside any block on default: autocommits
            assert in_atomic_block("other") and not in_atomic_block("default")
            raise RuntimeError
    assert names("other") == []
    assert names("default") == ["d"]
    with atomic(using="other"), atomic():
        add("both-o", "other")
        add("both-d")
    assert names("other") == ["both-o"]
    assert names("default") == ["d", "both-d"]


def test_durable_block_cannot_be_nested(db: str) -> None:
    with atomic(durable=True):
        add("durable")
    with atomic():
        with pytest.raises(dorm.TransactionManagementError, match="durable atomic block cannot be nested"):
            with atomic(durable=True):
                add("never")
    assert names() == ["durable"]


def test_nested_block_rollback_keeps_outer_work(db: str) -> None:
    with atomic():
        add("outer-1")
        with pytest.raises(ZeroDivisionError):
            with atomic():
                add("inner")
                raise ZeroDivisionError
        with atomic():
            add("inner-kept")
        add("outer-2")
    assert names() == ["outer-1", "inner-kept", "outer-2"]


def test_outer_rollback_discards_committed_savepoints(db: str) -> None:
    with pytest.raises(LookupError):
        with atomic():
            with atomic():
                add("inner")
            with atomic():
                with atomic():
                    add("deeper")
            raise LookupError
    assert names() == []


def test_nested_block_without_savepoint_marks_outer_for_rollback(db: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dorm.transaction"):
        with atomic():
            add("outer")
            try:
                with atomic(savepoint=False):
                    add("inner")
                    raise ValueError
            except ValueError:
                pass
            assert get_rollback()
    assert names() == []
    assert "marked it for rollback" in caplog.text


def test_set_rollback(db: str) -> None:
    with atomic():
        add("x")
        set_rollback(True)
        assert get_rollback()
    assert names() == []
    with atomic():
        add("y")
        set_rollback(True)
        set_rollback(False)
    assert names() == ["y"]
    with pytest.raises(dorm.TransactionManagementError, match="outside an atomic"):
        set_rollback(True)


def test_on_commit_runs_after_the_outer_commit(db: str) -> None:
    seen: list[Any] = []
    with atomic():
        add("a")
        on_commit(lambda: seen.append(("first", in_thread(names))))
        with atomic():
            on_commit(lambda: seen.append("nested"))
        assert seen == []
    # Runs after COMMIT: another connection sees the row.
    assert seen == [("first", ["a"]), "nested"]


def test_on_commit_dropped_on_rollback_and_savepoint_rollback(db: str) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError):
        with atomic():
            on_commit(lambda: seen.append("outer-rolled-back"))
            raise RuntimeError
    with atomic():
        on_commit(lambda: seen.append("kept"))
        with pytest.raises(RuntimeError):
            with atomic():
                on_commit(lambda: seen.append("savepoint-rolled-back"))
                raise RuntimeError
    assert seen == ["kept"]


def test_on_commit_outside_a_block_runs_now_and_failures_are_logged(db: str, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    on_commit(lambda: seen.append("now"))
    assert seen == ["now"]

    def broken() -> None:
        raise OSError("mail server down")

    with caplog.at_level(logging.ERROR, logger="dorm.transaction"):
        with atomic():
            on_commit(broken)
            on_commit(lambda: seen.append("after-broken"))
    assert seen == ["now", "after-broken"]
    assert "mail server down" in caplog.text


def test_sync_atomic_inside_a_running_loop_is_refused(db: str) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="this event loop is already running") as info:
            with atomic():
                pass
        assert "aatomic" in str(info.value)

    asyncio.run(main())


def test_uncommitted_rows_are_invisible_to_other_threads(db: str) -> None:
    if db == "file":
        # WAL: a reader in another thread reads the last committed state at once.
        with atomic():
            add("pending")
            assert names() == ["pending"]
            assert in_thread(names) == []
        assert in_thread(names) == ["pending"]
        return
    # In-memory (rollback journal): a reader waits for the writer's commit, then sees it.
    seen: list[list[str]] = []
    with atomic():
        add("pending")
        reader = threading.Thread(target=lambda: seen.append(names()))
        reader.start()
        reader.join(0.2)
        assert reader.is_alive() and seen == []
    reader.join(5)
    assert seen == [["pending"]]


def test_writers_in_other_threads_queue_behind_a_transaction(db: str) -> None:
    """BEGIN IMMEDIATE: a second writer waits for the lock instead of failing."""
    started = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with atomic():
            add("first")
            started.set()
            release.wait(5)
            order.append("first-commits")

    def second() -> None:
        started.wait(5)
        with atomic():
            order.append("second-begins")
            add("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    started.wait(5)
    threading.Timer(0.2, release.set).start()
    for thread in threads:
        thread.join()
    assert order == ["first-commits", "second-begins"]
    assert names() == ["first", "second"]


def test_transactions_are_per_thread(db: str) -> None:
    """A thread started inside a block does not join it: its writes autocommit."""
    with pytest.raises(RuntimeError):
        with atomic():
            add("rolled-back")
            # The other thread must not wait for our write lock forever: use a read.
            assert in_thread(lambda: in_atomic_block()) is False
            raise RuntimeError
    assert names() == []


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


async def test_aatomic_commits_and_rolls_back(db: str) -> None:
    async with aatomic():
        await aadd("kept")
        assert in_atomic_block()
    with pytest.raises(ValueError):
        async with aatomic():
            await aadd("dropped")
            assert await anames() == ["kept", "dropped"]
            raise ValueError
    assert await anames() == ["kept"]
    assert dorm.pool_stats()["in_use"] == 0


async def test_aatomic_as_decorator_and_using(two_dbs: None) -> None:
    @aatomic
    async def bare() -> str:
        await aadd("bare")
        return "ok"

    @aatomic(using="other")
    async def failing() -> None:
        await aadd("o", "other")
        raise KeyError

    assert await bare() == "ok"
    with pytest.raises(KeyError):
        await failing()
    assert await anames() == ["bare"]
    assert await anames("other") == []


async def test_aatomic_durable_and_nested_savepoints(db: str) -> None:
    async with aatomic(durable=True):
        await aadd("durable")
        with pytest.raises(dorm.TransactionManagementError, match="durable"):
            async with aatomic(durable=True):
                pass
        with pytest.raises(ZeroDivisionError):
            async with aatomic():
                await aadd("inner")
                raise ZeroDivisionError
        async with aatomic():
            await aadd("inner-kept")
    assert await anames() == ["durable", "inner-kept"]


async def test_aatomic_on_commit_and_set_rollback(db: str) -> None:
    seen: list[str] = []

    async def async_callback() -> None:
        seen.append("awaited")

    async with aatomic():
        on_commit(lambda: seen.append("sync"))
        on_commit(async_callback)
        async with aatomic():
            on_commit(lambda: seen.append("nested"))
        with pytest.raises(RuntimeError):
            async with aatomic():
                on_commit(lambda: seen.append("savepoint-rolled-back"))
                raise RuntimeError
        assert seen == []
    assert seen == ["sync", "awaited", "nested"]
    async with aatomic():
        await aadd("x")
        on_commit(lambda: seen.append("rolled-back"))
        set_rollback(True)
    assert await anames() == []
    assert seen == ["sync", "awaited", "nested"]


async def test_gathered_tasks_commit_together(db: str) -> None:
    async def worker(prefix: str) -> None:
        for i in range(5):
            await aadd(f"{prefix}{i}")

    async with aatomic():
        await asyncio.gather(worker("a"), worker("b"), worker("c"))
        assert len(await anames()) == 15
        if db == "file":  # (in memory, a reader would wait for the commit instead)
            assert await asyncio.to_thread(in_thread, names) == []
    assert sorted(await anames()) == sorted(f"{p}{i}" for p in "abc" for i in range(5))


async def test_gathered_tasks_roll_back_together(db: str) -> None:
    async def worker(prefix: str) -> None:
        for i in range(5):
            await aadd(f"{prefix}{i}")

    with pytest.raises(RuntimeError):
        async with aatomic():
            await asyncio.gather(worker("a"), worker("b"))
            raise RuntimeError
    assert await anames() == []
    assert dorm.pool_stats()["in_use"] == 0


async def test_gathered_task_error_rolls_back_the_whole_block(db: str) -> None:
    async def good() -> None:
        await aadd("good")

    async def bad() -> None:
        await aadd("good")  # duplicate name: IntegrityError

    with pytest.raises(dorm.IntegrityError):
        async with aatomic():
            await asyncio.gather(good(), bad())
    assert await anames() == []


async def test_nested_block_in_a_gathered_task_is_not_interleaved(db: str) -> None:
    """A task inside a nested block holds the connection for the whole block, so a
    sibling's statement can never land inside the savepoint that gets rolled back."""
    inside = asyncio.Event()

    async def rolls_back() -> None:
        with pytest.raises(RuntimeError):
            async with aatomic():
                await aadd("in-savepoint-1")
                inside.set()
                await asyncio.sleep(0.05)  # the sibling tries to write meanwhile
                await aadd("in-savepoint-2")
                raise RuntimeError

    async def sibling() -> None:
        await inside.wait()
        await aadd("sibling")

    async with aatomic():
        await asyncio.gather(rolls_back(), sibling())
    assert await anames() == ["sibling"]


async def test_gather_inside_a_nested_block(db: str) -> None:
    async def worker(name: str) -> None:
        await aadd(name)

    async with aatomic():
        await aadd("outer")
        async with aatomic():
            await asyncio.wait_for(asyncio.gather(worker("a"), worker("b")), 5)
        with pytest.raises(RuntimeError):
            async with aatomic():
                await asyncio.wait_for(asyncio.gather(worker("c"), worker("d")), 5)
                raise RuntimeError
    assert sorted(await anames()) == ["a", "b", "outer"]


async def test_task_outliving_the_block_never_reuses_its_transaction(db: str) -> None:
    block_done = asyncio.Event()

    async def late_writer() -> None:
        await block_done.wait()
        assert not in_atomic_block()
        await aadd("late")

    with pytest.raises(RuntimeError):
        async with aatomic():
            await aadd("in-block")
            task = asyncio.create_task(late_writer())
            raise RuntimeError
    block_done.set()
    await task
    # The block rolled back; the late write autocommitted on its own.
    assert await anames() == ["late"]
    assert dorm.pool_stats()["in_use"] == 0


async def test_concurrent_tasks_have_their_own_transactions(db: str) -> None:
    if db == "memory":
        pytest.skip("in-memory readers wait for the writer's commit; this test reads meanwhile")
    written = asyncio.Event()
    checked = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with aatomic():
                await aadd("uncommitted")
                written.set()
                await checked.wait()
                raise RuntimeError

    async def reader() -> list[str]:
        await written.wait()
        assert not in_atomic_block()
        try:
            return await anames()
        finally:
            checked.set()

    _, seen = await asyncio.gather(writer(), reader())
    assert seen == []
    assert await anames() == []


async def test_sync_statement_in_async_block_is_refused(db: str) -> None:
    async with aatomic():
        with pytest.raises(RuntimeError, match="this event loop is already running"):
            add("sync")


def test_other_context_in_the_same_thread_does_not_join_the_transaction(db: str) -> None:
    """A transaction belongs to its context: code run in a fresh context (same thread)
    gets another connection and reads the committed state."""
    import contextvars

    if db == "memory":
        pytest.skip("in-memory readers wait for the writer's commit")
    with atomic():
        add("pending")
        assert contextvars.Context().run(names) == []
        assert names() == ["pending"]
    assert contextvars.Context().run(names) == ["pending"]


async def test_task_outliving_a_nested_block_joins_the_enclosing_block(db: str) -> None:
    nested_done = asyncio.Event()

    async def late() -> None:
        await nested_done.wait()
        assert in_atomic_block()
        await aadd("late")

    with pytest.raises(RuntimeError):
        async with aatomic():
            async with aatomic():
                task = asyncio.create_task(late())
            nested_done.set()
            await asyncio.wait_for(task, 5)
            assert await anames() == ["late"]
            raise RuntimeError
    assert await anames() == []  # it was part of the outer transaction
