"""atomic()/aatomic(): commit, rollback, savepoints (or no-op boundaries), on_commit."""

from __future__ import annotations

import pytest

import dorm
from dorm import transaction
from pytest_djanorm.suite.fixtures import require
from pytest_djanorm.suite.models import Author
from pytest_djanorm.suite.raw import in_other_thread
from pytest_djanorm.suite.requirements import Requirements

__all__ = ["TestSuiteLocking", "TestSuiteTransactions"]


class _Boom(Exception):
    pass


def _names() -> list[str]:
    return sorted(Author.objects.values_list("name", flat=True))


class TestSuiteTransactions:
    def test_commit(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "threads")
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="a")
            assert transaction.in_atomic_block(suite_db)
        assert in_other_thread(_names) == ["a"]

    def test_uncommitted_rows_are_invisible_elsewhere(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "threads")
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="pending")
            assert _names() == ["pending"]
            assert in_other_thread(_names) == []

    def test_rollback_on_error(self, suite_db: str) -> None:
        with pytest.raises(_Boom), transaction.atomic(using=suite_db):
            Author.objects.create(name="gone")
            raise _Boom
        assert _names() == []

    def test_nested_savepoint_rolls_back_alone(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "savepoints")
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="outer")
            with pytest.raises(_Boom), transaction.atomic(using=suite_db):
                Author.objects.create(name="inner")
                raise _Boom
            Author.objects.create(name="after")
        assert _names() == ["after", "outer"]

    def test_nested_savepoint_after_integrity_error(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "savepoints")
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="x")
            with pytest.raises(dorm.IntegrityError), transaction.atomic(using=suite_db):
                Author.objects.create(name="x")
            Author.objects.create(name="y")  # the transaction is still usable
        assert _names() == ["x", "y"]

    def test_without_savepoints_outer_block_rolls_back(self, suite_db: str, requirements: Requirements) -> None:
        if requirements.savepoints:
            pytest.skip("the backend has savepoints; this covers backends whose nested blocks are no-op boundaries")
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="outer")
            with pytest.raises(_Boom), transaction.atomic(using=suite_db):
                raise _Boom
        assert _names() == []

    def test_on_commit_runs_after_commit(self, suite_db: str) -> None:
        ran: list[str] = []
        with transaction.atomic(using=suite_db):
            Author.objects.create(name="a")
            transaction.on_commit(lambda: ran.append("done"), using=suite_db)
            assert ran == []
        assert ran == ["done"]

    def test_on_commit_dropped_on_rollback(self, suite_db: str) -> None:
        ran: list[str] = []
        with pytest.raises(_Boom), transaction.atomic(using=suite_db):
            transaction.on_commit(lambda: ran.append("never"), using=suite_db)
            raise _Boom
        assert ran == []

    def test_on_commit_outside_block_runs_now(self, suite_db: str) -> None:
        ran: list[int] = []
        transaction.on_commit(lambda: ran.append(1), using=suite_db)
        assert ran == [1]

    async def test_aatomic_commit_and_rollback(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "async_io")
        async with transaction.aatomic(using=suite_db):
            await Author.objects.acreate(name="kept")
        with pytest.raises(_Boom):
            async with transaction.aatomic(using=suite_db):
                await Author.objects.acreate(name="dropped")
                raise _Boom
        assert [a.name async for a in Author.objects.order_by("name")] == ["kept"]

    async def test_aatomic_nested_savepoint(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "async_io", "savepoints")
        async with transaction.aatomic(using=suite_db):
            await Author.objects.acreate(name="outer")
            with pytest.raises(_Boom):
                async with transaction.aatomic(using=suite_db):
                    await Author.objects.acreate(name="inner")
                    raise _Boom
        assert await Author.objects.acount() == 1


class TestSuiteLocking:
    def test_select_for_update(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "select_for_update")
        Author.objects.create(name="locked", age=1)
        with transaction.atomic(using=suite_db):
            (row,) = Author.objects.select_for_update().filter(name="locked")
            row.age = 2
            row.save()
        assert Author.objects.get(name="locked").age == 2

    def test_locked_row_refuses_nowait(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "select_for_update_nowait", "threads")
        Author.objects.create(name="held")

        def grab() -> int:
            with transaction.atomic(using=suite_db):
                return len(list(Author.objects.select_for_update(nowait=True).filter(name="held")))

        with transaction.atomic(using=suite_db):
            list(Author.objects.select_for_update().filter(name="held"))
            with pytest.raises(dorm.DatabaseError):
                in_other_thread(grab)
        assert in_other_thread(grab) == 1  # released at commit

    def test_transactional_ddl(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "transactional_ddl")
        conn = dorm.get_connection(suite_db)
        name = dorm.connections[suite_db].ops.quote_name("djanorm_suite_ddl_probe")
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        with pytest.raises(_Boom), transaction.atomic(using=suite_db):
            conn.execute(f"CREATE TABLE {name} (id integer)")
            raise _Boom
        with pytest.raises(dorm.DatabaseError):
            conn.execute(f"SELECT id FROM {name}")
