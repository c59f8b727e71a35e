"""on_delete variants, select_for_update, custom managers, auto_now, repr."""

from __future__ import annotations

from typing import Any

import pytest

import dorm
from dorm.transaction import atomic

from .models import Author, Owner, Person, Pet, Publisher, Stamped


@pytest.fixture
def pets(create_tables: Any) -> dict[str, Any]:
    create_tables(Owner, Pet)
    o1, o2, o3 = (Owner.objects.create(name=n) for n in ("r", "d", "s"))
    Pet.objects.create(name="rex", restricted=o1)
    Pet.objects.create(name="dot", defaulted=o2)
    Pet.objects.create(name="sam", setter=o3)
    return {"r": o1, "d": o2, "s": o3}


def test_restrict_set_default_set(alias: str, pets: dict[str, Any]) -> None:
    with pytest.raises(dorm.RestrictedError, match="RESTRICT"):
        pets["r"].delete()
    assert Owner.objects.filter(name="r").exists()
    pets["d"].delete()
    assert Pet.objects.get(name="dot").defaulted_id is None
    pets["s"].delete()
    assert Pet.objects.get(name="sam").setter_id is None
    assert Pet.objects.count() == 3


def test_select_for_update(alias: str, create_tables: Any, backend: Any) -> None:
    create_tables(Publisher)
    Publisher.objects.create(name="x")
    qs = Publisher.objects.select_for_update().filter(name="x")
    if not backend.features.supports_select_for_update:
        with pytest.raises(dorm.NotSupportedError):
            list(qs)
        return
    with atomic(using=alias):
        assert [p.name for p in qs] == ["x"]
        assert [p.name for p in Publisher.objects.select_for_update(skip_locked=True, of=("self",))] == ["x"]


def test_custom_manager_from_queryset(alias: str, create_tables: Any) -> None:
    create_tables(Person)
    Person.objects.bulk_create([Person(name="kid", age=5), Person(name="adult", age=40)])
    assert [p.name for p in Person.objects.adults()] == ["adult"]
    assert [p.name for p in Person.objects.filter(name__startswith="a").adults()] == ["adult"]


def test_manager_not_reachable_from_instances(alias: str) -> None:
    with pytest.raises(AttributeError, match="Manager isn't accessible via Author instances"):
        Author(name="x").objects  # noqa: B018


def test_auto_now(alias: str, create_tables: Any) -> None:
    create_tables(Stamped)
    s = Stamped.objects.create(name="a")
    assert s.created is not None and s.updated is not None
    first_updated = s.updated
    s.name = "b"
    s.save()
    assert s.updated >= first_updated
    fresh = Stamped.objects.get(pk=s.pk)
    assert fresh.created is not None and fresh.updated >= fresh.created
    assert Stamped.objects.filter(pk=s.pk).values_list("name", flat=True).get() == "b"


def test_repr(alias: str, create_tables: Any) -> None:
    create_tables(Publisher)
    assert repr(Publisher.objects.all()) == "<QuerySet []>"
    x = Publisher.objects.create(name="x")
    qs = Publisher.objects.all()
    assert repr(qs) == f"<QuerySet [{x!r}]>"
    assert qs._result_cache is None  # repr ran its own LIMIT 21 query, like Django
    for i in range(25):
        Publisher.objects.create(name=f"p{i}")
    text = repr(Publisher.objects.all())
    assert text.count("<Publisher") == 20 and text.endswith("...(remaining elements truncated)...]>")


def test_repr_inside_a_running_loop_does_not_query(alias: str, create_tables: Any) -> None:
    import asyncio

    create_tables(Publisher)
    Publisher.objects.create(name="x")

    async def inside_the_loop() -> tuple[str, str]:
        unevaluated = repr(Publisher.objects.all())
        qs = Publisher.objects.all()
        await qs
        return unevaluated, repr(qs)

    unevaluated, evaluated = asyncio.run(inside_the_loop())
    assert "not evaluated" in unevaluated
    assert evaluated.startswith("<QuerySet [<Publisher")


def test_db_default_on_save_and_bulk_create(alias: str, create_tables: Any) -> None:
    from .models import Counter

    create_tables(Counter)
    one = Counter.objects.create(name="one")
    assert one.hits == 7
    many = Counter.objects.bulk_create([Counter(name="a"), Counter(name="b", hits=1)])
    assert sorted(Counter.objects.values_list("name", "hits")) == [("a", 7), ("b", 1), ("one", 7)]
    assert many[0].hits == 7 and many[1].hits == 1


def test_routers_pick_read_and_write_aliases(alias: str, create_tables: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dorm.db.router import router

    if alias != "sqlite":
        pytest.skip("needs two aliases on one database: 'default' and 'sqlite' share the SQLite test file")
    create_tables(Publisher)
    active = router.routers[0]
    monkeypatch.setattr(active, "db_for_write", lambda model, **hints: "default")
    monkeypatch.setattr(active, "db_for_read", lambda model, **hints: "sqlite")
    created = Publisher.objects.create(name="routed")
    assert created._state.db == "default"
    loaded = Publisher.objects.get(name="routed")
    assert loaded._state.db == "sqlite"
    assert Publisher.objects.using("default").get(name="routed")._state.db == "default"
    monkeypatch.setattr(active, "db_for_read", lambda model, **hints: "replica")
    with pytest.raises(dorm.ImproperlyConfigured, match="Database alias 'replica' not found"):
        Publisher.objects.count()


class StampPlugin:
    """A plugin using dorm_query_pre_compile the way tenancy does: filter reads, stamp inserts."""

    @dorm.hookimpl
    def dorm_query_pre_compile(self, query: Any, alias: str) -> None:
        if query.model is not Author:
            return
        if query.kind == "insert":
            query.add_insert_value("age", 77)
        else:
            query.add_q(dorm.Q(age=77))


def test_pre_compile_hook_filters_and_stamps(alias: str, create_tables: Any) -> None:
    from dorm import plugins

    create_tables(Publisher, Author)
    Author.objects.create(name="outside", age=1)
    plugin = StampPlugin()
    plugins.kernel.register(plugin)
    try:
        Author.objects.create(name="inside")
        Author.objects.bulk_create([Author(name="bulk")])
        assert sorted(a.name for a in Author.objects.all()) == ["bulk", "inside"]
        assert Author.objects.filter(name="outside").count() == 0
        assert Author.objects.get_or_none(name="outside") is None
        assert Author.objects.filter(name="outside").update(name="x") == 0
    finally:
        plugins.kernel.unregister(plugin)
    assert Author.objects.count() == 3
