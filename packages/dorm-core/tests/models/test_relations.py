"""Relations on real databases: forward/reverse FK, one-to-one, many-to-many
(auto and explicit through), related managers (sync and async), lazy string
references, and relation access inside a running event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dorm
from dorm import signals


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "reltests"


class Writer(dorm.Model):
    name = dorm.CharField(max_length=50)
    # string reference to a model defined further down
    favourite = dorm.ForeignKey("Label", on_delete=dorm.SET_NULL, null=True, related_name="fans")

    class Meta:
        app_label = "reltests"


class Label(dorm.Model):
    name = dorm.CharField(max_length=20)

    class Meta:
        app_label = "reltests"


class Novel(dorm.Model):
    title = dorm.CharField(max_length=100)
    writer = dorm.ForeignKey(Writer, on_delete=dorm.CASCADE, related_name="novels")
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.SET_NULL, null=True, blank=True)
    labels = dorm.ManyToManyField(Label, related_name="novels")

    class Meta:
        app_label = "reltests"


class Passport(dorm.Model):
    writer = dorm.OneToOneField(Writer, on_delete=dorm.CASCADE, related_name="passport")
    number = dorm.CharField(max_length=20)

    class Meta:
        app_label = "reltests"


class Person(dorm.Model):
    name = dorm.CharField(max_length=20)
    boss = dorm.ForeignKey("self", on_delete=dorm.SET_NULL, null=True, related_name="reports")
    friends = dorm.ManyToManyField("self", related_name="befriended_by")

    class Meta:
        app_label = "reltests"


class Club(dorm.Model):
    name = dorm.CharField(max_length=20)
    members = dorm.ManyToManyField("reltests.Person", through="Membership", related_name="clubs")

    class Meta:
        app_label = "reltests"


class Membership(dorm.Model):
    club = dorm.ForeignKey(Club, on_delete=dorm.CASCADE)
    person = dorm.ForeignKey(Person, on_delete=dorm.CASCADE)
    role = dorm.CharField(max_length=20, default="member")

    class Meta:
        app_label = "reltests"
        unique_together = [("club", "person")]


ALL = (Publisher, Label, Writer, Novel, Passport, Person, Club, Membership)


@pytest.fixture
def tables(create_tables: Callable[..., None]) -> None:
    create_tables(*ALL)  # in dependency order: foreign keys are declared inline


# --------------------------------------------------------------------------
# metadata (no database)
# --------------------------------------------------------------------------


def test_lazy_string_reference_resolved() -> None:
    field = Writer._meta.get_field("favourite")
    assert field.related_model is Label
    assert field.attname == "favourite_id"
    assert Label._meta.get_field("fans").related_model is Writer


def test_reverse_relations_and_accessors() -> None:
    rels = {r.get_accessor_name(): r for r in Writer._meta.related_objects if not r.hidden}
    assert set(rels) >= {"novels", "passport"}
    assert rels["novels"].one_to_many and rels["passport"].one_to_one
    assert Publisher._meta.get_field("novel").related_model is Novel  # default query name: model name
    assert [r.get_accessor_name() for r in Publisher._meta.related_objects] == ["novel_set"]


def test_auto_through_model() -> None:
    field = Novel._meta.get_field("labels")
    through = field.through
    assert through.__name__ == "Novel_labels"
    assert through._meta.db_table == "reltests_novel_labels"
    assert through._meta.auto_created is Novel
    assert [f.name for f in through._meta.fields] == ["id", "novel", "label"]
    assert through._meta.unique_together == (("novel", "label"),)
    source, target = field.m2m_fields()
    assert (source.name, target.name) == ("novel", "label")
    assert dorm.models.apps.get_model("reltests", "novel_labels") is through


def test_self_referential_m2m_through_names() -> None:
    through = Person._meta.get_field("friends").through
    assert [f.name for f in through._meta.fields] == ["id", "from_person", "to_person"]


def test_explicit_through() -> None:
    field = Club._meta.get_field("members")
    assert field.through is Membership
    assert [f.name for f in field.m2m_fields()] == ["club", "person"]


def test_two_relations_with_one_reverse_accessor_are_refused() -> None:
    # Without the check the second FK silently took publisher.shipment_set over from the first.
    class Depot(dorm.Model):
        class Meta:
            app_label = "clashtests"

    with pytest.raises(dorm.ImproperlyConfigured) as caught:

        class Shipment(dorm.Model):
            origin = dorm.ForeignKey(Depot, on_delete=dorm.CASCADE)
            destination = dorm.ForeignKey(Depot, on_delete=dorm.CASCADE)

            class Meta:
                app_label = "clashtests"

    message = str(caught.value)
    assert "Depot.shipment_set" in message and "Shipment.destination" in message and "Shipment.origin" in message
    assert "related_name" in message
    dorm.models.apps.all_models.pop("clashtests", None)


def test_related_name_resolves_the_clash_and_redefinition_is_not_one() -> None:
    def define() -> tuple[type[dorm.Model], type[dorm.Model]]:
        class Hub(dorm.Model):
            class Meta:
                app_label = "clashtests2"

        class Route(dorm.Model):
            origin = dorm.ForeignKey(Hub, on_delete=dorm.CASCADE)
            destination = dorm.ForeignKey(Hub, on_delete=dorm.CASCADE, related_name="arrivals")

            class Meta:
                app_label = "clashtests2"

        return Hub, Route

    hub, route = define()
    assert hub.route_set.rel.field is route._meta.get_field("origin")  # type: ignore[attr-defined]
    assert hub.arrivals.rel.field is route._meta.get_field("destination")  # type: ignore[attr-defined]
    dorm.models.apps.all_models.pop("clashtests2", None)


def test_self_m2m_without_related_name_leaves_the_reverse_accessor_to_the_fk() -> None:
    # Valid in Django (a symmetrical M2M to self has no reverse accessor): it must not be refused,
    # and node.node_set must stay the reverse of the foreign key.
    class Node(dorm.Model):
        parent = dorm.ForeignKey("self", on_delete=dorm.CASCADE, null=True)
        links = dorm.ManyToManyField("self")

        class Meta:
            app_label = "clashtests3"

    assert Node.node_set.rel.field is Node._meta.get_field("parent")  # type: ignore[attr-defined]
    dorm.models.apps.all_models.pop("clashtests3", None)


def test_forward_assignment_checks_type() -> None:
    novel = Novel(title="x")
    with pytest.raises(dorm.ValidationError, match='"Novel.writer" must be a "Writer" instance'):
        novel.writer = Publisher(name="p")  # type: ignore[assignment]
    with pytest.raises(dorm.ValidationError, match="To assign a key, set writer_id=3"):
        novel.writer = 3  # type: ignore[assignment]


def test_m2m_direct_assignment_is_refused() -> None:
    novel = Novel(title="x")
    with pytest.raises(TypeError, match="Use labels.set"):
        novel.labels = []
    with pytest.raises(TypeError, match="cannot set the relation 'labels' at construction"):
        Novel(title="x", labels=[])


# --------------------------------------------------------------------------
# forward FK
# --------------------------------------------------------------------------


def test_forward_fk_assignment_and_query(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    novel = Novel(title="One", writer=writer)
    assert novel.writer_id == writer.pk
    assert novel.writer is writer  # cached, no query
    novel.save()
    loaded = Novel.objects.get(pk=novel.pk)
    assert "writer" not in loaded._state.fields_cache
    assert loaded.writer == writer
    assert loaded.writer.name == "Ann"
    assert loaded.writer is loaded.writer  # cached after the first read
    assert loaded.writer._state.db == alias
    assert loaded.publisher is None


def test_changing_the_key_drops_the_cached_object(alias: str, tables: None) -> None:
    ann = Writer.objects.create(name="Ann")
    bob = Writer.objects.create(name="Bob")
    novel = Novel.objects.create(title="One", writer=ann)
    novel.writer_id = bob.pk
    assert novel.writer == bob
    novel.writer_id = str(ann.pk)  # coerced with the target key's rules
    assert novel.writer_id == ann.pk
    with pytest.raises(dorm.ValidationError, match="must be an integer"):
        novel.writer_id = "abc"


def test_unsaved_related_object_is_refused_on_save(alias: str, tables: None) -> None:
    writer = Writer(name="Unsaved")
    novel = Novel(title="x", writer=writer)
    with pytest.raises(
        ValueError, match="save\\(\\) prohibited to prevent data loss due to unsaved related object 'writer'"
    ):
        novel.save()
    writer.save()
    novel.save()  # the key is taken from the now-saved object
    assert Novel.objects.get(pk=novel.pk).writer_id == writer.pk


def test_select_related_fills_the_cache(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    Novel.objects.create(title="One", writer=writer)
    novel = Novel.objects.select_related("writer").get(title="One")
    assert novel._state.fields_cache["writer"] == writer


# --------------------------------------------------------------------------
# reverse FK manager
# --------------------------------------------------------------------------


def test_reverse_fk_manager(alias: str, tables: None) -> None:
    ann = Writer.objects.create(name="Ann")
    bob = Writer.objects.create(name="Bob")
    one = Novel.objects.create(title="One", writer=ann)
    Novel.objects.create(title="Two", writer=ann)
    Novel.objects.create(title="Three", writer=bob)
    assert sorted(n.title for n in ann.novels.all()) == ["One", "Two"]
    assert ann.novels.count() == 2
    assert ann.novels.filter(title="One").get() == one
    created = ann.novels.create(title="Four")
    assert created.writer_id == ann.pk and created._state.adding is False
    assert ann.novels.count() == 3
    # add moves a row from another writer
    three = Novel.objects.get(title="Three")
    ann.novels.add(three)
    assert three.writer_id == ann.pk
    assert bob.novels.count() == 0 and ann.novels.count() == 4
    obj, made = ann.novels.get_or_create(title="Five")
    assert made and obj.writer_id == ann.pk
    assert ann.novels.get_or_create(title="Five") == (obj, False)


def test_reverse_fk_remove_requires_nullable(alias: str, tables: None) -> None:
    ann = Writer.objects.create(name="Ann")
    novel = Novel.objects.create(title="One", writer=ann)
    with pytest.raises(TypeError, match="is not nullable"):
        ann.novels.remove(novel)
    with pytest.raises(TypeError, match="is not nullable"):
        ann.novels.clear()


def test_reverse_fk_nullable_remove_clear_set(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    pub = Publisher.objects.create(name="P")
    a = Novel.objects.create(title="A", writer=writer, publisher=pub)
    b = Novel.objects.create(title="B", writer=writer, publisher=pub)
    c = Novel.objects.create(title="C", writer=writer)
    pub.novel_set.remove(a)
    assert a.publisher_id is None
    assert list(pub.novel_set.all()) == [b]
    pub.novel_set.set([a, c])
    assert sorted(n.title for n in pub.novel_set.all()) == ["A", "C"]
    pub.novel_set.clear()
    assert pub.novel_set.count() == 0
    assert Novel.objects.filter(publisher__isnull=True).count() == 3
    other = Writer.objects.create(name="Other")
    with pytest.raises(Novel.DoesNotExist, match="is not related"):
        pub.novel_set.remove(Novel.objects.create(title="D", writer=other))


def test_reverse_manager_on_unsaved_instance(alias: str, tables: None) -> None:
    with pytest.raises(ValueError, match="needs a primary key value before the relation 'novels' can be used"):
        Writer(name="x").novels.count()


def test_reverse_assignment_is_refused() -> None:
    with pytest.raises(TypeError, match="Use novels.set"):
        Writer(name="x").novels = []


def test_prefetch_cache_is_used(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    Novel.objects.create(title="One", writer=writer)
    loaded = Writer.objects.prefetch_related("novels").get(pk=writer.pk)
    assert "novels" in loaded._prefetched_objects_cache
    Novel.objects.create(title="Two", writer=writer)
    assert [n.title for n in loaded.novels.all()] == ["One"]  # from the prefetch, no query
    loaded.novels.create(title="Three")  # a write forgets the prefetched list
    assert loaded.novels.count() == 3


# --------------------------------------------------------------------------
# one-to-one
# --------------------------------------------------------------------------


def test_one_to_one_both_ways(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    with pytest.raises(Passport.DoesNotExist):
        writer.passport  # noqa: B018
    with pytest.raises(AttributeError):  # RelatedObjectDoesNotExist is also an AttributeError
        writer.passport  # noqa: B018
    assert not hasattr(Writer.objects.get(pk=writer.pk), "passport")
    passport = Passport.objects.create(writer=writer, number="X1")
    fresh = Writer.objects.get(pk=writer.pk)
    assert fresh.passport == passport
    assert fresh.passport.writer is fresh  # back-reference cached
    assert Passport.objects.get(pk=passport.pk).writer == writer
    with pytest.raises(dorm.IntegrityError):
        Passport.objects.create(writer=writer, number="X2")


# --------------------------------------------------------------------------
# many-to-many
# --------------------------------------------------------------------------


def test_many_to_many_manager(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    novel = Novel.objects.create(title="One", writer=writer)
    scifi, crime, drama = (Label.objects.create(name=n) for n in ("scifi", "crime", "drama"))
    novel.labels.add(scifi, crime)
    novel.labels.add(scifi)  # already linked: no duplicate, no error
    assert sorted(novel.labels.values_list("name", flat=True)) == ["crime", "scifi"]
    assert list(scifi.novels.all()) == [novel]
    novel.labels.remove(crime)
    assert list(novel.labels.all()) == [scifi]
    novel.labels.set([crime, drama])
    assert sorted(novel.labels.values_list("name", flat=True)) == ["crime", "drama"]
    novel.labels.add(scifi.pk)  # keys work too
    assert novel.labels.count() == 3
    new = novel.labels.create(name="new")
    assert new.pk is not None and novel.labels.filter(name="new").exists()
    drama.novels.clear()
    assert not novel.labels.filter(name="drama").exists()
    novel.labels.clear()
    assert novel.labels.count() == 0
    assert Novel._meta.get_field("labels").through.objects.count() == 0


def test_m2m_filter_across_relation(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    one = Novel.objects.create(title="One", writer=writer)
    Novel.objects.create(title="Two", writer=writer)
    one.labels.add(Label.objects.create(name="scifi"))
    assert list(Novel.objects.filter(labels__name="scifi")) == [one]
    assert list(Label.objects.filter(novels__title="One").values_list("name", flat=True)) == ["scifi"]


def test_self_referential_relations(alias: str, tables: None) -> None:
    boss = Person.objects.create(name="boss")
    ann = Person.objects.create(name="ann", boss=boss)
    bob = Person.objects.create(name="bob", boss=boss)
    assert sorted(p.name for p in boss.reports.all()) == ["ann", "bob"]
    ann.friends.add(bob)
    assert list(ann.friends.all()) == [bob]
    assert list(bob.befriended_by.all()) == [ann]
    assert list(bob.friends.all()) == []  # not symmetrical


def test_explicit_through_with_defaults(alias: str, tables: None) -> None:
    club = Club.objects.create(name="chess")
    ann = Person.objects.create(name="ann")
    club.members.add(ann, through_defaults={"role": "captain"})
    assert list(club.members.all()) == [ann]
    assert Membership.objects.get(club=club, person=ann).role == "captain"
    assert list(ann.clubs.all()) == [club]


def test_m2m_changed_signal(alias: str, tables: None) -> None:
    seen: list[tuple[str, Any, bool]] = []

    def record(sender: Any, instance: Any, action: str, pk_set: Any, reverse: bool, **kwargs: Any) -> None:
        seen.append((action, set(pk_set) if pk_set is not None else None, reverse))

    through = Novel._meta.get_field("labels").through
    signals.m2m_changed.connect(record, sender=through)
    try:
        writer = Writer.objects.create(name="Ann")
        novel = Novel.objects.create(title="One", writer=writer)
        a, b = Label.objects.create(name="a"), Label.objects.create(name="b")
        novel.labels.add(a, b)
        novel.labels.remove(a)
        b.novels.clear()
    finally:
        signals.m2m_changed.disconnect(record, sender=through)
    assert seen == [
        ("pre_add", {a.pk, b.pk}, False),
        ("post_add", {a.pk, b.pk}, False),
        ("pre_remove", {a.pk}, False),
        ("post_remove", {a.pk}, False),
        ("pre_clear", None, True),
        ("post_clear", None, True),
    ]


def test_cascade_through_relations(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    novel = Novel.objects.create(title="One", writer=writer)
    novel.labels.add(Label.objects.create(name="x"))
    Passport.objects.create(writer=writer, number="1")
    writer.delete()
    assert Novel.objects.count() == 0
    assert Passport.objects.count() == 0
    assert Novel._meta.get_field("labels").through.objects.count() == 0
    assert Label.objects.count() == 1


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


async def test_unloaded_relations_inside_a_loop(alias: str, tables: None) -> None:
    writer = await Writer.objects.acreate(name="Ann")
    novel = await Novel.objects.acreate(title="One", writer=writer)
    loaded = await Novel.objects.aget(pk=novel.pk)
    with pytest.raises(
        dorm.UnloadedRelationError, match=r"select_related\('writer'\).*afetch_related\('writer'\)"
    ) as info:
        loaded.writer  # noqa: B018
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value, dorm.SyncInAsyncContextError)
    assert "this event loop is already running" in str(info.value)
    fresh_writer = await Writer.objects.aget(pk=writer.pk)
    with pytest.raises(dorm.UnloadedRelationError, match="passport"):
        fresh_writer.passport  # noqa: B018
    await loaded.afetch_related("writer", "labels")
    assert loaded.writer == writer
    joined = await Novel.objects.select_related("writer").aget(pk=novel.pk)
    assert joined.writer.name == "Ann"


async def test_async_related_managers(alias: str, tables: None) -> None:
    writer = await Writer.objects.acreate(name="Ann")
    novel = await writer.novels.acreate(title="One")
    assert novel.writer_id == writer.pk
    assert await writer.novels.acount() == 1
    assert [n.title async for n in writer.novels.all()] == ["One"]
    a = await Label.objects.acreate(name="a")
    b = await Label.objects.acreate(name="b")
    await novel.labels.aadd(a, b)
    assert await novel.labels.acount() == 2
    await novel.labels.aremove(a)
    assert [x.name async for x in novel.labels.all()] == ["b"]
    await novel.labels.aset([a])
    assert [x.name async for x in novel.labels.all()] == ["a"]
    c = await novel.labels.acreate(name="c")
    assert await c.novels.acount() == 1
    await novel.labels.aclear()
    assert await novel.labels.acount() == 0
    pub = await Publisher.objects.acreate(name="P")
    await pub.novel_set.aadd(novel)
    assert await pub.novel_set.acount() == 1
    await pub.novel_set.aclear()
    assert await pub.novel_set.acount() == 0
    obj, created = await writer.novels.aget_or_create(title="Two")
    assert created and obj.writer_id == writer.pk


async def test_async_m2m_changed_awaits_async_receivers(alias: str, tables: None) -> None:
    seen: list[str] = []

    async def on_change(sender: Any, action: str, **kwargs: Any) -> None:
        seen.append(action)

    through = Novel._meta.get_field("labels").through
    signals.m2m_changed.connect(on_change, sender=through)
    try:
        writer = await Writer.objects.acreate(name="Ann")
        novel = await Novel.objects.acreate(title="One", writer=writer)
        label = await Label.objects.acreate(name="a")
        await novel.labels.aadd(label)
    finally:
        signals.m2m_changed.disconnect(on_change, sender=through)
    assert seen == ["pre_add", "post_add"]


# --------------------------------------------------------------------------
# what relation loads tell the query engine
# --------------------------------------------------------------------------


class _Origins:
    """A statement wrapper recording ``Statement.origin``."""

    def __init__(self) -> None:
        self.origins: list[str | None] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Any) -> Any:
        self.origins.append(statement.origin)
        yield


def test_lazy_loads_name_their_origin(alias: str, tables: None) -> None:
    from dorm.plugins import kernel

    writer = Writer.objects.create(name="Ann")
    novel = Novel.objects.create(title="One", writer=writer)
    Passport.objects.create(writer=writer, number="1")
    fresh = Novel.objects.get(pk=novel.pk)
    fresh_writer = Writer.objects.get(pk=writer.pk)
    capture = _Origins()
    kernel.register(capture)
    try:
        fresh.writer  # noqa: B018
        fresh_writer.passport  # noqa: B018
        list(fresh_writer.novels.all())
        list(fresh.labels.all())
    finally:
        kernel.unregister(capture)
    assert capture.origins == ["Novel.writer", "Writer.passport", "Writer.novels", "Novel.labels"]


def test_reverse_rows_know_their_parent(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    Novel.objects.create(title="One", writer=writer)
    Novel.objects.create(title="Two", writer=writer)
    novels = list(writer.novels.all())
    assert len(novels) == 2
    assert all(n._state.fields_cache["writer"] is writer for n in novels)


def test_deferred_foreign_key_loads_then_follows(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    Novel.objects.create(title="One", writer=writer)
    novel = Novel.objects.only("title").get(title="One")
    assert "writer_id" in novel.get_deferred_fields()
    assert novel.writer_id == writer.pk  # loads the key
    assert novel.writer == writer  # then the object


def test_related_managers_have_async_twins() -> None:
    """Every public method a related manager class adds has an ``a*`` twin with the same parameters."""
    import inspect

    reverse = type(Writer(pk=1).novels)
    many = type(Novel(pk=1).labels)
    for manager_class in (reverse, many):
        own = {n for n, v in vars(manager_class).items() if callable(v) and not n.startswith("_")}
        sync = {n for n in own if not inspect.iscoroutinefunction(vars(manager_class)[n]) and n != "get_queryset"}
        assert sync, manager_class
        for name in sorted(sync):
            twin = vars(manager_class).get("a" + name)
            assert twin is not None and inspect.iscoroutinefunction(twin), (
                f"{manager_class.__qualname__}.{name} has no async twin"
            )
            assert list(inspect.signature(twin).parameters) == list(
                inspect.signature(vars(manager_class)[name]).parameters
            ), name


def test_m2m_get_or_create_and_update_or_create(alias: str, tables: None) -> None:
    writer = Writer.objects.create(name="Ann")
    novel = Novel.objects.create(title="One", writer=writer)
    label, created = novel.labels.get_or_create(name="scifi")
    assert created and list(novel.labels.all()) == [label]
    again, created = novel.labels.get_or_create(name="scifi")
    assert again == label and not created and novel.labels.count() == 1
    updated, created = novel.labels.update_or_create(name="scifi", defaults={"name": "sf"})
    assert not created and updated.name == "sf" and novel.labels.get().name == "sf"


def test_validate_unique_with_foreign_keys(alias: str, tables: None) -> None:
    club = Club.objects.create(name="chess")
    ann = Person.objects.create(name="ann")
    Membership.objects.create(club=club, person=ann)
    with pytest.raises(dorm.ValidationError, match="Membership with this club and person already exists"):
        Membership(club=club, person=ann).full_clean()
    Membership(club=club, person=Person.objects.create(name="bob")).full_clean()


def test_key_and_object_together_is_refused() -> None:
    writer = Writer(pk=1, name="Ann")
    with pytest.raises(TypeError, match="multiple values for 'writer' \\(given as both 'writer' and 'writer_id'\\)"):
        Novel(title="x", writer=writer, writer_id=1)
    assert Novel(title="x", writer_id=1).writer_id == 1
