"""The generated per-plan hydrators build the same instances as reading the columns one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import dorm
from dorm.backends.base.statement import Statement

from .models import ALL, Author, Book, Publisher, Review


@pytest.fixture
def chain(create_tables: Any) -> dict[str, Any]:
    create_tables(*ALL)
    pub = Publisher.objects.create(name="Penguin")
    ann = Author.objects.create(name="Ann", age=30, publisher=pub)
    cid = Author.objects.create(name="Cid", age=None, publisher=None)
    alpha = Book.objects.create(title="Alpha", pages=120, author=ann, published=dt.date(2020, 5, 17))
    gamma = Book.objects.create(title="Gamma", pages=80, author=cid, published=None)
    Review.objects.create(book=alpha, stars=5)
    Review.objects.create(book=gamma, stars=2)
    return {"pub": pub, "ann": ann, "cid": cid}


class _Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @dorm.hookimpl(wrapper=True)
    def dorm_statement(self, statement: Statement) -> Any:
        self.statements.append(statement.sql)
        return (yield)


def test_instances_match_values(alias: str, chain: dict[str, Any]) -> None:
    books = list(Book.objects.order_by("title"))
    expected = list(Book.objects.order_by("title").values("id", "title", "pages", "published", "author_id"))
    got = [{k: b.__dict__[k] for k in ("id", "title", "pages", "published", "author_id")} for b in books]
    assert got == expected
    assert books[0].published == dt.date(2020, 5, 17)  # a converted column
    assert books[1].published is None  # None skips the converter
    for b in books:
        assert b._state.adding is False and b._state.db == alias
    assert books[0]._state is not books[1]._state
    assert books[0]._state.fields_cache is not books[1]._state.fields_cache


def test_nested_select_related_with_a_missing_link(alias: str, chain: dict[str, Any]) -> None:
    from dorm import plugins

    counter = _Counter()
    plugins.kernel.register(counter)
    try:
        reviews = list(Review.objects.select_related("book__author__publisher").order_by("-stars"))
        assert len(counter.statements) == 1
        top, low = reviews
        assert top.book.title == "Alpha" and top.book.author.name == "Ann"
        assert top.book.author.publisher.name == "Penguin"
        assert top.book.published == dt.date(2020, 5, 17)
        assert low.book.author.name == "Cid" and low.book.author.age is None
        assert low.book.author.publisher is None  # LEFT JOIN row missing: cached None, no query
        assert len(counter.statements) == 1
        assert top.book._state.db == alias and top.book._state.adding is False
    finally:
        plugins.kernel.unregister(counter)


def test_annotations_with_select_related(alias: str, chain: dict[str, Any]) -> None:
    books = list(Book.objects.select_related("author").annotate(double=dorm.F("pages") * 2).order_by("title"))
    assert [(b.title, b.author.name, b.double) for b in books] == [("Alpha", "Ann", 240), ("Gamma", "Cid", 160)]


def test_loaded_instances_get_their_state_on_first_use(alias: str, chain: dict[str, Any]) -> None:
    import copy
    import pickle

    from dorm.models.base import LOADED_FROM

    books = list(Book.objects.select_related("author__publisher").order_by("title"))
    alpha = books[0]
    author = alpha.author
    publisher = author.publisher
    for obj in (alpha, author, publisher):
        assert obj._state.db == alias
        assert obj._state.adding is False
        assert LOADED_FROM not in obj.__dict__  # the marker is gone once the state exists
    # a leaf that nobody touched still answers correctly after a pickle or a copy
    plain = list(Publisher.objects.all())[0]
    assert LOADED_FROM in plain.__dict__
    for clone in (pickle.loads(pickle.dumps(plain)), copy.copy(plain)):
        assert (clone._state.db, clone._state.adding, clone.name) == (alias, False, "Penguin")
    plain.name = "Puffin"
    plain.save()  # an update (adding is False), on the alias it came from
    assert Publisher.objects.get(pk=plain.pk).name == "Puffin"
    assert Publisher.objects.count() == 1
