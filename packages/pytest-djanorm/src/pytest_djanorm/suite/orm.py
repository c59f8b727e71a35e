"""The ORM on the backend: CRUD for every core field type, lookups, bulk operations, relations, aggregation."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest

import dorm
from pytest_djanorm.queries import assert_num_queries
from pytest_djanorm.suite.fixtures import require
from pytest_djanorm.suite.models import AllTypes, Author, Book, Tag
from pytest_djanorm.suite.requirements import Requirements

__all__ = [
    "SAMPLE_VALUES",
    "TestSuiteAggregation",
    "TestSuiteBulk",
    "TestSuiteCRUD",
    "TestSuiteIteration",
    "TestSuiteLookups",
    "TestSuiteRelations",
]

#: field -> (value written, value after update)
SAMPLE_VALUES: dict[str, tuple[Any, Any]] = {
    "char": ("hello", "wörld ✓"),
    "text": ("long " * 50, ""),
    "integer": (-2_147_483_648, 2_147_483_647),
    "big": (-9_223_372_036_854_775_808, 9_223_372_036_854_775_807),
    "small": (-32768, 32767),
    "positive": (0, 2_147_483_647),
    "floating": (1.5, -0.25),
    "decimal": (decimal.Decimal("123456789.123"), decimal.Decimal("-0.001")),
    "boolean": (True, False),
    "day": (datetime.date(2024, 2, 29), datetime.date(1970, 1, 1)),
    "moment": (
        datetime.datetime(2024, 2, 29, 12, 30, 15, 123456, tzinfo=datetime.UTC),
        datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    ),
    "clock": (datetime.time(13, 14, 15), datetime.time(0, 0)),
    "duration": (datetime.timedelta(days=2, seconds=5, microseconds=7), datetime.timedelta(0)),
    "uuid": (uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.UUID(int=0)),
    "data": ({"a": [1, 2, {"b": None}], "s": "ü"}, [1, "two", 3.5]),
    "blob": (b"\x00\x01binary\xff", b""),
    "email": ("ada@example.com", "bo@example.org"),
    "slug": ("a-slug", "b_slug"),
    "url": ("https://example.com/a?b=c", "http://x.y"),
    "ip": ("192.168.0.1", "::1"),
}


def _normalise(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


class TestSuiteCRUD:
    @pytest.mark.parametrize("field", list(SAMPLE_VALUES))
    def test_round_trip(self, suite_db: str, requirements: Requirements, field: str) -> None:
        if field == "data":
            require(requirements, "json_field")
        first, second = SAMPLE_VALUES[field]
        obj = AllTypes.objects.create(**{field: first})
        assert obj.pk is not None
        fetched = AllTypes.objects.get(pk=obj.pk)
        assert _normalise(getattr(fetched, field)) == first
        setattr(fetched, field, second)
        fetched.save()
        assert _normalise(getattr(AllTypes.objects.get(pk=obj.pk), field)) == second
        assert AllTypes.objects.filter(pk=obj.pk).update(**{field: first}) == 1
        assert _normalise(getattr(AllTypes.objects.get(pk=obj.pk), field)) == first
        fetched.delete()
        assert not AllTypes.objects.filter(pk=obj.pk).exists()

    def test_nulls(self, suite_db: str) -> None:
        obj = AllTypes.objects.create()
        fetched = AllTypes.objects.get(pk=obj.pk)
        for name in ("decimal", "day", "moment", "clock", "duration", "uuid", "blob", "ip"):
            assert getattr(fetched, name) is None, name

    def test_get_missing_raises(self, suite_db: str) -> None:
        with pytest.raises(Author.DoesNotExist):
            Author.objects.get(name="nobody")

    async def test_async_round_trip(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "async_io")
        author = await Author.objects.acreate(name="async", age=1)
        fetched = await Author.objects.aget(pk=author.pk)
        assert (fetched.name, fetched.age) == ("async", 1)
        fetched.age = 2
        await fetched.asave()
        assert (await Author.objects.aget(pk=author.pk)).age == 2
        assert await Author.objects.filter(age=2).aupdate(age=3) == 1
        await fetched.adelete()
        assert await Author.objects.acount() == 0


class TestSuiteIteration:
    @pytest.fixture
    def many(self, suite_db: str) -> None:
        Author.objects.bulk_create([Author(name=f"i{i:03d}", age=i) for i in range(25)])

    def test_iterator_in_chunks(self, many: None) -> None:
        assert [a.age for a in Author.objects.order_by("age").iterator(chunk_size=4)] == list(range(25))

    async def test_aiterator_in_chunks(self, many: None, requirements: Requirements) -> None:
        require(requirements, "async_io")
        assert [a.age async for a in Author.objects.order_by("age").aiterator(chunk_size=4)] == list(range(25))

    def test_values_and_in_bulk(self, many: None) -> None:
        rows = list(Author.objects.filter(age__lt=2).order_by("age").values("name", "age"))
        assert rows == [{"name": "i000", "age": 0}, {"name": "i001", "age": 1}]
        by_pk = Author.objects.in_bulk(list(Author.objects.filter(age__lt=3).values_list("pk", flat=True)))
        assert sorted(a.age for a in by_pk.values()) == [0, 1, 2]


class TestSuiteLookups:
    @pytest.fixture
    def people(self, suite_db: str) -> None:
        for name, age in [("Ada", 36), ("bob", 20), ("Cy", 50), ("ada lovelace", 36), ("Émile", 7)]:
            Author.objects.create(name=name, age=age)

    @pytest.mark.parametrize(
        ("lookup", "expected"),
        [
            ({"name": "Ada"}, ["Ada"]),
            ({"name__iexact": "ADA"}, ["Ada"]),
            ({"name__contains": "da"}, ["Ada", "ada lovelace"]),
            ({"name__icontains": "ADA"}, ["Ada", "ada lovelace"]),
            ({"name__startswith": "ada"}, ["ada lovelace"]),
            ({"name__istartswith": "ada"}, ["Ada", "ada lovelace"]),
            ({"name__endswith": "y"}, ["Cy"]),
            ({"name__in": ["bob", "Cy", "zed"]}, ["Cy", "bob"]),
            ({"age__gt": 36}, ["Cy"]),
            ({"age__gte": 36}, ["Ada", "Cy", "ada lovelace"]),
            ({"age__lt": 20}, ["Émile"]),
            ({"age__lte": 20}, ["bob", "Émile"]),
            ({"age__range": (7, 20)}, ["bob", "Émile"]),
        ],
        ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
    )
    def test_lookup(self, people: None, lookup: dict[str, Any], expected: list[str]) -> None:
        assert sorted(Author.objects.filter(**lookup).values_list("name", flat=True)) == sorted(expected)

    def test_percent_and_underscore_are_literal(self, suite_db: str) -> None:
        Author.objects.create(name="100%_sure")
        Author.objects.create(name="100 sure")
        assert list(Author.objects.filter(name__contains="%_").values_list("name", flat=True)) == ["100%_sure"]

    def test_isnull(self, suite_db: str) -> None:
        AllTypes.objects.create(char="with", day=datetime.date(2020, 1, 1))
        AllTypes.objects.create(char="without")
        assert list(AllTypes.objects.filter(day__isnull=True).values_list("char", flat=True)) == ["without"]
        assert list(AllTypes.objects.filter(day__isnull=False).values_list("char", flat=True)) == ["with"]

    def test_regex(self, people: None, requirements: Requirements) -> None:
        require(requirements, "regex")
        assert sorted(Author.objects.filter(name__regex=r"^[A-C]").values_list("name", flat=True)) == ["Ada", "Cy"]

    def test_q_exclude_order_slice(self, people: None) -> None:
        qs = Author.objects.filter(dorm.Q(age=36) | dorm.Q(name="bob")).exclude(name="Ada").order_by("-age", "name")
        assert list(qs.values_list("name", flat=True)) == ["ada lovelace", "bob"]
        assert list(Author.objects.order_by("age").values_list("age", flat=True)[1:3]) == [20, 36]

    def test_f_expression_update(self, people: None) -> None:
        Author.objects.filter(name="bob").update(age=dorm.F("age") + 1)
        assert Author.objects.get(name="bob").age == 21


class TestSuiteBulk:
    def test_bulk_create(self, suite_db: str, requirements: Requirements) -> None:
        made = Author.objects.bulk_create([Author(name=f"n{i}", age=i) for i in range(50)])
        assert len(made) == 50
        assert Author.objects.count() == 50
        if requirements.returning:
            assert all(a.pk is not None for a in made)
            assert {a.pk for a in made} == set(Author.objects.values_list("pk", flat=True))

    def test_bulk_create_ignore_conflicts(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "ignore_conflicts")
        Author.objects.create(name="taken")
        Author.objects.bulk_create([Author(name="taken"), Author(name="free")], ignore_conflicts=True)
        assert sorted(Author.objects.values_list("name", flat=True)) == ["free", "taken"]

    def test_bulk_update(self, suite_db: str) -> None:
        for i in range(5):
            Author.objects.create(name=f"u{i}", age=i)
        people = list(Author.objects.order_by("name"))
        for person in people:
            person.age += 100
        Author.objects.bulk_update(people, ["age"])
        assert list(Author.objects.order_by("name").values_list("age", flat=True)) == [100, 101, 102, 103, 104]

    async def test_abulk_create(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "async_io")
        await Author.objects.abulk_create([Author(name=f"a{i}") for i in range(10)])
        assert await Author.objects.acount() == 10


class TestSuiteRelations:
    @pytest.fixture
    def library(self, suite_db: str) -> None:
        red, blue = Tag.objects.create(label="red"), Tag.objects.create(label="blue")
        for i in range(3):
            author = Author.objects.create(name=f"author{i}", age=i)
            for j in range(2):
                book = Book.objects.create(title=f"b{i}{j}", pages=10 * (i + 1), author=author)
                book.tags.add(red if j == 0 else blue)

    def test_select_related_is_one_query(self, library: None) -> None:
        with assert_num_queries(1):
            pairs = sorted((b.title, b.author.name) for b in Book.objects.select_related("author"))
        assert pairs[0] == ("b00", "author0") and len(pairs) == 6

    def test_prefetch_reverse_fk(self, library: None) -> None:
        with assert_num_queries(2):
            counts = {a.name: len(a.books.all()) for a in Author.objects.prefetch_related("books")}  # type: ignore[attr-defined]
        assert counts == {"author0": 2, "author1": 2, "author2": 2}

    def test_prefetch_m2m(self, library: None) -> None:
        with assert_num_queries(2):
            labels = {b.title: [t.label for t in b.tags.all()] for b in Book.objects.prefetch_related("tags")}
        assert labels["b00"] == ["red"] and labels["b01"] == ["blue"]

    def test_filter_across_relation(self, library: None) -> None:
        assert Book.objects.filter(author__name="author1").count() == 2
        assert Author.objects.filter(books__tags__label="blue").distinct().count() == 3

    def test_cascade_delete(self, library: None) -> None:
        Author.objects.filter(name="author0").delete()
        assert Book.objects.count() == 4

    async def test_async_select_related(self, library: None, requirements: Requirements) -> None:
        require(requirements, "async_io")
        book = await Book.objects.select_related("author").aget(title="b21")
        assert book.author.name == "author2"


class TestSuiteAggregation:
    @pytest.fixture
    def books(self, suite_db: str) -> None:
        a = Author.objects.create(name="a")
        b = Author.objects.create(name="b")
        for pages, author in [(10, a), (20, a), (60, b)]:
            Book.objects.create(title=f"t{pages}", pages=pages, author=author)

    def test_aggregate(self, books: None) -> None:
        result = Book.objects.aggregate(
            n=dorm.Count("id"),
            total=dorm.Sum("pages"),
            low=dorm.Min("pages"),
            high=dorm.Max("pages"),
            mean=dorm.Avg("pages"),
        )
        assert result == {"n": 3, "total": 90, "low": 10, "high": 60, "mean": 30}

    def test_annotate_group_by(self, books: None) -> None:
        rows = Author.objects.annotate(n=dorm.Count("books"), pages=dorm.Sum("books__pages")).order_by("name")
        assert [(r.name, getattr(r, "n"), getattr(r, "pages")) for r in rows] == [("a", 2, 30), ("b", 1, 60)]  # noqa: B009

    def test_empty_aggregate(self, suite_db: str) -> None:
        assert Book.objects.aggregate(total=dorm.Sum("pages"), n=dorm.Count("id")) == {"total": None, "n": 0}

    async def test_aaggregate(self, books: None, requirements: Requirements) -> None:
        require(requirements, "async_io")
        assert await Book.objects.aaggregate(total=dorm.Sum("pages")) == {"total": 90}
