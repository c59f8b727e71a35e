"""A kernel made active with ``Kernel.activate()`` is the one the ORM calls (no stale binding)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dorm
from dorm import plugins


class Note(dorm.Model):
    text = dorm.CharField(max_length=40)

    class Meta:
        app_label = "kernel_swap"


class SaveSpy:
    def __init__(self) -> None:
        self.saved: list[tuple[str, bool]] = []
        self.compiled: list[str] = []

    @dorm.hookimpl
    def dorm_pre_save(self, instance: Any, alias: str, adding: bool, update_fields: Any) -> None:
        self.saved.append((instance.text, adding))

    @dorm.hookimpl
    def dorm_query_pre_compile(self, query: Any, alias: str) -> None:
        self.compiled.append(query.model.__name__)


@pytest.fixture
def fresh_kernel() -> Iterator[tuple[plugins.Kernel, SaveSpy]]:
    kernel = plugins.Kernel(autoload=False)
    spy = SaveSpy()
    kernel.register(spy)
    previous = kernel.activate()
    try:
        yield kernel, spy
    finally:
        previous.activate()


def test_activated_kernel_sees_saves_and_queries(
    alias: str, create_tables: Callable[..., None], fresh_kernel: tuple[plugins.Kernel, SaveSpy]
) -> None:
    _, spy = fresh_kernel
    create_tables(Note)
    note = Note.objects.create(text="hello")
    note.text = "bye"
    note.save()
    assert spy.saved == [("hello", True), ("bye", False)]
    assert Note.objects.filter(text="bye").count() == 1
    assert "Note" in spy.compiled


def test_previous_kernel_is_restored(alias: str, create_tables: Callable[..., None]) -> None:
    spy = SaveSpy()
    kernel = plugins.Kernel(autoload=False)
    kernel.register(spy)
    previous = kernel.activate()
    previous.activate()
    create_tables(Note)
    Note.objects.create(text="unseen")
    assert spy.saved == []
