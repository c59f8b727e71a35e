"""Async twins, ``await qs``, ``async for``, signals on async paths, and the sync-in-loop refusal."""

from __future__ import annotations

from typing import Any

import pytest

import dorm
from dorm import signals
from dorm.exceptions import SyncInAsyncContextError

from .models import ALL, Author, Book, Publisher, Stream


@pytest.fixture
def tables(create_tables: Any) -> None:
    create_tables(*ALL)


async def test_async_crud(alias: str, tables: None) -> None:
    p = await Publisher.objects.acreate(name="Penguin")
    ann = await Author.objects.acreate(name="Ann", age=30, publisher=p)
    await Author.objects.abulk_create([Author(name="Bob", age=20), Author(name="Cid", age=40)])
    assert await Author.objects.acount() == 3
    assert await Author.objects.filter(name="Ann").aexists()
    assert (await Author.objects.aget(pk=ann.pk)).name == "Ann"
    assert await Author.objects.aget_or_none(name="zz") is None
    assert (await Author.objects.order_by("age").afirst()).name == "Bob"  # type: ignore[union-attr]
    assert (await Author.objects.order_by("age").alast()).name == "Cid"  # type: ignore[union-attr]
    assert [a.name for a in await Author.objects.order_by("name")] == ["Ann", "Bob", "Cid"]
    assert [a.name async for a in Author.objects.afilter(age__gte=30).order_by("name")] == ["Ann", "Cid"]
    assert [a.name async for a in Author.objects.order_by("name").aiterator(chunk_size=1)] == ["Ann", "Bob", "Cid"]
    assert await Author.objects.aaggregate(total=dorm.Sum("age")) == {"total": 90}
    assert await Author.objects.filter(name="Bob").aupdate(age=21) == 1
    bulk = await Author.objects.ain_bulk([ann.pk])
    assert bulk[ann.pk].name == "Ann"
    obj, created = await Author.objects.aget_or_create(name="Dee", defaults={"age": 1})
    assert created
    obj, created = await Author.objects.aupdate_or_create(name="Dee", defaults={"age": 2})
    assert not created and obj.age == 2
    objs = [a async for a in Author.objects.order_by("name")]
    for a in objs:
        a.age = (a.age or 0) + 100
    await Author.objects.abulk_update(objs, ["age"], batch_size=2)
    assert await Author.objects.filter(age__gte=100).acount() == 4
    assert await Author.objects.filter(name="Dee").aearliest("age") is not None
    assert await Author.objects.filter(name="Dee").alatest("age") is not None
    assert await Author.objects.all().aexplain()
    deleted, _ = await Author.objects.filter(name="Dee").adelete()
    assert deleted == 1


async def test_instance_async_methods(alias: str, tables: None) -> None:
    p = Publisher(name="Orbit")
    await p.asave()
    assert p.pk is not None and p._state.db == alias
    a = Author(name="Ann", publisher=p)
    await a.asave()
    await Book.objects.acreate(title="T", author=a)
    fresh = await Author.objects.aget(pk=a.pk)
    await fresh.afetch_related("publisher", "books")
    assert fresh.publisher.name == "Orbit"
    await Author.objects.filter(pk=a.pk).aupdate(name="Anna")
    await a.arefresh_from_db()
    assert a.name == "Anna"
    await a.adelete()
    assert await Book.objects.acount() == 0


@pytest.fixture
def stream_table(create_tables: Any) -> None:
    create_tables(Stream)


async def test_async_model(alias: str, stream_table: None) -> None:
    s = await Stream.objects.acreate(name="x")
    assert [x.name async for x in Stream.objects.all()] == ["x"]
    await s.adelete()
    assert await Stream.objects.acount() == 0


async def test_sync_call_in_running_loop_is_refused(alias: str, tables: None) -> None:
    qs = Author.objects.filter(name="Ann")  # building is fine
    with pytest.raises(SyncInAsyncContextError, match="this event loop is already running") as info:
        qs.count()
    assert "acount" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(SyncInAsyncContextError, match="aget"):
        Author.objects.get(pk=1)
    with pytest.raises(SyncInAsyncContextError, match="async for"):
        list(qs)
    with pytest.raises(SyncInAsyncContextError, match="this event loop is already running"):
        Author.objects.create(name="x")


async def test_async_signal_receivers(alias: str, tables: None) -> None:
    seen: list[tuple[str, Any]] = []

    async def on_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(("saved", created))

    def on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(("deleted", instance.name))

    signals.post_save.connect(on_save, sender=Publisher)
    signals.post_delete.connect(on_delete, sender=Publisher)
    try:
        p = await Publisher.objects.acreate(name="P")
        await p.adelete()
    finally:
        signals.post_save.disconnect(on_save, sender=Publisher)
        signals.post_delete.disconnect(on_delete, sender=Publisher)
    assert seen == [("saved", True), ("deleted", "P")]


def test_sync_signal_receivers(alias: str, tables: None) -> None:
    seen: list[Any] = []

    def pre(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(("pre", instance.name, instance.pk))

    def post(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(("post", created, instance.pk is not None))

    signals.pre_save.connect(pre, sender=Publisher)
    signals.post_save.connect(post, sender=Publisher)
    try:
        p = Publisher.objects.create(name="P")
        p.name = "Q"
        p.save()
    finally:
        signals.pre_save.disconnect(pre, sender=Publisher)
        signals.post_save.disconnect(post, sender=Publisher)
    assert seen == [("pre", "P", None), ("post", True, True), ("pre", "Q", p.pk), ("post", False, True)]
