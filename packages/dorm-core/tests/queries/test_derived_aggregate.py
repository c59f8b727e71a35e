"""aggregate() over annotated-aggregate, distinct, sliced and union querysets: a derived table."""

from __future__ import annotations

from typing import Any

import pytest

import dorm
from dorm import Avg, Count, Max, Min, Q, Sum

from .models import ALL, Author, Book, Publisher


@pytest.fixture
def shelf(create_tables: Any) -> dict[str, Any]:
    create_tables(*ALL)
    pub = Publisher.objects.create(name="Penguin")
    ann = Author.objects.create(name="Ann", age=30, publisher=pub)
    bob = Author.objects.create(name="Bob", age=40)
    Author.objects.create(name="Cid", age=None)
    for title, pages, author in [("a", 100, ann), ("b", 200, ann), ("c", 300, ann), ("d", 50, bob)]:
        Book.objects.create(title=title, pages=pages, author=author)
    return {"ann": ann, "bob": bob}


def test_aggregate_of_an_aggregate_annotation(alias: str, shelf: dict[str, Any]) -> None:
    per_author = Author.objects.annotate(n=Count("books"))
    result = per_author.aggregate(Avg("n"), most=Max("n"), total=Sum("n"), authors=Count("*"))
    assert result == {"n__avg": pytest.approx(4 / 3), "most": 3, "total": 4, "authors": 3}
    # the queryset's filter (a HAVING here) decides which rows are aggregated
    assert Author.objects.annotate(n=Count("books")).filter(n__gte=1).aggregate(Avg("n")) == {"n__avg": 2.0}
    pages = Author.objects.annotate(p=Sum("books__pages")).aggregate(Max("p"), Min("p"))
    assert pages == {"p__max": 600, "p__min": 50}


def test_distinct_sliced_and_values(alias: str, shelf: dict[str, Any]) -> None:
    Book.objects.create(title="e", pages=50, author=shelf["bob"])
    assert Book.objects.values("pages").distinct().aggregate(Sum("pages"), n=Count("*")) == {
        "pages__sum": 650,
        "n": 4,
    }
    assert Book.objects.order_by("-pages")[:2].aggregate(Sum("pages")) == {"pages__sum": 500}
    assert Book.objects.order_by("pages")[1:3].aggregate(total=Sum("pages")) == {"total": 150}


def test_union(alias: str, shelf: dict[str, Any]) -> None:
    short = Book.objects.filter(pages__lt=100)
    long = Book.objects.filter(pages__gt=250)
    assert short.union(long).aggregate(Sum("pages"), Count("pk")) == {"pages__sum": 350, "pk__count": 2}
    assert short.union(short, all=True).aggregate(Sum("pages")) == {"pages__sum": 100}


def test_empty_results(alias: str, shelf: dict[str, Any]) -> None:
    assert Author.objects.annotate(n=Count("books")).filter(n__gt=10).aggregate(Avg("n")) == {"n__avg": None}
    assert Author.objects.none().annotate(n=Count("books")).aggregate(Avg("n")) == {"n__avg": None}


def test_clear_errors(alias: str, shelf: dict[str, Any]) -> None:
    per_author = Author.objects.annotate(n=Count("books"))
    with pytest.raises(dorm.FieldError, match="not one of them. Choices are: .*n"):
        per_author.aggregate(Sum("books__pages"))
    with pytest.raises(dorm.NotSupportedError, match="filter\\(\\) the queryset instead"):
        per_author.aggregate(Sum("n", filter=Q(n__gt=1)))
    with pytest.raises(dorm.FieldError, match="Invalid aggregate name"):
        per_author.aggregate(**{"_x": Sum("n")})


async def test_async_twin(alias: str, shelf: dict[str, Any]) -> None:
    result = await Author.objects.annotate(n=Count("books")).aaggregate(Max("n"))
    assert result == {"n__max": 3}


def test_avg_is_a_float_on_every_backend(alias: str, shelf: dict[str, Any]) -> None:
    mean = Book.objects.aggregate(Avg("pages"))["pages__avg"]
    assert type(mean) is float and mean == 162.5
    per_author = dict(Author.objects.annotate(m=Avg("books__pages")).values_list("name", "m"))
    assert per_author == {"Ann": 200.0, "Bob": 50.0, "Cid": None}
    assert all(v is None or type(v) is float for v in per_author.values())
