"""Model definition: Meta options, _meta tables, abstract inheritance, registry, identity."""

from __future__ import annotations

import pickle

import pytest

import dorm
from dorm.models import apps
from dorm.models.base import ModelState


class Author(dorm.Model):
    name = dorm.CharField(max_length=50)
    email = dorm.EmailField(null=True, blank=True)

    class Meta:
        app_label = "defs"
        ordering = ["name"]


class Stamped(dorm.Model):
    created = dorm.DateTimeField(auto_now_add=True)
    note = dorm.CharField(max_length=20, default="n/a")

    class Meta:
        abstract = True
        app_label = "defs"
        ordering = ["-created"]
        indexes = [dorm.Index(fields=["created"], name="%(class)s_created_idx")]


class Post(Stamped):
    title = dorm.CharField(max_length=100)


class Comment(Stamped):
    body = dorm.TextField()

    class Meta:
        app_label = "defs"
        db_table = "comments"


def test_meta_defaults() -> None:
    meta = Author._meta
    assert meta.app_label == "defs"
    assert meta.model_name == "author"
    assert meta.object_name == "Author"
    assert meta.db_table == "defs_author"
    assert meta.ordering == ("name",)
    assert meta.abstract is False
    assert meta.read_only is False
    assert meta.async_only is False


def test_auto_primary_key_first_and_tables() -> None:
    meta = Author._meta
    assert [f.name for f in meta.fields] == ["id", "name", "email"]
    assert isinstance(meta.pk, dorm.BigAutoField)
    assert meta.pk.primary_key
    assert meta.attnames == ("id", "name", "email")
    assert meta.columns == ("id", "name", "email")
    assert meta.get_field("pk") is meta.pk
    assert meta.get_field("name") is Author.name


def test_get_field_unknown_names_choices() -> None:
    with pytest.raises(dorm.FieldDoesNotExist, match="Author has no field named 'nmae'. Choices are: .*name"):
        Author._meta.get_field("nmae")


def test_abstract_inheritance_copies_fields_and_meta() -> None:
    assert Stamped._meta.abstract
    assert [f.name for f in Post._meta.fields] == ["id", "created", "note", "title"]
    # each concrete child has its own field objects, bound to itself
    assert Post._meta.get_field("note") is not Comment._meta.get_field("note")
    assert Post._meta.get_field("note").model is Post
    assert Post._meta.ordering == ("-created",)
    assert Post._meta.db_table == "defs_post"
    assert Comment._meta.db_table == "comments"
    assert [i.name for i in Post._meta.indexes] == ["post_created_idx"]
    assert [i.name for i in Comment._meta.indexes] == ["comment_created_idx"]
    with pytest.raises(TypeError, match="abstract"):
        Stamped()


def test_concrete_inheritance_is_refused() -> None:
    with pytest.raises(TypeError, match="concrete .*inheritance is not supported; make the parent abstract"):

        class Special(Author):
            class Meta:
                app_label = "defs"


def test_unknown_meta_option() -> None:
    with pytest.raises(TypeError, match="unknown option 'ordrering'"):

        class Bad(dorm.Model):
            class Meta:
                app_label = "defs"
                ordrering = ["x"]


def test_id_without_primary_key_is_refused() -> None:
    with pytest.raises(TypeError, match="'id' can only be used"):

        class BadId(dorm.Model):
            id = dorm.IntegerField()

            class Meta:
                app_label = "defs"


def test_does_not_exist_per_model() -> None:
    assert issubclass(Author.DoesNotExist, dorm.ObjectDoesNotExist)
    assert issubclass(Author.MultipleObjectsReturned, dorm.MultipleObjectsReturned)
    assert Author.DoesNotExist is not Post.DoesNotExist
    assert Author.DoesNotExist.__qualname__ == "Author.DoesNotExist"


def test_instance_state_and_defaults() -> None:
    a = Author(name="Ann")
    assert isinstance(a._state, ModelState)
    assert a._state.adding is True and a._state.db is None
    assert a.pk is None and a.id is None
    assert a.email is None
    p = Post(title="x")
    assert p.note == "n/a"
    assert Author(pk=0)._state.adding is True
    assert Author(pk=0).pk == 0


def test_positional_arguments_follow_field_order() -> None:
    a = Author(7, "Bo")
    assert (a.pk, a.name) == (7, "Bo")
    with pytest.raises(TypeError, match="multiple values"):
        Author(7, name="x", id=3)


def test_unknown_keyword_names_the_fields() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\): 'nmae'. Its fields are: id, name, email"):
        Author(nmae="x")


def test_repr_and_str() -> None:
    assert repr(Author(pk=3, name="x")) == "<Author: Author object (3)>"

    class Named(dorm.Model):
        name = dorm.CharField(max_length=10)

        class Meta:
            app_label = "defs"

        def __str__(self) -> str:
            return self.name

    assert repr(Named(name="Zed")) == "<Named: Zed>"


def test_equality_and_hash() -> None:
    assert Author(pk=1) == Author(pk=1)
    assert Author(pk=1) != Author(pk=2)
    assert Author(pk=1) != Post(pk=1)
    unsaved = Author()
    assert unsaved != Author()
    assert unsaved == unsaved
    assert hash(Author(pk=1)) == hash(Author(pk=1))
    assert len({Author(pk=1), Author(pk=1), Author(pk=2)}) == 2
    with pytest.raises(TypeError, match="unhashable"):
        hash(Author())


def test_from_db_skips_validation_and_marks_loaded() -> None:
    a = Author.from_db("default", ("id", "name", "email"), (5, "x" * 80, "not-an-email"))
    assert a._state.adding is False and a._state.db == "default"
    assert a.name == "x" * 80
    assert a.get_deferred_fields() == set()
    partial = Author.from_db("default", ("id", "name"), (5, "A"))
    assert partial.get_deferred_fields() == {"email"}


def test_pickle_round_trip() -> None:
    a = Author.from_db("default", ("id", "name", "email"), (5, "A", None))
    b = pickle.loads(pickle.dumps(a))
    assert b == a and b.name == "A" and b._state.adding is False and b._state.db == "default"


def test_app_label_defaults() -> None:
    from dorm.models.registry import default_app_label

    assert default_app_label("library.models") == "library"
    assert default_app_label("library.models.books") == "library"
    assert default_app_label("project.library.schema") == "library"
    assert default_app_label("script") == "script"
    assert default_app_label("__main__") == "main"


def test_registry_and_redefinition_in_same_module() -> None:
    assert apps.get_model("defs", "Author") is Author
    assert apps.get_model("defs.author") is Author

    def define() -> type[dorm.Model]:
        class Again(dorm.Model):
            class Meta:
                app_label = "defs"

        return Again

    first = define()
    second = define()
    assert first is not second
    assert apps.get_model("defs", "again") is second


def test_conflicting_model_from_another_module() -> None:
    namespace: dict[str, object] = {"__name__": "some_other_module", "dorm": dorm}
    with pytest.raises(dorm.ImproperlyConfigured, match="Conflicting 'author' models in application 'defs'"):
        exec(
            "class Author(dorm.Model):\n    class Meta:\n        app_label = 'defs'\n",
            namespace,
        )


def test_lookup_errors() -> None:
    with pytest.raises(LookupError, match="No installed app with label 'nope'"):
        apps.get_model("nope", "x")
    with pytest.raises(LookupError, match="has no model named 'Nope'"):
        apps.get_model("defs", "Nope")


class ActiveManager(dorm.Manager):  # type: ignore[type-arg]
    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().filter(active=True)


class Switchable(dorm.Model):
    active = dorm.BooleanField(default=True)
    objects = dorm.Manager()  # type: ignore[var-annotated]
    live = ActiveManager()

    class Meta:
        abstract = True
        app_label = "defs"


class Lamp(Switchable):
    pass


def test_managers_are_copied_from_abstract_parents() -> None:
    assert Lamp.objects.model is Lamp
    assert Lamp.live.model is Lamp
    assert isinstance(Lamp.live, ActiveManager)
    assert Lamp.live is not Switchable.live
    assert Lamp._meta.default_manager is Lamp.objects
    assert Lamp._default_manager is Lamp.objects
    assert Lamp._base_manager.model is Lamp
    with pytest.raises(AttributeError, match="Manager isn't accessible via Lamp instances"):
        Lamp().objects  # noqa: B018


def test_default_manager_added_only_when_none_declared() -> None:
    assert Author._meta.default_manager is Author.objects
    assert [m.name for m in Author._meta.managers] == ["objects"]
    assert [m.name for m in Lamp._meta.managers] == ["objects", "live"]


def test_class_prepared_signal_and_kernel_hook() -> None:
    from dorm import signals

    seen: list[type] = []

    def on_prepared(sender: type, **kwargs: object) -> None:
        seen.append(sender)

    signals.class_prepared.connect(on_prepared)
    try:

        class Fresh(dorm.Model):
            class Meta:
                app_label = "defs"

        class AbstractOne(dorm.Model):
            class Meta:
                abstract = True
                app_label = "defs"

    finally:
        signals.class_prepared.disconnect(on_prepared)
    assert seen == [Fresh]  # abstract models are not reported


def test_field_added_after_class_creation_updates_meta() -> None:
    class Later(dorm.Model):
        name = dorm.CharField(max_length=5)

        class Meta:
            app_label = "defs"

    dorm.IntegerField(default=7).contribute_to_class(Later, "tenant_id")
    assert Later._meta.attnames == ("id", "name", "tenant_id")
    obj = Later(name="x")
    assert obj.tenant_id == 7
    obj.tenant_id = "8"
    assert obj.tenant_id == 8


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"unique_together": [("name", "nope")]}, "unique_together names 'nope'"),
        ({"ordering": ["-nope"]}, "ordering names '-nope'"),
        ({"indexes": [dorm.Index(fields=["-nope"], name="i")]}, "Index 'i' names '-nope'"),
        ({"constraints": [dorm.UniqueConstraint(fields=["nope"], name="u")]}, "UniqueConstraint 'u' names 'nope'"),
    ],
)
def test_meta_names_must_be_fields(meta: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        type(
            "Broken",
            (dorm.Model,),
            {
                "__module__": __name__,
                "name": dorm.CharField(max_length=5),
                "Meta": type("Meta", (), {"app_label": "defs", **meta}),
            },
        )


def test_constraint_declarations() -> None:
    with pytest.raises(TypeError, match="needs a name"):
        dorm.UniqueConstraint(fields=["a"])
    with pytest.raises(TypeError, match="needs check=Q"):
        dorm.CheckConstraint(name="c")
    with pytest.raises(TypeError, match="list of field names"):
        dorm.Index(fields="title", name="x")  # type: ignore[arg-type]
    check = dorm.CheckConstraint(check=dorm.Q(number__gte=0), name="positive")
    assert check.deconstruct() == ("dorm.CheckConstraint", [], {"check": check.check, "name": "positive"})
    unique = dorm.UniqueConstraint(fields=["a", "b"], name="ab", condition=dorm.Q(a__gt=1))
    assert unique.deconstruct()[2]["fields"] == ["a", "b"]
    assert unique == dorm.UniqueConstraint(fields=["a", "b"], name="ab", condition=dorm.Q(a__gt=1))


def test_unresolved_string_reference_is_a_clear_error() -> None:
    class Orphan(dorm.Model):
        parent = dorm.ForeignKey("NeverDefined", on_delete=dorm.CASCADE)

        class Meta:
            app_label = "defs"

    assert "defs.neverdefined" in apps.pending_references()
    with pytest.raises(dorm.ImproperlyConfigured, match="points at 'NeverDefined', which is not defined"):
        Orphan._meta.get_field("parent").related_model  # noqa: B018
    with pytest.raises(dorm.ImproperlyConfigured):
        Orphan(parent_id=1)


def test_copy_gets_its_own_state() -> None:
    import copy

    original = Author.from_db("default", ("id", "name", "email"), (5, "A", None))
    original._state.fields_cache["x"] = 1
    clone = copy.copy(original)
    assert clone == original and clone is not original
    assert clone._state is not original._state
    clone._state.fields_cache.clear()
    clone._state.adding = True
    assert original._state.fields_cache == {"x": 1} and original._state.adding is False
