"""Relation fields (ForeignKey, OneToOneField, ManyToManyField), their reverse
``Rel`` objects and the ``on_delete`` behaviours.

A relation's target may be a class, ``"self"``, ``"Model"`` (same app) or
``"app_label.Model"``; string targets are resolved by the app registry as
soon as the target model is defined, in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal, Self, TypeVar, final, overload

from dorm.exceptions import ImproperlyConfigured, ValidationError
from dorm.fields.base import NOT_PROVIDED, Field
from dorm.fields.numeric import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    IntegerField,
    SmallAutoField,
    SmallIntegerField,
)

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.models.base import Model

__all__ = [
    "CASCADE",
    "DO_NOTHING",
    "PROTECT",
    "RESTRICT",
    "SET",
    "SET_DEFAULT",
    "SET_NULL",
    "ForeignKey",
    "ForeignObjectRel",
    "ManyToManyField",
    "ManyToManyRel",
    "ManyToOneRel",
    "OnDelete",
    "OneToOneField",
    "OneToOneRel",
    "RelatedField",
]

M = TypeVar("M", bound="Model")
_T = TypeVar("_T")
RECURSIVE_RELATIONSHIP_CONSTANT: Final = "self"


# --------------------------------------------------------------------------
# on_delete
# --------------------------------------------------------------------------


@final
class OnDelete:
    """What deleting a referenced row does to the rows pointing at it.

    The deletion collector (``dorm.models.deletion``) interprets :attr:`name`:
    ``CASCADE``, ``PROTECT``, ``RESTRICT``, ``SET_NULL``, ``SET_DEFAULT``,
    ``SET`` (with :attr:`value`, a constant or a callable) or ``DO_NOTHING``.
    """

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any = NOT_PROVIDED) -> None:
        self.name = name
        self.value = value

    def get_value(self) -> Any:
        """The value ``SET(...)`` writes (the callable's result when it is one)."""
        return self.value() if callable(self.value) else self.value

    def __repr__(self) -> str:
        if self.name == "SET":
            return f"dorm.SET({self.value!r})"
        return f"dorm.{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OnDelete) and other.name == self.name and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        if self.name == "SET":
            return "dorm.SET", [self.value], {}
        return f"dorm.{self.name}", [], {}


CASCADE: Final = OnDelete("CASCADE")
PROTECT: Final = OnDelete("PROTECT")
RESTRICT: Final = OnDelete("RESTRICT")
SET_NULL: Final = OnDelete("SET_NULL")
SET_DEFAULT: Final = OnDelete("SET_DEFAULT")
DO_NOTHING: Final = OnDelete("DO_NOTHING")


def SET(value: Any) -> OnDelete:  # noqa: N802 (Django's spelling)
    """``on_delete=SET(value)``: write ``value`` (or ``value()`` when callable) into the FK."""
    return OnDelete("SET", value)


# --------------------------------------------------------------------------
# reverse-side descriptions
# --------------------------------------------------------------------------


class ForeignObjectRel:
    """The reverse side of a relation, as seen from the target model.

    ``model`` is the target (where the accessor lives), ``related_model`` the
    model holding the field, ``field`` the relation field itself.
    """

    is_relation = True
    concrete = False
    many_to_many = False
    many_to_one = False
    one_to_many = False
    one_to_one = False
    multiple = True
    auto_created = True

    def __init__(
        self,
        field: RelatedField[Any],
        to: Any,
        *,
        related_name: str | None,
        related_query_name: str | None,
        on_delete: OnDelete | None,
    ) -> None:
        self.field = field
        self.model: Any = to
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.on_delete = on_delete
        self.null = True

    @property
    def related_model(self) -> type[Model]:
        return self.field.model

    @property
    def remote_field(self) -> RelatedField[Any]:
        return self.field

    @property
    def hidden(self) -> bool:
        """A ``related_name`` ending in ``+`` means: no reverse accessor, no reverse query name."""
        return bool(self.related_name) and self.related_name.endswith("+")  # type: ignore[union-attr]

    @property
    def name(self) -> str:
        """The name used in queries on the target model (``Author.objects.filter(<name>__...)``)."""
        return self.field.related_query_name()

    def get_accessor_name(self) -> str | None:
        """The attribute on target instances (``author.books``), or ``None`` when hidden."""
        if self.hidden:
            return None
        if self.related_name:
            return self.related_name
        base = self.field.model._meta.model_name
        return base if self.one_to_one else f"{base}_set"

    def get_related_field(self) -> Field[Any]:
        """The target field the relation points at (the pk, or ``to_field``)."""
        target: Field[Any] = getattr(self.field, "target_field")  # noqa: B009 (ForeignKey/ManyToManyField define it)
        return target

    def __repr__(self) -> str:
        target = getattr(self.model, "__name__", self.model)
        return f"<{type(self).__name__}: {target}.{self.get_accessor_name()} <- {self.field!r}>"


class ManyToOneRel(ForeignObjectRel):
    """Reverse of a ForeignKey: ``author.book_set`` / ``related_name``."""

    one_to_many = True


class OneToOneRel(ForeignObjectRel):
    """Reverse of a OneToOneField: ``user.profile``."""

    one_to_one = True
    multiple = False


class ManyToManyRel(ForeignObjectRel):
    """Reverse of a ManyToManyField: ``tag.book_set`` / ``related_name``."""

    many_to_many = True

    def __init__(
        self,
        field: RelatedField[Any],
        to: Any,
        *,
        related_name: str | None,
        related_query_name: str | None,
        through: Any,
    ) -> None:
        super().__init__(field, to, related_name=related_name, related_query_name=related_query_name, on_delete=None)
        self.through: Any = through
        self.through_fields: tuple[str, str] | None = None

    def get_related_field(self) -> Field[Any]:
        return self.model._meta.pk  # type: ignore[no-any-return]


# --------------------------------------------------------------------------
# fields
# --------------------------------------------------------------------------


class RelatedField(Field[_T]):
    """Common part of relation fields: lazy target resolution, reverse names."""

    is_relation = True
    rel_class: type[ForeignObjectRel] = ManyToOneRel
    remote_field: ForeignObjectRel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @property
    def related_model(self) -> type[Model]:
        """The target model class (after resolution)."""
        target = self.remote_field.model
        if isinstance(target, str):
            raise ImproperlyConfigured(
                f"{self!r} points at {target!r}, which is not defined (no model of that name has been registered). "
                "Define that model, import the module that defines it before using the relation, or fix the "
                "reference ('Model' for the same app, 'app_label.Model' otherwise)."
            )
        return target  # type: ignore[no-any-return]

    def related_query_name(self) -> str:
        rel = self.remote_field
        return rel.related_query_name or rel.related_name or self.model._meta.model_name

    def _substitute_names(self, cls: type[Model]) -> None:
        rel = self.remote_field
        params = {
            "class": cls.__name__.lower(),
            "model_name": cls._meta.model_name,
            "app_label": cls._meta.app_label.lower(),
        }
        if rel.related_name:
            rel.related_name = rel.related_name % params
        if rel.related_query_name:
            rel.related_query_name = rel.related_query_name % params

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        if cls._meta.abstract:
            return
        self._substitute_names(cls)
        # resolved once the model is complete and registered (see ModelBase)
        cls._meta.pending_relations.append((self.remote_field.model, self._resolved))

    def _resolved(self, target: type[Model]) -> None:
        """Called by the registry once the target model exists."""
        self.remote_field.model = target
        self.do_related_class(target)

    def do_related_class(self, target: type[Model]) -> None:
        self.contribute_to_related_class(target, self.remote_field)

    def contribute_to_related_class(self, target: type[Model], rel: ForeignObjectRel) -> None:
        accessor = rel.get_accessor_name()
        if accessor is not None and not _check_accessor_clash(target, accessor, rel):
            accessor = None  # a self-referential M2M yields its reverse accessor (see _check_accessor_clash)
        target._meta.add_related_object(rel)
        if accessor is None:
            return
        from dorm.models import related_descriptors as rd

        descriptor: Any
        if rel.many_to_many:
            descriptor = rd.ManyToManyDescriptor(rel, reverse=True)  # type: ignore[arg-type]
        elif rel.one_to_one:
            descriptor = rd.ReverseOneToOneDescriptor(rel)
        else:
            descriptor = rd.ReverseManyToOneDescriptor(rel)
        type.__setattr__(target, accessor, descriptor)
        target._meta.add_reverse_setter(accessor, descriptor)


def _check_accessor_clash(target: type[Model], accessor: str, rel: ForeignObjectRel) -> bool:
    """Two relations may not share one reverse accessor on their target (the second would silently win).

    Returns whether ``rel`` should install its accessor.  The one tolerated
    overlap is a ``ManyToManyField("self")`` without ``related_name`` (Django
    gives it no reverse accessor at all, so models like ``parent =
    ForeignKey("self")`` + ``links = ManyToManyField("self")`` are valid
    there): the other relation keeps the accessor.
    """
    existing = target.__dict__.get(accessor)
    other = getattr(existing, "rel", None)
    if not isinstance(other, ForeignObjectRel) or other is rel:
        return True
    mine, theirs = rel.field, other.field

    def origin(field: RelatedField[Any]) -> tuple[str, str, str]:
        return (field.model._meta.app_label, field.model._meta.model_name, field.name)

    def self_m2m(r: ForeignObjectRel) -> bool:
        return bool(r.many_to_many) and not r.related_name and r.field.model is target

    if origin(mine) == origin(theirs):
        return True  # the same model defined again (a reload, a test): the new relation replaces the old one
    if self_m2m(rel):
        return False
    if self_m2m(other):
        return True
    raise ImproperlyConfigured(
        f"Reverse accessor {target.__name__}.{accessor} for {mine.model.__name__}.{mine.name} clashes with the one "
        f"for {theirs.model.__name__}.{theirs.name}: both relations point at {target.__name__} and would get the same "
        f"reverse accessor and query name. Give one of them a related_name, e.g. "
        f"{mine.name} = {type(mine).__name__}(..., related_name='{mine.model._meta.model_name}_{mine.name}_set'), "
        "or related_name='+' if it needs no reverse side."
    )


def _target_repr(to: Any) -> str:
    if isinstance(to, str):
        return to
    meta = getattr(to, "_meta", None)
    if meta is None:
        raise TypeError(f"A relation's target must be a model class, 'self', 'Model' or 'app_label.Model'; got {to!r}.")
    return f"{meta.app_label}.{meta.object_name}"


class ForeignKey(RelatedField[_T]):
    """A many-to-one relation: ``book.author`` (the row holds ``author_id``).

    ``on_delete`` is required (``dorm.CASCADE``, ``PROTECT``, ``RESTRICT``,
    ``SET_NULL``, ``SET_DEFAULT``, ``SET(value)``, ``DO_NOTHING``).
    """

    many_to_one = True
    empty_strings_allowed = False
    rel_class = ManyToOneRel

    @overload
    def __init__(
        self: ForeignKey[M],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: Literal[False] = False,
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        to_field: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ForeignKey[M | None],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: Literal[True],
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        to_field: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ForeignKey[M | None],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: bool,
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        to_field: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ForeignKey[Any],
        to: str,
        on_delete: OnDelete,
        *,
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        to_field: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    def __init__(
        self,
        to: type[M] | str,
        on_delete: OnDelete | None = None,
        *,
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        **kwargs: Any,
    ) -> None:
        if on_delete is None:
            raise TypeError(
                f"{type(self).__name__}({_target_repr(to)!r}) needs on_delete: what happens to these rows when the "
                "referenced row is deleted (dorm.CASCADE, dorm.PROTECT, dorm.SET_NULL, ...)."
            )
        if not isinstance(on_delete, OnDelete):
            raise TypeError(
                f"on_delete must be one of dorm.CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT, SET(...), DO_NOTHING; got {on_delete!r}."
            )
        _target_repr(to)
        kwargs.setdefault("db_index", True)
        super().__init__(**kwargs)
        if on_delete is SET_NULL and not self.null:
            raise TypeError(
                f"on_delete=SET_NULL needs null=True on the field (ForeignKey({_target_repr(to)!r}, on_delete=dorm.SET_NULL, null=True))."
            )
        if on_delete is SET_DEFAULT and not self.has_default():
            raise TypeError("on_delete=SET_DEFAULT needs a default on the field.")
        self.remote_field = self.rel_class(
            self, to, related_name=related_name, related_query_name=related_query_name, on_delete=on_delete
        )
        self.to_field = to_field
        self.db_constraint = db_constraint

    # -- names and target ------------------------------------------------------

    def get_attname(self) -> str:
        return f"{self.name}_id"

    @property
    def target_field(self) -> Field[Any]:
        """The field of the target model this FK stores (its pk, or ``to_field``)."""
        cached: Field[Any] | None = self.__dict__.get("_target_field")
        if cached is not None:
            return cached
        meta = self.related_model._meta
        found: Field[Any] = meta.get_field(self.to_field) if self.to_field else meta.pk
        if found is not None:  # cache only once the target's primary key exists
            self.__dict__["_target_field"] = found
        return found

    @property
    def on_delete(self) -> OnDelete:
        on_delete = self.remote_field.on_delete
        assert on_delete is not None
        return on_delete

    # -- descriptor (forward access) -------------------------------------------

    @overload
    def __get__(self, instance: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: Any) -> _T: ...
    def __get__(self, instance: object, owner: Any = None) -> Self | _T:
        if instance is None:
            return self
        try:  # fast path: loaded by select_related/prefetch or a previous access
            return instance._state.fields_cache[self.name]  # type: ignore[attr-defined, no-any-return]
        except KeyError:
            from dorm.models.related_descriptors import get_forward

            return get_forward(self, instance)  # type: ignore[arg-type, no-any-return]

    # -- values --------------------------------------------------------------------

    def coerce(self, value: Any) -> Any:
        """Coerce a raw key (``author_id``) with the target field's rules."""
        return self.target_field.coerce(value)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        return self.target_field.to_python(value)

    def validate(self, value: Any, instance: Model | None) -> None:
        if value is None and not self.null:
            raise ValidationError("This field cannot be null.", code="null")

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if hasattr(value, "_meta"):
            value = getattr(value, self.target_field.attname)
        return self.target_field.get_prep_value(value)

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if hasattr(value, "_meta"):
            value = getattr(value, self.target_field.attname)
        return self.target_field.get_db_prep_value(value, wrapper, prepared)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        converter: Callable[[Any], Any] | None = self.target_field.get_db_converter(wrapper)
        return converter

    def get_internal_type(self) -> str:
        return "ForeignKey"

    def db_type(self, wrapper: BaseDatabaseWrapper) -> str | None:
        """The target column's type, with auto-increment keys mapped to their plain integer type."""
        return rel_db_type(self.target_field, wrapper)

    def db_type_parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = self.target_field.db_type_parameters()
        return params

    def get_default(self) -> Any:
        default = super().get_default()
        if hasattr(default, "_meta"):
            return getattr(default, self.target_field.attname)
        return default

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, _args, kwargs = super().deconstruct()
        args, given = self._constructor_args
        kwargs = {k: v for k, v in given.items() if k not in ("name", "to", "on_delete")}
        if isinstance(self, OneToOneField):
            kwargs.pop("unique", None)
        if kwargs.get("db_index") is True:
            kwargs.pop("db_index")
        target = self.remote_field.model
        if isinstance(target, str):
            model = getattr(self, "model", None)  # unbound copies (migration state) keep their label
            if model is not None and (target == RECURSIVE_RELATIONSHIP_CONSTANT or "." not in target):
                target = f"{model._meta.app_label}.{model.__name__ if target == 'self' else target}"
        else:
            target = _target_repr(target)
        kwargs["to"] = target
        kwargs["on_delete"] = self.on_delete
        return name, path, [], kwargs


def rel_db_type(target: Field[Any], wrapper: BaseDatabaseWrapper) -> str | None:
    """Column type for a column that references ``target`` (an auto key becomes a plain integer)."""
    plain: Field[Any]
    if isinstance(target, BigAutoField):
        plain = BigIntegerField()
    elif isinstance(target, SmallAutoField):
        plain = SmallIntegerField()
    elif isinstance(target, AutoField):
        plain = IntegerField()
    elif isinstance(target, ForeignKey):
        return target.db_type(wrapper)
    else:
        return target.db_type(wrapper)
    return plain.db_type(wrapper)


class OneToOneField(ForeignKey[_T]):
    """A one-to-one relation: a unique ForeignKey; the reverse accessor returns one object."""

    one_to_one = True
    many_to_one = False
    rel_class = OneToOneRel  # type: ignore[assignment]

    @overload
    def __init__(
        self: OneToOneField[M],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: OneToOneField[M | None],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: OneToOneField[M | None],
        to: type[M],
        on_delete: OnDelete,
        *,
        null: bool,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: OneToOneField[Any],
        to: str,
        on_delete: OnDelete,
        **kwargs: Any,
    ) -> None: ...
    def __init__(self, to: Any, on_delete: OnDelete | None = None, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, on_delete, **kwargs)  # type: ignore[arg-type]


class ManyToManyField(RelatedField[M]):
    """A many-to-many relation through a join table.

    Without ``through`` an intermediate model ``<Model>_<field>`` (table
    ``db_table`` or ``<app_label>_<model>_<field>``) is created and
    registered, with one ForeignKey to each side and a unique pair.  With
    ``through=`` your own model is used (``through_fields=(source, target)``
    names its two ForeignKeys when it has more than one to a side).
    """

    many_to_many = True
    concrete = False
    rel_class = ManyToManyRel
    remote_field: ManyToManyRel

    @overload
    def __init__(
        self: ManyToManyField[M],
        to: type[M],
        *,
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        through: Any = ...,
        through_fields: tuple[str, str] | None = ...,
        db_table: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ManyToManyField[Any],
        to: str,
        *,
        related_name: str | None = ...,
        related_query_name: str | None = ...,
        through: Any = ...,
        through_fields: tuple[str, str] | None = ...,
        db_table: str | None = ...,
        db_constraint: bool = ...,
        **kwargs: Any,
    ) -> None: ...
    def __init__(
        self,
        to: type[M] | str,
        *,
        related_name: str | None = None,
        related_query_name: str | None = None,
        through: Any = None,
        through_fields: tuple[str, str] | None = None,
        db_table: str | None = None,
        db_constraint: bool = True,
        **kwargs: Any,
    ) -> None:
        _target_repr(to)
        if through is not None and db_table is not None:
            raise TypeError(
                "ManyToManyField: give either through= (your own intermediate model, which has its own db_table) or db_table=, not both."
            )
        if kwargs.get("null"):
            raise TypeError(
                "ManyToManyField cannot be null: an empty relation is simply no rows in the join table. Remove null=True."
            )
        kwargs.setdefault("blank", True)
        super().__init__(**kwargs)
        self.remote_field = ManyToManyRel(
            self, to, related_name=related_name, related_query_name=related_query_name, through=through
        )
        self.remote_field.through_fields = through_fields
        self.db_table = db_table
        self.db_constraint = db_constraint
        self._m2m_fields: tuple[ForeignKey[Any], ForeignKey[Any]] | None = None

    def get_attname(self) -> str:
        return self.name

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        self.name = name
        self.attname = name
        self.column = name
        self.model = cls
        if self.verbose_name is None:
            self.verbose_name = name.replace("_", " ")
        cls._meta.add_field(self)
        type.__setattr__(cls, name, self)
        if cls._meta.abstract:
            return
        self._substitute_names(cls)
        # resolved once the model is complete and registered (see ModelBase)
        cls._meta.pending_relations.append((self.remote_field.model, self._resolved))

    def _resolved(self, target: type[Model]) -> None:
        self.remote_field.model = target
        from dorm.models.registry import apps

        through = self.remote_field.through
        if through is None:
            self.remote_field.through = create_auto_through(self, target)
            self.contribute_to_related_class(target, self.remote_field)
        else:

            def through_ready(through_model: type[Model]) -> None:
                self.remote_field.through = through_model
                self.contribute_to_related_class(target, self.remote_field)

            apps.lazy_relation(self.model, through, through_ready)

    # -- through model -----------------------------------------------------------

    @property
    def through(self) -> type[Model]:
        through = self.remote_field.through
        if through is None or isinstance(through, str):
            raise ImproperlyConfigured(
                f"{self!r}: the intermediate model {through!r} is not defined. Define it (or import its module) "
                "before using the relation."
            )
        return through  # type: ignore[no-any-return]

    def m2m_fields(self) -> tuple[ForeignKey[Any], ForeignKey[Any]]:
        """``(source_fk, target_fk)`` on the through model: the FK to this model, the FK to the target."""
        if self._m2m_fields is None:
            through = self.through
            target = self.related_model
            given = self.remote_field.through_fields
            if given is not None:
                source_fk = through._meta.get_field(given[0])
                target_fk = through._meta.get_field(given[1])
            else:
                fks = [f for f in through._meta.fields if isinstance(f, ForeignKey)]
                to_source = [f for f in fks if f.remote_field.model is self.model]
                to_target = [f for f in fks if f.remote_field.model is target]
                if self.model is target:  # self-referential: first FK is the source, second the target
                    if len(to_source) < 2:
                        raise TypeError(f"{through.__name__} needs two ForeignKeys to {target.__name__} for {self!r}.")
                    source_fk, target_fk = to_source[0], to_source[1]
                else:
                    if len(to_source) != 1 or len(to_target) != 1:
                        raise TypeError(
                            f"{through.__name__} must have exactly one ForeignKey to {self.model.__name__} and one to "
                            f"{target.__name__} for {self!r}; name them with through_fields=(source, target)."
                        )
                    source_fk, target_fk = to_source[0], to_target[0]
            assert isinstance(source_fk, ForeignKey) and isinstance(target_fk, ForeignKey)
            self._m2m_fields = (source_fk, target_fk)
        return self._m2m_fields

    @property
    def target_field(self) -> Field[Any]:
        return self.related_model._meta.pk

    # -- descriptor ----------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: Any) -> Any: ...
    def __get__(self, instance: object, owner: Any = None) -> Any:
        if instance is None:
            return self
        from dorm.models.related_descriptors import get_many_to_many_manager

        return get_many_to_many_manager(self.remote_field, instance, reverse=False)  # type: ignore[arg-type]

    def get_internal_type(self) -> str:
        return "ManyToManyField"

    def db_type(self, wrapper: BaseDatabaseWrapper) -> str | None:
        return None

    def to_python(self, value: Any) -> Any:
        raise TypeError(
            f"Direct assignment to the forward side of a many-to-many set is prohibited. Use {self.name}.set() instead."
        )

    def get_default(self) -> Any:
        return None

    def value_from_object(self, obj: Model) -> Any:
        return list(getattr(obj, self.attname).all()) if obj.pk is not None else []

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, _args, kwargs = super().deconstruct()
        _a, given = self._constructor_args
        kwargs = {k: v for k, v in given.items() if k not in ("name", "to", "blank")}
        target = self.remote_field.model
        if isinstance(target, str):
            model = getattr(self, "model", None)  # unbound copies (migration state) keep their label
            if model is not None and (target == RECURSIVE_RELATIONSHIP_CONSTANT or "." not in target):
                target = f"{model._meta.app_label}.{model.__name__ if target == 'self' else target}"
        else:
            target = _target_repr(target)
        kwargs["to"] = target
        through = kwargs.get("through")
        if through is not None and not isinstance(through, str):
            kwargs["through"] = _target_repr(through)
        return name, path, [], kwargs


def create_auto_through(field: ManyToManyField[Any], target: type[Model]) -> type[Model]:
    """Build and register the intermediate model of a ManyToManyField without ``through``."""
    from dorm.models.base import Model

    source = field.model
    meta = source._meta
    name = f"{source.__name__}_{field.name}"
    source_name = meta.model_name
    target_name = target._meta.model_name
    if source is target:
        source_name, target_name = f"from_{source_name}", f"to_{target_name}"
    db_table = field.db_table or f"{meta.db_table}_{field.name}"
    hidden = f"{name}+"
    attrs: dict[str, Any] = {
        "__module__": source.__module__,
        "__qualname__": name,
        source_name: ForeignKey(source, CASCADE, related_name=hidden, db_constraint=field.db_constraint),
        target_name: ForeignKey(target, CASCADE, related_name=hidden, db_constraint=field.db_constraint),
        "Meta": type(
            "Meta",
            (),
            {
                "app_label": meta.app_label,
                "db_table": db_table,
                "unique_together": ((source_name, target_name),),
                "auto_created": source,
            },
        ),
    }
    through: type[Model] = type(name, (Model,), attrs)
    return through
