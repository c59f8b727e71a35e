"""QuerySet behaviour on every available backend (the ``alias`` fixture)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

import dorm
from dorm import F, Q
from dorm.backends.base.statement import Statement
from dorm.exceptions import FieldError, ImproperlyConfigured, MultipleObjectsReturned, ObjectDoesNotExist

from .models import ALL, Author, Book, Publisher, Review, Tag


@pytest.fixture
def data(create_tables: Any) -> dict[str, Any]:
    create_tables(*ALL)
    p1 = Publisher.objects.create(name="Penguin")
    p2 = Publisher.objects.create(name="Orbit")
    ann = Author.objects.create(name="Ann", age=30, publisher=p1, email="ann@example.com")
    bob = Author.objects.create(name="Bob", age=None, publisher=p1)
    cid = Author.objects.create(name="Cid_100%", age=50, publisher=None)
    t1, t2 = Tag.objects.create(name="sf"), Tag.objects.create(name="fun")
    b1 = Book.objects.create(title="Alpha", pages=120, author=ann, published=dt.date(2020, 5, 17))
    b2 = Book.objects.create(title="Beta", pages=300, author=ann, published=dt.date(2021, 1, 2))
    b3 = Book.objects.create(title="Gamma", pages=80, author=bob)
    for book, tags in ((b1, [t1, t2]), (b2, [t1])):
        for tag in tags:
            Book.tags.through.objects.create(book=book, tag=tag)
    return {"p1": p1, "p2": p2, "ann": ann, "bob": bob, "cid": cid, "t1": t1, "t2": t2, "b1": b1, "b2": b2, "b3": b3}


class Counter:
    """Counts statements through the dorm_statement hook."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @dorm.hookimpl(wrapper=True)
    def dorm_statement(self, statement: Statement) -> Any:
        self.statements.append(statement.sql)
        return (yield)


@pytest.fixture
def count_queries() -> Any:
    from dorm import plugins

    counter = Counter()
    plugins.kernel.register(counter)
    try:
        yield counter
    finally:
        plugins.kernel.unregister(counter)


def names(qs: Any) -> list[str]:
    return sorted(a.name for a in qs)


# -- lookups -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"name": "Ann"}, ["Ann"]),
        ({"name__iexact": "ann"}, ["Ann"]),
        ({"name__contains": "n"}, ["Ann"]),
        ({"name__icontains": "N"}, ["Ann"]),
        ({"name__contains": "_100%"}, ["Cid_100%"]),
        ({"name__contains": "%"}, ["Cid_100%"]),
        ({"name__startswith": "B"}, ["Bob"]),
        ({"name__istartswith": "b"}, ["Bob"]),
        ({"name__endswith": "b"}, ["Bob"]),
        ({"name__iendswith": "B"}, ["Bob"]),
        ({"age__gt": 30}, ["Cid_100%"]),
        ({"age__gte": 30}, ["Ann", "Cid_100%"]),
        ({"age__lt": 50}, ["Ann"]),
        ({"age__lte": 50}, ["Ann", "Cid_100%"]),
        ({"age__in": [30, 99]}, ["Ann"]),
        ({"age__in": []}, []),
        ({"age__range": (29, 31)}, ["Ann"]),
        ({"age__isnull": True}, ["Bob"]),
        ({"age": None}, ["Bob"]),
        ({"age__isnull": False}, ["Ann", "Cid_100%"]),
        ({"name__regex": r"^[AB]"}, ["Ann", "Bob"]),
        ({"name__iregex": r"^a"}, ["Ann"]),
        ({"publisher__name": "Penguin"}, ["Ann", "Bob"]),
        ({"publisher__name__icontains": "pen"}, ["Ann", "Bob"]),
        ({"publisher": None}, ["Cid_100%"]),
        ({"books__title": "Gamma"}, ["Bob"]),
        ({"books__tags__name": "fun"}, ["Ann"]),
    ],
)
def test_lookups(alias: str, data: dict[str, Any], kwargs: dict[str, Any], expected: list[str]) -> None:
    assert names(Author.objects.filter(**kwargs).distinct()) == expected


def test_case_sensitive_contains(alias: str, data: dict[str, Any]) -> None:
    assert names(Author.objects.filter(name__contains="ann")) == []
    assert names(Author.objects.filter(name__startswith="a")) == []


def test_relation_lookups_with_instances(alias: str, data: dict[str, Any]) -> None:
    assert names(Author.objects.filter(publisher=data["p1"])) == ["Ann", "Bob"]
    assert names(Author.objects.filter(publisher__in=[data["p1"]])) == ["Ann", "Bob"]
    assert names(Author.objects.filter(publisher_id=data["p1"].pk)) == ["Ann", "Bob"]
    assert names(Author.objects.filter(publisher__in=Publisher.objects.filter(name="Penguin"))) == ["Ann", "Bob"]
    assert sorted(b.title for b in Book.objects.filter(tags=data["t2"])) == ["Alpha"]


def test_date_transforms(alias: str, data: dict[str, Any]) -> None:
    assert [b.title for b in Book.objects.filter(published__year=2020)] == ["Alpha"]
    assert [b.title for b in Book.objects.filter(published__month=1)] == ["Beta"]
    assert [b.title for b in Book.objects.filter(published__day=17)] == ["Alpha"]
    assert [b.title for b in Book.objects.filter(published__year__gte=2021)] == ["Beta"]


def test_exclude_and_q(alias: str, data: dict[str, Any]) -> None:
    assert names(Author.objects.exclude(age=30)) == ["Bob", "Cid_100%"]
    assert names(Author.objects.filter(Q(age__gt=40) | Q(name="Bob"))) == ["Bob", "Cid_100%"]
    assert names(Author.objects.filter(~Q(name="Ann") & Q(publisher__isnull=False))) == ["Bob"]


def test_f_expressions(alias: str, data: dict[str, Any]) -> None:
    assert [b.title for b in Book.objects.filter(pages__gt=F("author__age") * 5)] == ["Beta"]
    assert Book.objects.filter(title="Alpha").update(pages=F("pages") + 1) == 1
    assert Book.objects.get(title="Alpha").pages == 121


# -- single objects ------------------------------------------------------------


def test_get_errors(alias: str, data: dict[str, Any]) -> None:
    with pytest.raises(Author.DoesNotExist):
        Author.objects.get(name="Nobody")
    with pytest.raises(ObjectDoesNotExist):
        Author.objects.get(name="Nobody")
    with pytest.raises(Author.MultipleObjectsReturned) as info:
        Author.objects.get(publisher=data["p1"])
    assert str(info.value) == "get() returned more than one Author -- it returned 2!"
    assert isinstance(info.value, MultipleObjectsReturned)
    assert Author.objects.get_or_none(name="Nobody") is None
    assert Author.objects.get_or_none(name="Ann") == data["ann"]


def test_get_more_than_twenty(alias: str, create_tables: Any) -> None:
    create_tables(Publisher)
    Publisher.objects.bulk_create([Publisher(name="x") for _ in range(25)])
    with pytest.raises(Publisher.MultipleObjectsReturned, match="it returned more than 20!"):
        Publisher.objects.get(name="x")


def test_first_last_earliest_latest(alias: str, data: dict[str, Any]) -> None:
    assert Author.objects.first() == data["ann"]
    assert Author.objects.last() == data["cid"]
    assert Author.objects.order_by("-name").first() == data["cid"]
    assert Author.objects.filter(name="zz").first() is None
    assert Book.objects.earliest("published") in (data["b1"], data["b3"])
    assert Book.objects.filter(published__isnull=False).latest("published") == data["b2"]
    assert Book.objects.filter(published__isnull=False).earliest("published") == data["b1"]


def test_instances_remember_alias(alias: str, data: dict[str, Any]) -> None:
    obj = Author.objects.get(name="Ann")
    assert obj._state.db == alias
    assert obj._state.adding is False


# -- counting, values, aggregation -------------------------------------------------


def test_count_exists(alias: str, data: dict[str, Any]) -> None:
    assert Author.objects.count() == 3
    assert Author.objects.filter(age__gt=100).count() == 0
    assert Author.objects.filter(name="Ann").exists()
    assert not Author.objects.filter(name="zz").exists()
    assert Author.objects.none().count() == 0
    assert list(Author.objects.none()) == []
    assert Author.objects.all()[1:].count() == 2


def test_values_and_values_list(alias: str, data: dict[str, Any]) -> None:
    assert list(Author.objects.order_by("name").values("name", "age")) == [
        {"name": "Ann", "age": 30},
        {"name": "Bob", "age": None},
        {"name": "Cid_100%", "age": 50},
    ]
    assert list(Author.objects.order_by("name").values_list("name", flat=True)) == ["Ann", "Bob", "Cid_100%"]
    row = Author.objects.order_by("name").values_list("name", "publisher__name", named=True).first()
    assert (row.name, row.publisher__name) == ("Ann", "Penguin")
    assert list(Author.objects.filter(name="Bob").values_list("name", "age")) == [("Bob", None)]


def test_annotate_and_aggregate(alias: str, data: dict[str, Any]) -> None:
    counts = {p.name: p.n for p in Publisher.objects.annotate(n=dorm.Count("authors"))}
    assert counts == {"Penguin": 2, "Orbit": 0}
    agg = Book.objects.aggregate(
        total=dorm.Sum("pages"), avg=dorm.Avg("pages"), lo=dorm.Min("pages"), hi=dorm.Max("pages"), n=dorm.Count("id")
    )
    assert agg["total"] == 500 and agg["lo"] == 80 and agg["hi"] == 300 and agg["n"] == 3
    assert math.isclose(agg["avg"], 500 / 3)
    filtered = Author.objects.aggregate(n=dorm.Count("books", distinct=True, filter=Q(books__pages__gt=100)))
    assert filtered == {"n": 2}
    per_author = dict(Book.objects.values("author__name").annotate(n=dorm.Count("id")).values_list("author__name", "n"))
    assert per_author == {"Ann": 2, "Bob": 1}
    assert [p.name for p in Publisher.objects.annotate(n=dorm.Count("authors")).filter(n__gte=2)] == ["Penguin"]


def test_expressions(alias: str, data: dict[str, Any]) -> None:
    qs = Author.objects.order_by("name").annotate(
        label=dorm.Case(dorm.When(age__gte=40, then=dorm.Value("old")), default=dorm.Value("young")),
        years=dorm.Coalesce("age", dorm.Value(0)),
        upper=dorm.Upper("name"),
        lower=dorm.Lower("name"),
        n=dorm.Length("name"),
        full=dorm.Concat("name", dorm.Value("!")),
    )
    rows = [(a.label, a.years, a.upper, a.lower, a.n, a.full) for a in qs]
    assert rows[0] == ("young", 30, "ANN", "ann", 3, "Ann!")
    assert rows[1][:2] == ("young", 0)
    assert rows[2][0] == "old"
    newest = Book.objects.filter(author=dorm.OuterRef("pk")).order_by("-pages").values("title")[:1]
    top = {a.name: a.top for a in Author.objects.annotate(top=dorm.Subquery(newest))}
    assert top == {"Ann": "Beta", "Bob": "Gamma", "Cid_100%": None}
    has_books = Author.objects.filter(dorm.Exists(Book.objects.filter(author=dorm.OuterRef("pk"))))
    assert names(has_books) == ["Ann", "Bob"]
    assert [r.name for r in Author.objects.filter(age__gt=dorm.RawSQL("%s", [40]))] == ["Cid_100%"]


def test_order_by_nulls_and_reverse(alias: str, data: dict[str, Any]) -> None:
    ordered = [a.name for a in Author.objects.order_by(F("age").desc(nulls_last=True))]
    assert ordered == ["Cid_100%", "Ann", "Bob"]
    ordered = [a.name for a in Author.objects.order_by(F("age").asc(nulls_first=True))]
    assert ordered == ["Bob", "Ann", "Cid_100%"]
    assert [a.name for a in Author.objects.order_by("name").reverse()] == ["Cid_100%", "Bob", "Ann"]


def test_slicing_and_limit(alias: str, data: dict[str, Any]) -> None:
    qs = Author.objects.order_by("name")
    assert [a.name for a in qs[:2]] == ["Ann", "Bob"]
    assert [a.name for a in qs[1:3]] == ["Bob", "Cid_100%"]
    assert qs[2].name == "Cid_100%"
    assert [a.name for a in qs.limit(1)] == ["Ann"]
    with pytest.raises(IndexError):
        qs[10]


def test_distinct_union(alias: str, data: dict[str, Any]) -> None:
    assert Author.objects.filter(books__isnull=False).distinct().count() == 2
    both = Author.objects.filter(name="Ann").union(Author.objects.filter(name="Bob")).order_by("name")
    assert [a.name for a in both] == ["Ann", "Bob"]
    vals = (
        Author.objects.values_list("name", flat=True)
        .filter(age=30)
        .union(Author.objects.values_list("name", flat=True).filter(age=50))
    )
    assert sorted(vals) == ["Ann", "Cid_100%"]


def test_only_defer(alias: str, data: dict[str, Any]) -> None:
    obj = Author.objects.only("name").get(name="Ann")
    assert "age" not in obj.__dict__
    assert obj.age == 30  # loads on access
    obj = Author.objects.defer("email").get(name="Ann")
    assert "email" not in obj.__dict__ and obj.name == "Ann"


def test_in_bulk(alias: str, data: dict[str, Any]) -> None:
    found = Author.objects.in_bulk([data["ann"].pk, data["bob"].pk])
    assert set(found) == {data["ann"].pk, data["bob"].pk}
    assert found[data["ann"].pk].name == "Ann"
    assert Author.objects.in_bulk([]) == {}
    assert set(Author.objects.in_bulk(["Ann"], field_name="name")) == {"Ann"}


def test_iterator(alias: str, data: dict[str, Any]) -> None:
    assert sorted(a.name for a in Author.objects.iterator(chunk_size=2)) == ["Ann", "Bob", "Cid_100%"]


def test_result_cache(alias: str, data: dict[str, Any], count_queries: Counter) -> None:
    qs = Author.objects.all()
    assert len(qs) == 3
    list(qs)
    assert bool(qs)
    assert qs.count() == 3
    assert len(count_queries.statements) == 1


def test_raw_and_explain(alias: str, data: dict[str, Any]) -> None:
    table = Author._meta.db_table
    rows = list(Author.objects.raw(f'SELECT * FROM "{table}" WHERE age > %s ORDER BY name', [10]))
    assert [a.name for a in rows] == ["Ann", "Cid_100%"]
    assert rows[0]._state.db == alias
    assert Author.objects.filter(name="Ann").explain()


# -- relations -------------------------------------------------------------------


def test_select_related(alias: str, data: dict[str, Any], count_queries: Counter) -> None:
    books = list(Book.objects.select_related("author__publisher").order_by("title"))
    assert len(count_queries.statements) == 1
    assert [b.author.name for b in books] == ["Ann", "Ann", "Bob"]
    assert books[0].author.publisher.name == "Penguin"
    assert len(count_queries.statements) == 1
    cid_books = list(Author.objects.select_related("publisher").filter(name__startswith="Cid"))
    assert cid_books[0].publisher is None


def test_bare_select_related_warns(alias: str, data: dict[str, Any]) -> None:
    from dorm.models.query import SelectRelatedWarning

    with pytest.warns(SelectRelatedWarning, match="naming the paths|Name the paths"):
        books = list(Book.objects.select_related())
    assert {b.author.name for b in books} == {"Ann", "Bob"}
    # the suggestion names the model's own foreign keys, nullable ones included
    with pytest.warns(SelectRelatedWarning, match=r"followed .* of Author \(none\).*select_related\('publisher'\)"):
        list(Author.objects.select_related())


def test_prefetch_related(alias: str, data: dict[str, Any], count_queries: Counter) -> None:
    authors = list(Author.objects.order_by("name").prefetch_related("books", "books__tags"))
    n = len(count_queries.statements)
    assert n == 3  # authors, books, tags (joined to the through table)
    cache = authors[0].__dict__["_prefetched_objects_cache"]
    assert sorted(b.title for b in cache["books"]) == ["Alpha", "Beta"]
    alpha = next(b for b in cache["books"] if b.title == "Alpha")
    assert sorted(t.name for t in alpha.__dict__["_prefetched_objects_cache"]["tags"]) == ["fun", "sf"]
    big = list(
        Author.objects.filter(name="Ann").prefetch_related(
            dorm.Prefetch("books", queryset=Book.objects.filter(pages__gt=200), to_attr="big")
        )
    )
    assert [b.title for b in big[0].big] == ["Beta"]
    books = list(Book.objects.prefetch_related("author"))
    assert {b._state.fields_cache["author"].name for b in books} == {"Ann", "Bob"}


# -- writes -----------------------------------------------------------------------


def test_create_save_refresh(alias: str, data: dict[str, Any]) -> None:
    a = Author(name="Dee", age=20)
    assert a._state.adding
    a.save()
    assert a.pk is not None and not a._state.adding
    a.age = 21
    a.save()
    assert Author.objects.get(pk=a.pk).age == 21
    Author.objects.filter(pk=a.pk).update(age=22)
    a.refresh_from_db()
    assert a.age == 22
    a.name = "Dora"
    a.age = 99
    a.save(update_fields=["name"])
    a.refresh_from_db()
    assert (a.name, a.age) == ("Dora", 22)


def test_sliced_update_and_delete(alias: str, data: dict[str, Any]) -> None:
    assert Author.objects.order_by("name")[:2].update(age=1) == 2
    assert sorted(Author.objects.filter(age=1).values_list("name", flat=True)) == ["Ann", "Bob"]
    Review.objects.all().delete()
    deleted, _ = Book.objects.order_by("-pages")[:1].delete()
    assert deleted >= 1
    assert not Book.objects.filter(title="Beta").exists()


def test_update_validation_bypassed(alias: str, data: dict[str, Any]) -> None:
    with pytest.raises(dorm.ValidationError):
        Author(name="x", email="not-an-email")
    Author.objects.filter(name="Ann").update(email="not-an-email")
    assert Author.objects.get(name="Ann").email == "not-an-email"
    with pytest.raises(FieldError):
        Author.objects.update(nope=1)


def test_delete_cascade_protect_set_null(alias: str, data: dict[str, Any]) -> None:
    Review.objects.create(book=data["b1"], stars=5)
    with pytest.raises(dorm.ProtectedError):
        data["ann"].delete()
    assert Author.objects.filter(name="Ann").exists()
    Review.objects.all().delete()
    total, per_model = data["ann"].delete()
    assert per_model["queries.Author"] == 1 and per_model["queries.Book"] == 2
    assert not Book.objects.filter(title__in=["Alpha", "Beta"]).exists()
    data["p1"].delete()
    assert Author.objects.get(name="Bob").publisher_id is None


def test_bulk_create_and_update(alias: str, create_tables: Any, count_queries: Counter) -> None:
    create_tables(Tag, Publisher)
    objs = Publisher.objects.bulk_create([Publisher(name=f"p{i}") for i in range(10)], batch_size=4)
    assert Publisher.objects.count() == 10
    count_queries.statements.clear()
    for obj in objs:
        obj.name = obj.name.upper()
    if all(o.pk is not None for o in objs):
        Publisher.objects.bulk_update(objs, ["name"], batch_size=3)
        updates = [s for s in count_queries.statements if s.startswith("UPDATE")]
        assert len(updates) == math.ceil(10 / 3)
        assert sorted(Publisher.objects.values_list("name", flat=True)) == sorted(f"P{i}" for i in range(10))
    Tag.objects.create(name="dup")
    Tag.objects.bulk_create([Tag(name="dup"), Tag(name="new")], ignore_conflicts=True)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["dup", "new"]
    with pytest.raises(dorm.IntegrityError):
        Tag.objects.bulk_create([Tag(name="dup")])


def test_bulk_create_update_conflicts(alias: str, create_tables: Any) -> None:
    create_tables(Tag)
    Tag.objects.create(name="a")
    Tag.objects.bulk_create(
        [Tag(name="a"), Tag(name="b")], update_conflicts=True, update_fields=["name"], unique_fields=["name"]
    )
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["a", "b"]


def test_get_or_create_update_or_create(alias: str, data: dict[str, Any]) -> None:
    obj, created = Author.objects.get_or_create(name="Ann")
    assert not created and obj == data["ann"]
    obj, created = Author.objects.get_or_create(name="Eve", defaults={"age": 40})
    assert created and obj.age == 40
    obj, created = Author.objects.update_or_create(name="Eve", defaults={"age": 41})
    assert not created and Author.objects.get(name="Eve").age == 41
    obj, created = Author.objects.update_or_create(name="Fay", defaults={"age": 1})
    assert created and obj.pk is not None


# -- guards ------------------------------------------------------------------------


def test_unknown_alias(alias: str, data: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured, match="Database alias 'replica' not found"):
        Author.objects.using("replica")


def test_using(alias: str, data: dict[str, Any]) -> None:
    assert Author.objects.using(alias).count() == 3


def test_read_only_model(alias: str, create_tables: Any) -> None:
    from .models import Frozen

    create_tables(Frozen)
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.create(name="x")
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.all().update(name="y")
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.all().delete()
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.bulk_create([Frozen(name="z")])
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.get_or_create(name="z")
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.update_or_create(name="z")
    with pytest.raises(dorm.ReadOnlyModelError):
        Frozen.objects.bulk_update([], ["name"])
    assert Frozen.objects.count() == 0


def test_async_model_refuses_sync(alias: str, create_tables: Any) -> None:
    from .models import Stream

    create_tables(Stream)
    for call in (
        lambda: Stream.objects.create(name="x"),
        lambda: list(Stream.objects.all()),
        lambda: Stream.objects.count(),
        lambda: Stream.objects.get(pk=1),
        lambda: Stream.objects.filter(name="x").update(name="y"),
    ):
        with pytest.raises(dorm.AsyncOnlyError, match="^AsyncModel forbids sync access"):
            call()


def test_exclude_across_multi_valued_relation(alias: str, data: dict[str, Any]) -> None:
    # Ann has Alpha and Beta: excluding authors of "Alpha" must drop Ann despite her other book.
    assert names(Author.objects.exclude(books__title="Alpha")) == ["Bob", "Cid_100%"]
    assert names(Author.objects.exclude(books__tags__name="sf")) == ["Bob", "Cid_100%"]


def test_count_and_exists_of_derived_querysets(alias: str, data: dict[str, Any], count_queries: Counter) -> None:
    assert Author.objects.order_by("name")[1:].count() == 2
    assert Author.objects.filter(books__isnull=False).distinct().count() == 2
    assert Publisher.objects.annotate(n=dorm.Count("authors")).filter(n__gt=1).count() == 1
    assert Author.objects.filter(name="Ann").union(Author.objects.filter(name="Bob")).count() == 2
    assert Author.objects.filter(books__isnull=False).distinct().exists()
    assert not Publisher.objects.annotate(n=dorm.Count("authors")).filter(n__gt=5).exists()
    assert all("COUNT(*) FROM (" in s or "SELECT 1 FROM (" in s for s in count_queries.statements)


def test_get_or_create_conflict_keeps_transaction_usable(alias: str, create_tables: Any) -> None:
    from dorm.transaction import atomic

    create_tables(Tag)
    Tag.objects.create(name="dup")
    with atomic(using=alias):
        with pytest.raises(dorm.IntegrityError):
            Tag.objects.filter(pk__lt=0).get_or_create(name="dup")  # the get misses, the insert conflicts
        assert Tag.objects.count() == 1  # the outer transaction still works (savepoint rolled back)


def test_more_expressions(alias: str, data: dict[str, Any]) -> None:
    ratio = dorm.ExpressionWrapper(F("pages") * 1.0 / 2, output_field=dorm.FloatField())
    halves = dict(Book.objects.annotate(half=ratio).values_list("title", "half"))
    assert halves["Gamma"] == 40.0
    as_text = Book.objects.annotate(p=dorm.Cast("pages", output_field=dorm.CharField(max_length=10))).get(title="Alpha")
    assert as_text.p == "120"
    assert Book.objects.annotate(ts=dorm.Now()).first().ts is not None  # type: ignore[union-attr]
    assert Author.objects.filter(name=dorm.Value("Ann")).count() == 1
    with pytest.raises(FieldError, match="related model"):
        Book.objects.update(pages=F("author__age"))
    age = dorm.Subquery(Author.objects.filter(pk=dorm.OuterRef("author")).values("age")[:1])
    assert Book.objects.update(pages=dorm.Coalesce(age, dorm.Value(0))) == 3
    assert dict(Book.objects.values_list("title", "pages")) == {"Alpha": 30, "Beta": 30, "Gamma": 0}


def test_save_after_only_keeps_deferred_columns(alias: str, data: dict[str, Any]) -> None:
    obj = Author.objects.only("name").get(name="Ann")
    obj.name = "Anna"
    obj.save()
    fresh = Author.objects.get(pk=obj.pk)
    assert (fresh.name, fresh.age, fresh.email) == ("Anna", 30, "ann@example.com")


def test_bare_select_related_skips_nullable_fks(alias: str, data: dict[str, Any], count_queries: Counter) -> None:
    """The seed's entry: a bare select_related() does not follow a nullable FK, so it still queries per row."""
    from dorm.models.query import SelectRelatedWarning

    with pytest.warns(SelectRelatedWarning):
        books = list(Book.objects.select_related())  # follows book.author (non-null), not author.publisher (nullable)
    before = len(count_queries.statements)
    assert {b.author.name for b in books} == {"Ann", "Bob"}
    assert len(count_queries.statements) == before  # the non-null FK came with the join
    publishers = {b.author.publisher.name for b in books}
    assert publishers == {"Penguin"}
    assert len(count_queries.statements) == before + len(books)  # the nullable one: one query per row
    count_queries.statements.clear()
    named = list(Book.objects.select_related("author__publisher"))  # the fix: name the paths
    assert {b.author.publisher.name for b in named} == {"Penguin"}
    assert len(count_queries.statements) == 1


def test_distinct_ordered_by_a_related_column(alias: str, data: dict[str, Any]) -> None:
    qs = Author.objects.filter(books__isnull=False).distinct().order_by("-publisher__name", "name")
    assert [a.name for a in qs] == ["Ann", "Bob"]
    assert list(qs.values_list("name", flat=True)) == ["Ann", "Bob"]
    assert list(qs.values_list("name", "age")) == [("Ann", 30), ("Bob", None)]


def test_aggregate_of_sliced_and_distinct(alias: str, data: dict[str, Any]) -> None:
    assert Book.objects.order_by("-pages")[:2].aggregate(total=dorm.Sum("pages")) == {"total": 420}
    assert Author.objects.filter(books__isnull=False).distinct().aggregate(n=dorm.Count("id")) == {"n": 2}
