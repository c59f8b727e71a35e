"""The ORM on DuckDB: CRUD, lookups, aggregation, bulk operations, relations; sync and async."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

import dorm
from dorm.db.connections import connections


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=50, unique=True)

    class Meta:
        app_label = "duckdb_tests"
        db_table = "dk_publisher"


class Genre(dorm.Model):
    label = dorm.CharField(max_length=30)

    class Meta:
        app_label = "duckdb_tests"
        db_table = "dk_genre"


class Novel(dorm.Model):
    title = dorm.CharField(max_length=100)
    pages = dorm.IntegerField(default=0)
    price = dorm.DecimalField(max_digits=8, decimal_places=2, null=True)
    published = dorm.DateTimeField(null=True)
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.CASCADE, related_name="novels")
    genres = dorm.ManyToManyField(Genre, related_name="novels")

    class Meta:
        app_label = "duckdb_tests"
        db_table = "dk_novel"


MODELS = (Publisher, Genre, Novel)


@pytest.fixture
def orm_db(empty_db: str) -> str:
    """``default`` with the test models' tables, created by the backend's schema editor."""
    backend = connections["default"]
    conn = backend.acquire()
    try:
        with backend.schema_editor(conn) as editor:
            for model in MODELS:
                editor.create_model(model)
    finally:
        backend.release(conn)
    return empty_db


def make_library() -> tuple[Publisher, Publisher]:
    acme = Publisher.objects.create(name="Acme")
    zed = Publisher.objects.create(name="Zed Books")
    scifi, poetry = Genre.objects.create(label="scifi"), Genre.objects.create(label="poetry")
    moment = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    dune = Novel.objects.create(
        title="Dune", pages=412, price=decimal.Decimal("9.99"), published=moment, publisher=acme
    )
    Novel.objects.create(title="Hyperion", pages=482, price=decimal.Decimal("12.50"), publisher=acme)
    odes = Novel.objects.create(title="Odes 100%", pages=90, published=moment.replace(year=2019), publisher=zed)
    dune.genres.add(scifi)
    odes.genres.add(poetry, scifi)
    return acme, zed


def titles(qs: dorm.QuerySet[Novel]) -> list[str]:
    return sorted(n.title for n in qs)


def test_auto_keys_come_from_a_sequence(orm_db: str) -> None:
    first = Publisher.objects.create(name="one")
    second = Publisher.objects.create(name="two")
    assert isinstance(first.pk, int) and second.pk > first.pk
    default = dorm.get_connection().execute(
        "SELECT column_default FROM duckdb_columns() WHERE table_name = 'dk_publisher' AND column_name = 'id'"
    )
    assert "nextval" in default[0][0]


def test_crud(orm_db: str) -> None:
    acme, _ = make_library()
    novel = Novel.objects.get(title="Dune")
    assert novel.price == decimal.Decimal("9.99")
    assert novel.published == dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    novel.pages = 500
    novel.save()
    assert Novel.objects.get(pk=novel.pk).pages == 500
    assert Novel.objects.filter(publisher=acme).update(pages=dorm.F("pages") + 1) == 2
    assert Novel.objects.get(pk=novel.pk).pages == 501
    novel.delete()
    assert not Novel.objects.filter(title="Dune").exists()
    with pytest.raises(dorm.IntegrityError):
        Publisher.objects.create(name="Acme")


def test_lookups(orm_db: str) -> None:
    make_library()
    objects = Novel.objects
    assert titles(objects.filter(title__contains="100%")) == ["Odes 100%"]
    assert titles(objects.filter(title__contains="%")) == ["Odes 100%"]  # % is literal
    assert titles(objects.filter(title__icontains="DUNE")) == ["Dune"]
    assert titles(objects.filter(title__contains="DUNE")) == []  # LIKE is case-sensitive
    assert titles(objects.filter(title__istartswith="hyp")) == ["Hyperion"]
    assert titles(objects.filter(title__endswith="ion")) == ["Hyperion"]
    assert titles(objects.filter(title__iexact="dune")) == ["Dune"]
    assert titles(objects.filter(title__regex=r"^[DH]")) == ["Dune", "Hyperion"]
    assert titles(objects.filter(title__iregex=r"^odes")) == ["Odes 100%"]
    assert titles(objects.filter(pages__gt=400, pages__lt=450)) == ["Dune"]
    assert titles(objects.filter(pages__in=[90, 482])) == ["Hyperion", "Odes 100%"]
    assert titles(objects.filter(price__isnull=True)) == ["Odes 100%"]
    assert titles(objects.filter(published__year=2019)) == ["Odes 100%"]
    assert titles(objects.filter(published__month=3, published__day=1)) == ["Dune", "Odes 100%"]
    assert titles(objects.filter(publisher__name__startswith="Zed")) == ["Odes 100%"]
    assert titles(objects.exclude(title="Dune")) == ["Hyperion", "Odes 100%"]
    assert titles(objects.filter(dorm.Q(pages__lt=100) | dorm.Q(title="Dune"))) == ["Dune", "Odes 100%"]
    assert [n.title for n in objects.order_by("-pages")[:2]] == ["Hyperion", "Dune"]
    assert [n.title for n in objects.order_by("pages")[1:]] == ["Dune", "Hyperion"]


def test_aggregation(orm_db: str) -> None:
    make_library()
    totals = Novel.objects.aggregate(n=dorm.Count("id"), pages=dorm.Sum("pages"), longest=dorm.Max("pages"))
    assert totals == {"n": 3, "pages": 412 + 482 + 90, "longest": 482}
    per_publisher = {p.name: p.n for p in Publisher.objects.annotate(n=dorm.Count("novels"))}
    assert per_publisher == {"Acme": 2, "Zed Books": 1}
    avg = Novel.objects.filter(publisher__name="Acme").aggregate(avg=dorm.Avg("pages"))["avg"]
    assert avg == pytest.approx((412 + 482) / 2)


def test_bulk_create_returns_keys_and_handles_conflicts(orm_db: str) -> None:
    created = Publisher.objects.bulk_create([Publisher(name=f"p{i}") for i in range(5)])
    assert all(p.pk is not None for p in created)
    assert len({p.pk for p in created}) == 5
    assert Publisher.objects.count() == 5
    Publisher.objects.bulk_create([Publisher(name="p0"), Publisher(name="new")], ignore_conflicts=True)
    assert Publisher.objects.count() == 6
    assert connections["default"].features.supports_update_conflicts


def test_select_related_and_prefetch_related(orm_db: str) -> None:
    make_library()
    from pytest_djanorm.queries import assert_num_queries

    with assert_num_queries(1):
        pairs = sorted((n.title, n.publisher.name) for n in Novel.objects.select_related("publisher"))
    assert pairs == [("Dune", "Acme"), ("Hyperion", "Acme"), ("Odes 100%", "Zed Books")]
    with assert_num_queries(2):
        by_publisher = {
            p.name: sorted(n.title for n in p.novels.all()) for p in Publisher.objects.prefetch_related("novels")
        }
    assert by_publisher == {"Acme": ["Dune", "Hyperion"], "Zed Books": ["Odes 100%"]}
    with assert_num_queries(2):
        genres = {n.title: sorted(g.label for g in n.genres.all()) for n in Novel.objects.prefetch_related("genres")}
    assert genres == {"Dune": ["scifi"], "Hyperion": [], "Odes 100%": ["poetry", "scifi"]}


def test_cascade_delete_is_done_by_the_orm(orm_db: str) -> None:
    acme, _ = make_library()
    acme.delete()
    assert titles(Novel.objects.all()) == ["Odes 100%"]


async def test_async_orm(orm_db: str) -> None:
    acme = await Publisher.objects.acreate(name="Async House")
    await Novel.objects.acreate(title="A", pages=10, publisher=acme)
    await Novel.objects.acreate(title="B", pages=20, publisher=acme)
    assert await Novel.objects.filter(publisher=acme).acount() == 2
    got = await Novel.objects.select_related("publisher").aget(title="B")
    assert got.publisher.name == "Async House"
    assert (await Novel.objects.aaggregate(total=dorm.Sum("pages")))["total"] == 30
    assert await Novel.objects.filter(title="A").aupdate(pages=11) == 1
    made = await Publisher.objects.abulk_create([Publisher(name="x"), Publisher(name="y")])
    assert all(p.pk is not None for p in made)
    assert sorted([n.title async for n in Novel.objects.filter(pages__gte=11)]) == ["A", "B"]
    await Novel.objects.filter(title="A").adelete()
    assert await Novel.objects.acount() == 1


def test_distinct_on_update_conflicts_explain(orm_db: str) -> None:
    make_library()
    firsts = [
        (n.publisher_id, n.title) for n in Novel.objects.order_by("publisher_id", "title").distinct("publisher_id")
    ]
    assert [title for _, title in firsts] == ["Dune", "Odes 100%"]
    Publisher.objects.bulk_create(
        [Publisher(name="Acme"), Publisher(name="Brand New")],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["name"],
    )
    assert sorted(Publisher.objects.values_list("name", flat=True)) == ["Acme", "Brand New", "Zed Books"]
    assert "physical_plan" in Novel.objects.filter(pages__gt=100).explain()


def test_unsupported_things_say_so(orm_db: str) -> None:
    with pytest.raises(dorm.NotSupportedError, match="select_for_update"):
        list(Novel.objects.select_for_update())
    with pytest.raises(dorm.NotSupportedError, match="partial indexes"):
        dorm.get_connection().execute('CREATE INDEX "dk_novel_partial" ON "dk_novel" ("pages") WHERE "pages" > 0')
