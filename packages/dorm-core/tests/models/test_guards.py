"""Meta.read_only and dorm.AsyncModel guards on instances and querysets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import dorm
from dorm.models import guards


class Rate(dorm.Model):
    code = dorm.CharField(max_length=3)

    class Meta:
        app_label = "guardtests"
        read_only = True


class Event(dorm.AsyncModel):
    name = dorm.CharField(max_length=20)

    class Meta:
        app_label = "guardtests"


def test_flags() -> None:
    assert Rate._meta.read_only and not Rate._meta.async_only
    assert Event._meta.async_only and not Event._meta.read_only
    assert dorm.AsyncModel._meta.abstract


def test_read_only_refuses_instance_writes() -> None:
    rate = Rate(code="EUR")
    with pytest.raises(dorm.ReadOnlyModelError, match=r"Rate is read-only \(Meta.read_only = True\): save\(\) refused"):
        rate.save()
    with pytest.raises(dorm.ReadOnlyModelError, match="delete\\(\\) refused"):
        Rate(pk=1, code="EUR").delete()


async def test_read_only_refuses_async_writes() -> None:
    with pytest.raises(dorm.ReadOnlyModelError, match="asave\\(\\) refused"):
        await Rate(code="EUR").asave()
    with pytest.raises(dorm.ReadOnlyModelError, match="adelete\\(\\) refused"):
        await Rate(pk=1, code="EUR").adelete()


def test_read_only_queryset_writes(alias: str, create_tables: Callable[..., None]) -> None:
    create_tables(Rate)
    for call in (
        lambda: Rate.objects.create(code="x"),
        lambda: Rate.objects.all().update(code="y"),
        lambda: Rate.objects.all().delete(),
        lambda: Rate.objects.bulk_create([Rate(code="z")]),
    ):
        with pytest.raises(dorm.ReadOnlyModelError, match="Rate is read-only"):
            call()
    assert Rate.objects.count() == 0  # reads are fine


def test_async_model_refuses_sync_access() -> None:
    event = Event(name="launch")
    with pytest.raises(
        dorm.AsyncOnlyError, match=r"^AsyncModel forbids sync access: Event.save\(\).*`await ...asave\(...\)`"
    ):
        event.save()
    with pytest.raises(dorm.AsyncOnlyError, match="adelete"):
        Event(pk=1, name="x").delete()
    with pytest.raises(dorm.AsyncOnlyError, match="arefresh_from_db"):
        Event(pk=1, name="x").refresh_from_db()
    with pytest.raises(dorm.AsyncOnlyError, match="AsyncModel forbids sync access"):
        Event.objects.count()
    with pytest.raises(dorm.AsyncOnlyError, match="async for"):
        list(Event.objects.all())


@pytest.fixture
def event_table(create_tables: Callable[..., None]) -> None:
    create_tables(Event)


async def test_async_model_async_paths_work(alias: str, event_table: None) -> None:
    event = Event(name="launch")
    await event.asave()
    assert await Event.objects.acount() == 1
    loaded = await Event.objects.aget(pk=event.pk)
    assert loaded.name == "launch"
    await loaded.adelete()
    assert await Event.objects.acount() == 0


def test_guard_functions_directly() -> None:
    guards.check_writable(Event, "save")
    guards.check_sync_access(Rate, "save")
    with pytest.raises(dorm.AsyncOnlyError, match="`len\\(await queryset\\)`"):
        guards.check_sync_access(Event, "__len__")
