"""Signals: connect/disconnect, sender filtering, weak references, dispatch_uid,
sync vs async receivers, and the save/delete signals persistence sends."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest

import dorm
from dorm import signals
from dorm.signals import Signal, receiver


class Note(dorm.Model):
    text = dorm.CharField(max_length=20)

    class Meta:
        app_label = "sigtests"


class Other(dorm.Model):
    class Meta:
        app_label = "sigtests"


def test_send_calls_receivers_with_sender_and_kwargs() -> None:
    sig = Signal("test")
    calls: list[tuple[Any, dict[str, Any]]] = []

    def handler(sender: Any, **kwargs: Any) -> str:
        calls.append((sender, kwargs))
        return "done"

    sig.connect(handler)
    responses = sig.send(Note, value=1)
    assert responses == [(handler, "done")]
    assert calls[0][0] is Note and calls[0][1]["value"] == 1 and calls[0][1]["signal"] is sig
    assert sig.disconnect(handler) is True
    assert sig.send(Note) == []
    assert sig.disconnect(handler) is False


def test_sender_filter_and_has_listeners() -> None:
    sig = Signal()
    got: list[Any] = []

    def only_notes(sender: Any, **kwargs: Any) -> None:
        got.append(sender)

    assert not sig.has_listeners(Note)
    sig.connect(only_notes, sender=Note)
    assert sig.has_listeners(Note) and not sig.has_listeners(Other)
    sig.send(Other)
    sig.send(Note)
    assert got == [Note]


def test_weak_receivers_disappear() -> None:
    sig = Signal()

    def make() -> None:
        def temporary(sender: Any, **kwargs: Any) -> None:
            raise AssertionError("should be gone")

        sig.connect(temporary)

    make()
    gc.collect()
    assert sig.send(Note) == []
    assert not sig.has_listeners(Note)


def test_strong_reference_and_dispatch_uid() -> None:
    sig = Signal()
    count = [0]

    def make() -> Callable[..., None]:
        def kept(sender: Any, **kwargs: Any) -> None:
            count[0] += 1

        return kept

    sig.connect(make(), weak=False, dispatch_uid="once")
    sig.connect(make(), weak=False, dispatch_uid="once")  # same uid: ignored
    gc.collect()
    sig.send(Note)
    assert count == [1]
    assert sig.disconnect(dispatch_uid="once")


def test_bound_methods_are_weak_but_work() -> None:
    sig = Signal()

    class Listener:
        def __init__(self) -> None:
            self.seen = 0

        def on(self, sender: Any, **kwargs: Any) -> None:
            self.seen += 1

    listener = Listener()
    sig.connect(listener.on)
    sig.send(Note)
    assert listener.seen == 1
    del listener
    gc.collect()
    assert sig.send(Note) == []


def test_receiver_decorator_many_signals() -> None:
    a, b = Signal(), Signal()
    seen: list[str] = []

    @receiver([a, b], sender=Note)
    def both(sender: Any, signal: Signal, **kwargs: Any) -> None:
        seen.append(signal.name)

    a.send(Note)
    b.send(Note)
    assert seen == ["signal", "signal"] and len(seen) == 2


async def test_async_receivers_run_only_on_asend() -> None:
    sig = Signal()
    order: list[str] = []

    async def async_one(sender: Any, **kwargs: Any) -> str:
        order.append("async")
        return "a"

    def sync_one(sender: Any, **kwargs: Any) -> str:
        order.append("sync")
        return "s"

    sig.connect(async_one)
    sig.connect(sync_one)
    assert sig.send(Note) == [(sync_one, "s")]  # the async receiver is skipped on the sync path
    assert order == ["sync"]
    order.clear()
    assert await sig.asend(Note) == [(async_one, "a"), (sync_one, "s")]
    assert order == ["async", "sync"]


def test_receiver_exception_propagates() -> None:
    sig = Signal()

    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    sig.connect(boom)
    with pytest.raises(RuntimeError, match="receiver failed"):
        sig.send(Note)


# --------------------------------------------------------------------------
# persistence sends the model signals
# --------------------------------------------------------------------------


def test_save_and_delete_signals(alias: str, create_tables: Callable[..., None]) -> None:
    create_tables(Note)
    events: list[tuple[str, Any]] = []

    def pre(sender: Any, instance: Note, **kwargs: Any) -> None:
        events.append(("pre_save", instance.pk))

    def post(sender: Any, instance: Note, created: bool, **kwargs: Any) -> None:
        events.append(("post_save", created))

    def deleted(sender: Any, instance: Note, **kwargs: Any) -> None:
        events.append(("post_delete", instance.text))

    signals.pre_save.connect(pre, sender=Note)
    signals.post_save.connect(post, sender=Note)
    signals.post_delete.connect(deleted, sender=Note)
    try:
        note = Note(text="hi")
        note.save()
        note.text = "again"
        note.save()
        Other()  # another sender: nothing
        saved_pk = note.pk
        note.delete()
    finally:
        signals.pre_save.disconnect(pre, sender=Note)
        signals.post_save.disconnect(post, sender=Note)
        signals.post_delete.disconnect(deleted, sender=Note)
    assert events == [
        ("pre_save", None),
        ("post_save", True),
        ("pre_save", saved_pk),
        ("post_save", False),
        ("post_delete", "again"),
    ]


@pytest.fixture
def note_table(create_tables: Callable[..., None]) -> None:
    create_tables(Note)


async def test_async_save_awaits_async_receivers(alias: str, note_table: None) -> None:
    seen: list[bool] = []

    async def post(sender: Any, instance: Note, created: bool, **kwargs: Any) -> None:
        seen.append(created)

    signals.post_save.connect(post, sender=Note)
    try:
        note = Note(text="a")
        await note.asave()
        await note.asave()
    finally:
        signals.post_save.disconnect(post, sender=Note)
    assert seen == [True, False]
