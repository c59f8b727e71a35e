"""The express lane (``dorm.models.express``): same answers as the general path, taken only when safe."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm.models import express
from dorm.sql.compiler import compile_stats

from .models import Author, Book, Publisher, Tag

pytestmark = pytest.mark.usefixtures("alias")


@pytest.fixture
def people(create_tables: Callable[..., None]) -> list[Author]:
    create_tables(Publisher, Author, Tag, Book)
    pub = Publisher.objects.create(name="P")
    authors = [
        Author.objects.create(name="ann", age=30, publisher=pub),
        Author.objects.create(name="bob", age=30),
        Author.objects.create(name="cy", age=None),
    ]
    for i in range(3):
        Book.objects.create(title=f"b{i}", pages=10 * (i + 1), author=authors[0])
    return authors


@pytest.fixture
def spy_express(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the express-lane calls that answered (did not return MISS)."""
    taken: list[str] = []
    for name in (
        "get",
        "count",
        "update",
        "exists",
        "first",
        "fetch",
        "aget",
        "acount",
        "aupdate",
        "aexists",
        "afirst",
        "afetch",
    ):
        original = getattr(express, name)

        if name.startswith("a"):

            async def wrapped_async(*args: Any, _f: Any = original, _n: str = name) -> Any:
                result = await _f(*args)
                if result is not express.MISS:
                    taken.append(_n)
                return result

            monkeypatch.setattr(express, name, wrapped_async)
        else:

            def wrapped(*args: Any, _f: Any = original, _n: str = name) -> Any:
                result = _f(*args)
                if result is not express.MISS:
                    taken.append(_n)
                return result

            monkeypatch.setattr(express, name, wrapped)
    return taken


def test_get_count_update_answer_like_the_general_path(people: list[Author], spy_express: list[str]) -> None:
    ann = people[0]
    got = Author.objects.get(pk=ann.pk)
    assert (got.pk, got.name, got.age, got.publisher_id) == (ann.pk, "ann", 30, ann.publisher_id)
    assert got._state.adding is False and got._state.db == ann._state.db
    assert Author.objects.get(name="bob", age=30).name == "bob"
    assert Book.objects.filter(author_id=ann.pk).count() == 3
    assert Book.objects.filter(author=ann.pk, pages__gte=20).count() == 2
    assert Author.objects.filter(pk=ann.pk).update(age=31) == 1
    assert Author.objects.filter(age=30).update(age=None, name="x") == 1  # only bob is still 30
    assert spy_express == ["get", "get", "count", "count", "update", "update"]
    # the general path agrees row for row
    assert sorted(Author.objects.values_list("name", "age")) == sorted([("ann", 31), ("x", None), ("cy", None)])


def test_exists_first_and_iteration(people: list[Author], spy_express: list[str]) -> None:
    ann, bob, cy = people
    assert Author.objects.filter(age=30).exists() is True
    assert Author.objects.filter(name="nobody").exists() is False
    assert Author.objects.all().exists() is True
    assert Author.objects.filter(age=30).first() == ann  # no Meta.ordering: by pk
    assert Author.objects.filter(name="nobody").first() is None
    assert [a.name for a in Author.objects.filter(age=30)] == ["ann", "bob"]
    everyone = Author.objects.all()
    assert len(everyone) == 3 and everyone[2].name == "cy"  # one query, cached like any queryset
    titles = [b.title for b in Book.objects.filter(author_id=ann.pk, pages__gte=20)]
    assert sorted(titles) == ["b1", "b2"]
    assert spy_express == ["exists", "exists", "exists", "first", "first", "fetch", "fetch", "fetch"]
    # loaded instances are complete: relations, saving, state
    book = Book.objects.filter(title="b0").first()
    assert book is not None and book.author.name == "ann" and book._state.adding is False
    book.pages = 999
    book.save()
    assert Book.objects.get(pk=book.pk).pages == 999


def test_order_by_and_one_slice(people: list[Author], spy_express: list[str]) -> None:
    assert [a.name for a in Author.objects.order_by("-name")] == ["cy", "bob", "ann"]
    assert [a.name for a in Author.objects.filter(age=30).order_by("-name")[:1]] == ["bob"]
    assert [a.name for a in Author.objects.order_by("name")[1:]] == ["bob", "cy"]
    assert [a.name for a in Author.objects.order_by("name")[1:2]] == ["bob"]
    assert [a.name for a in Author.objects.filter(age=30).order_by("age", "-name")] == ["bob", "ann"]
    assert list(Author.objects.order_by("name")[5:]) == []
    assert spy_express == ["fetch"] * 6
    del spy_express[:]
    # what stays on the general path, with the same answers
    page = Author.objects.order_by("name")[:2]
    assert page.count() == 2 and page.exists() and page.first().name == "ann"  # type: ignore[union-attr]
    assert [a.name for a in Author.objects.order_by("name")[1:][:1]] == ["bob"]  # a second slice
    assert [a.name for a in Author.objects.order_by(dorm.F("name").desc())] == ["cy", "bob", "ann"]
    assert spy_express == []
    with pytest.raises(TypeError, match="once it has been sliced"):
        Author.objects.order_by("name")[:1].filter(age=30)
    with pytest.raises(TypeError, match="once it has been sliced"):
        Author.objects.all()[:1].order_by("name")
    with pytest.raises(dorm.FieldError):
        Author.objects.order_by("naem")


async def test_order_by_and_slice_async(people: list[Author], spy_express: list[str]) -> None:
    assert [a.name for a in await Author.objects.order_by("-name")[:2]] == ["cy", "bob"]
    assert [a.name async for a in Author.objects.filter(age=30).order_by("name")[1:]] == ["bob"]
    assert spy_express == ["afetch", "afetch"]


def test_an_evaluated_queryset_counts_from_its_cache(people: list[Author], spy_express: list[str]) -> None:
    qs = Author.objects.filter(age=30)
    assert len(qs) == 2
    Author.objects.create(name="dan", age=30)  # not seen: the queryset was evaluated already
    assert qs.count() == 2 and qs.exists()
    assert spy_express == ["fetch"]
    assert Author.objects.filter(age=30).count() == 3


def test_meta_ordering_is_kept(create_tables: Callable[..., None], spy_express: list[str]) -> None:
    class Ranked(dorm.Model):
        name = dorm.CharField(max_length=10)
        rank = dorm.IntegerField()

        class Meta:
            app_label = "queries_express"
            ordering = ["-rank", "name"]

    create_tables(Ranked)
    for name, rank in [("a", 1), ("b", 3), ("c", 3), ("d", 2)]:
        Ranked.objects.create(name=name, rank=rank)
    assert [r.name for r in Ranked.objects.all()] == ["b", "c", "d", "a"]
    assert Ranked.objects.first().name == "b"  # type: ignore[union-attr]
    assert Ranked.objects.filter(rank__lt=3).first().name == "d"  # type: ignore[union-attr]
    assert spy_express == ["fetch", "first", "first"]


def test_errors_are_the_general_path_errors(people: list[Author], spy_express: list[str]) -> None:
    with pytest.raises(Author.DoesNotExist, match="^Author matching query does not exist.$"):
        Author.objects.get(pk=10_000)
    with pytest.raises(
        Author.MultipleObjectsReturned, match="^get\\(\\) returned more than one Author -- it returned 2!$"
    ):
        Author.objects.get(age=30)
    with pytest.raises(dorm.FieldError):
        Author.objects.get(naem="ann")
    with pytest.raises(dorm.ValidationError):
        Author.objects.get(pk="not a number")


def test_none_and_non_scalars_take_the_general_path(people: list[Author], spy_express: list[str]) -> None:
    assert Author.objects.get(age=None).name == "cy"  # IS NULL, never "= NULL"
    # the same keyword with a value after None, and None after a value: both right
    assert Author.objects.filter(age=30).count() == 2
    assert Author.objects.filter(age=None).count() == 1
    assert Author.objects.get(publisher=people[0].publisher).name == "ann"  # an instance
    assert Author.objects.filter(pk__in=[people[0].pk, people[1].pk]).count() == 2
    assert Author.objects.filter(publisher__name="P").count() == 1  # a join
    assert spy_express == ["count"]


def test_lookups_with_their_own_parameters(people: list[Author], spy_express: list[str]) -> None:
    assert Author.objects.filter(name__startswith="a").count() == 1
    assert Author.objects.filter(name__icontains="O").count() == 1
    assert Author.objects.get(name__iexact="ANN").pk == people[0].pk
    assert spy_express == ["count", "count", "get"]


def test_many_calls_compile_the_shape_once(people: list[Author]) -> None:
    Author.objects.get(pk=people[0].pk)
    before = compile_stats["compiles"]
    for author in people * 5:
        assert Author.objects.get(pk=author.pk).name == author.name
    assert compile_stats["compiles"] == before


def test_inside_atomic_reads_and_writes_join_the_transaction(people: list[Author], alias: str) -> None:
    with pytest.raises(RuntimeError), dorm.transaction.atomic(using=alias):
        Author.objects.filter(pk=people[0].pk).update(age=99)
        assert Author.objects.get(pk=people[0].pk).age == 99
        assert Author.objects.filter(age=99).count() == 1
        raise RuntimeError("roll back")
    assert Author.objects.get(pk=people[0].pk).age == 30


def test_read_only_and_async_only_guards_still_apply(people: list[Author]) -> None:
    class Frozen(dorm.Model):
        name = dorm.CharField(max_length=10)

        class Meta:
            app_label = "queries_express"
            db_table = Author._meta.db_table
            read_only = True
            managed = False

    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.filter(pk=people[0].pk).update(name="no")

    class OnlyAsync(dorm.AsyncModel):
        name = dorm.CharField(max_length=10)

        class Meta:
            app_label = "queries_express"
            db_table = Author._meta.db_table
            managed = False

    with pytest.raises(dorm.AsyncOnlyError, match="AsyncModel forbids sync access"):
        OnlyAsync.objects.get(pk=people[0].pk)
    with pytest.raises(dorm.AsyncOnlyError, match="AsyncModel forbids sync access"):
        OnlyAsync.objects.filter(pk=people[0].pk).count()


async def test_async_twins(people: list[Author], spy_express: list[str]) -> None:
    assert await Author.objects.filter(age=30).aexists()
    assert (await Author.objects.filter(age=30).afirst()).name == "ann"  # type: ignore[union-attr]
    assert [a.name async for a in Author.objects.filter(age=30)] == ["ann", "bob"]
    assert len(await Author.objects.all()) == 3
    del spy_express[:]
    assert (await Author.objects.aget(pk=people[1].pk)).name == "bob"
    assert await Book.objects.filter(author_id=people[0].pk).acount() == 3
    assert await Author.objects.filter(pk=people[1].pk).aupdate(age=5) == 1
    assert (await Author.objects.aget(pk=people[1].pk)).age == 5
    with pytest.raises(Author.DoesNotExist):
        await Author.objects.aget(pk=10_000)
    assert spy_express == ["aget", "acount", "aupdate", "aget"]


def test_sync_get_inside_a_running_loop_is_refused(people: list[Author]) -> None:
    import asyncio

    async def main() -> None:
        with pytest.raises(RuntimeError, match="this event loop is already running") as info:
            Author.objects.get(pk=people[0].pk)
        assert "aget" in str(info.value)

    asyncio.run(main())


def test_statements_are_logged(people: list[Author], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        Author.objects.get(pk=people[0].pk)
    record = caplog.records[-1]
    assert record.rows == 1  # type: ignore[attr-defined]
    assert record.alias == people[0]._state.db  # type: ignore[attr-defined]
    assert "SELECT" in record.sql  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# plugins close the lane
# --------------------------------------------------------------------------


class Watcher:
    def __init__(self) -> None:
        self.sql: list[str] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Any) -> Iterator[None]:
        yield
        self.sql.append(statement.sql)


class ScopesEverything:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @dorm.hookimpl
    def dorm_query_pre_compile(self, query: Any, alias: str) -> None:
        self.seen.append(query.model.__name__)


class ScopesBooks(ScopesEverything):
    @dorm.hookimpl
    def dorm_query_pre_compile_applies(self, model: Any) -> bool:
        return model is Book


@pytest.fixture
def register() -> Iterator[Callable[[object], None]]:
    registered: list[object] = []

    def add(plugin: object) -> None:
        plugins.kernel.register(plugin)
        registered.append(plugin)

    yield add
    for plugin in registered:
        plugins.kernel.unregister(plugin)


def test_a_statement_wrapper_sees_every_statement(
    people: list[Author], spy_express: list[str], register: Callable[[object], None]
) -> None:
    watcher = Watcher()
    register(watcher)
    Author.objects.get(pk=people[0].pk)
    Book.objects.filter(author_id=people[0].pk).count()
    Author.objects.filter(pk=people[0].pk).update(age=1)
    assert spy_express == []
    assert len(watcher.sql) == 3


def test_pre_compile_without_the_companion_hook_sees_every_model(
    people: list[Author], spy_express: list[str], register: Callable[[object], None]
) -> None:
    plugin = ScopesEverything()
    register(plugin)
    Author.objects.get(pk=people[0].pk)
    Book.objects.filter(author_id=people[0].pk).count()
    assert plugin.seen == ["Author", "Book"]
    assert spy_express == []


def test_pre_compile_applies_keeps_other_models_express(
    people: list[Author], spy_express: list[str], register: Callable[[object], None]
) -> None:
    plugin = ScopesBooks()
    register(plugin)
    Author.objects.get(pk=people[0].pk)
    Author.objects.filter(pk=people[0].pk).update(age=3)
    Book.objects.filter(author_id=people[0].pk).count()
    assert plugin.seen == ["Book"]
    assert spy_express == ["get", "update"]
    assert plugins.kernel.express_lane(Author) is True
    assert plugins.kernel.express_lane(Book) is False


def test_the_lane_reopens_when_the_plugin_leaves(people: list[Author], spy_express: list[str]) -> None:
    plugin = ScopesEverything()
    plugins.kernel.register(plugin)
    try:
        Author.objects.get(pk=people[0].pk)
    finally:
        plugins.kernel.unregister(plugin)
    Author.objects.get(pk=people[0].pk)
    assert plugin.seen == ["Author"]
    assert spy_express == ["get"]
