"""``Model``, ``AsyncModel``, the ``ModelBase`` metaclass and ``ModelState``.

Instance data lives in ``instance.__dict__[field.attname]``; assignment of a
field name goes through :meth:`Model.__setattr__`, which validates with the
field (one dict lookup in ``_meta.setters``).  Rows loaded from the database
bypass validation (:meth:`Model.from_db`).  Persistence (``save``,
``delete``, ``refresh_from_db``...) lives in ``dorm.models.persistence``;
the methods here are thin delegations.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, TypeVar, final

from dorm.exceptions import (
    FieldDoesNotExist,
    ImproperlyConfigured,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    ValidationError,
)
from dorm.fields.base import Field
from dorm.models import guards
from dorm.models.options import Options, compile_init_fill
from dorm.models.registry import apps

if TYPE_CHECKING:
    from dorm.models.manager import Manager

__all__ = ["DB_DEFAULT", "AsyncModel", "Model", "ModelBase", "ModelState"]


@final
class _DatabaseDefault:
    """Marker value of a field left to its ``db_default``: persistence omits the column on insert."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DB_DEFAULT"


#: Held in ``instance.__dict__[attname]`` for a new instance whose field has a
#: ``db_default`` and was not given a value; the insert leaves the column out
#: (the database fills it) and persistence replaces the marker afterwards.
DB_DEFAULT: Final = _DatabaseDefault()


@final
class ModelState:
    """Per-instance bookkeeping: the alias it came from / was saved to, whether it is new,
    and the cache of forward related objects (``fields_cache[field.name]``)."""

    __slots__ = ("adding", "db", "fields_cache")

    def __init__(self, db: str | None = None, adding: bool = True) -> None:
        self.db = db
        self.adding = adding
        self.fields_cache: dict[str, Any] = {}

    def __getstate__(self) -> tuple[str | None, bool, dict[str, Any]]:
        return (self.db, self.adding, self.fields_cache)

    def __setstate__(self, state: tuple[str | None, bool, dict[str, Any]]) -> None:
        self.db, self.adding, self.fields_cache = state

    def __repr__(self) -> str:
        return f"ModelState(db={self.db!r}, adding={self.adding})"


#: Key in ``instance.__dict__`` of a row-loaded instance whose ``_state`` is not made yet: its alias.
LOADED_FROM: Final = "_loaded_from"


class _LazyState:
    """``instance._state`` of a row-loaded instance, made on first access.

    Loading many rows is dominated by per-instance work, and most loaded
    instances never need their state (``save()``, ``delete()`` and relations
    do).  The hydrator records only the alias under :data:`LOADED_FROM`;
    this non-data descriptor turns it into ``ModelState(alias,
    adding=False)`` the first time ``_state`` is read, and stores it in the
    instance, which answers every later read directly.
    """

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        state = ModelState(data.pop(LOADED_FROM, None), False)
        data["_state"] = state
        return state


def _default_auto_field() -> Field[Any]:
    from dorm import fields
    from dorm.conf import settings

    path = "dorm.BigAutoField"
    if settings.configured:
        path = settings.get("DEFAULT_AUTO_FIELD", path) or path
    module_name, _, class_name = path.rpartition(".")
    if module_name in ("dorm", "dorm.fields"):
        field_class = getattr(fields, class_name, None)
    else:
        import importlib

        field_class = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(field_class, type) and issubclass(field_class, fields.AutoField)):
        raise ImproperlyConfigured(
            f"DEFAULT_AUTO_FIELD = {path!r} is not an AutoField subclass; use 'dorm.BigAutoField' or 'dorm.AutoField'."
        )
    field: Field[Any] = field_class(primary_key=True)
    return field


def _contributes(value: Any) -> bool:
    return not isinstance(value, type) and hasattr(value, "contribute_to_class")


def _exception_class(name: str, bases: tuple[type, ...], model: type, module: str) -> type:
    return type(name, bases, {"__module__": module, "__qualname__": f"{model.__qualname__}.{name}"})


class ModelBase(type):
    """Metaclass of every model: builds ``_meta``, attaches fields and managers,
    registers the model and resolves relations."""

    _meta: Options

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any) -> ModelBase:
        parents = [b for b in bases if isinstance(b, ModelBase) and hasattr(b, "_meta")]
        if not any(isinstance(b, ModelBase) for b in bases):  # Model itself
            return super().__new__(mcs, name, bases, attrs, **kwargs)
        for parent in parents:
            if not parent._meta.abstract:
                raise TypeError(
                    f"{name} subclasses the concrete model {parent.__name__}: concrete (multi-table) inheritance is not "
                    f"supported; make the parent abstract (class Meta: abstract = True) so {name} gets its own table "
                    f"with the inherited fields, or use a OneToOneField to {parent.__name__}."
                )
        meta_cls = attrs.pop("Meta", None)
        plain: dict[str, Any] = {}
        contributable: dict[str, Any] = {}
        for key, value in attrs.items():
            if _contributes(value):
                contributable[key] = value
            else:
                plain[key] = value
        cls: Any = super().__new__(mcs, name, bases, plain, **kwargs)
        parent_meta = parents[0]._meta if parents else None
        meta = Options(cls, meta_cls, parent_meta)
        cls._meta = meta
        module = plain.get("__module__", cls.__module__)

        if not meta.abstract:
            does_not_exist = tuple(p.__dict__["DoesNotExist"] for p in parents if "DoesNotExist" in p.__dict__) or (
                ObjectDoesNotExist,
            )
            multiple = tuple(
                p.__dict__["MultipleObjectsReturned"] for p in parents if "MultipleObjectsReturned" in p.__dict__
            ) or (MultipleObjectsReturned,)
            cls.DoesNotExist = _exception_class("DoesNotExist", does_not_exist, cls, module)
            cls.MultipleObjectsReturned = _exception_class("MultipleObjectsReturned", multiple, cls, module)

        # fields inherited from abstract parents come first, in the parents' order
        inherited_managers: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for parent in reversed(cls.__mro__[1:]):
            parent_meta_obj = parent.__dict__.get("_meta")
            if parent_meta_obj is None or not parent_meta_obj.abstract:
                continue
            for field in [*parent_meta_obj.local_fields, *parent_meta_obj.local_many_to_many]:
                if field.name in contributable or field.name in seen:
                    continue
                if field.name in plain and plain[field.name] is None:  # `field = None` removes it
                    continue
                seen.add(field.name)
                field.clone().contribute_to_class(cls, field.name)
            for manager in parent_meta_obj.managers:
                inherited_managers.append((manager.name, manager))

        fields = sorted(
            ((k, v) for k, v in contributable.items() if isinstance(v, Field)), key=lambda kv: kv[1].creation_counter
        )
        for key, field in fields:
            field.contribute_to_class(cls, key)
        if not meta.abstract and not any(f.primary_key for f in meta.local_fields):
            if any(f.name == "id" for f in meta.local_fields):
                raise TypeError(
                    f"{name}.id is a field without primary_key=True; 'id' can only be used as a field name when the field is the primary key."
                )
            auto = _default_auto_field()
            auto.contribute_to_class(cls, "id")
            meta.local_fields.insert(0, meta.local_fields.pop())
        for key, value in contributable.items():
            if not isinstance(value, Field):
                value.contribute_to_class(cls, key)
        meta._prepare()

        if meta.abstract:
            return cls  # type: ignore[no-any-return]

        own_manager_names = {m.name for m in meta.managers}
        for manager_name, manager in inherited_managers:
            if manager_name not in own_manager_names and manager_name not in contributable:
                copy.copy(manager).contribute_to_class(cls, manager_name)
                own_manager_names.add(manager_name)
        if not meta.managers:
            if "objects" in meta._forward:
                raise TypeError(
                    f"{name} has a field named 'objects'; declare a manager under another name (e.g. `rows = dorm.Manager()`)."
                )
            manager_class = _manager_class()
            if manager_class is not None:
                manager_class().contribute_to_class(cls, "objects")

        apps.register_model(cls)
        for target, callback in meta.pending_relations:
            apps.lazy_relation(cls, target, callback)
        meta.pending_relations.clear()
        from dorm import signals
        from dorm.plugins import kernel

        kernel.class_prepared(cls)
        if signals.class_prepared.has_listeners(cls):
            signals.class_prepared.send(sender=cls)
        return cls  # type: ignore[no-any-return]

    @property
    def _default_manager(cls) -> Any:
        return cls._meta.default_manager

    @property
    def _base_manager(cls) -> Any:
        return cls._meta.base_manager


def _manager_class() -> type[Manager[Any]] | None:
    try:
        from dorm.models.manager import Manager
    except ImportError:  # the query engine is not importable (partial checkout): models still build
        return None
    return Manager


_MISSING: Final = object()
_M = TypeVar("_M", bound="Model")

if TYPE_CHECKING:

    class _ObjectsDescriptor:
        def __get__(self, instance: None, owner: type[_M]) -> Manager[_M]: ...


class Model(metaclass=ModelBase):
    """Base class of every model.

    Declare fields as class attributes::

        class Author(dorm.Model):
            name = dorm.CharField(max_length=100)
            email = dorm.EmailField(unique=True)

    A model without a primary key gets ``id = BigAutoField(primary_key=True)``
    (the ``DEFAULT_AUTO_FIELD`` setting); one without a manager gets
    ``objects = dorm.Manager()``.
    """

    _meta: ClassVar[Options]
    if TYPE_CHECKING:
        _state: ModelState
    else:
        _state = _LazyState()
    _prefetched_objects_cache: dict[str, Any]
    #: Set on dorm.AsyncModel: sync database access is refused.
    _async_only: ClassVar[bool] = False

    if TYPE_CHECKING:
        DoesNotExist: ClassVar[type[ObjectDoesNotExist]]
        MultipleObjectsReturned: ClassVar[type[MultipleObjectsReturned]]
        # the default manager the metaclass adds; typed per model (Author.objects -> Manager[Author])
        objects: ClassVar[_ObjectsDescriptor]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        meta = self._meta
        if meta.abstract:
            raise TypeError(
                f"{type(self).__name__} is abstract (Meta.abstract = True) and cannot be instantiated; subclass it."
            )
        data = self.__dict__
        data["_state"] = ModelState()
        fields = meta.concrete_fields
        if args:
            if len(args) > len(fields):
                raise TypeError(
                    f"{type(self).__name__}() takes at most {len(fields)} positional arguments ({len(args)} given)."
                )
            for field, value in zip(fields, args, strict=False):
                if field.name in kwargs or (field.attname in kwargs):
                    raise TypeError(f"{type(self).__name__}() got multiple values for {field.name!r}.")
                kwargs[field.attname] = value
        fill = meta.init_fill
        if fill is None:
            fill = meta.init_fill = compile_init_fill(meta, _MISSING)
        # the fields, from kwargs or their defaults (generated from meta.init_plan)
        errors = fill(self, data, kwargs)
        if kwargs:
            self._init_extra(kwargs)
        if errors:
            raise ValidationError(errors)

    def _init_extra(self, kwargs: dict[str, Any]) -> None:
        meta = self._meta
        cls = type(self)
        unknown: list[str] = []
        for name, value in kwargs.items():
            if name == "pk" and meta.pk is not None:
                setattr(self, meta.pk.attname, value)
                continue
            if name in meta.attnames or name in meta._forward and not meta._forward[name].many_to_many:
                field = meta._forward[name]
                raise TypeError(
                    f"{cls.__name__}() got multiple values for {field.name!r} (given as both {field.name!r} and {field.attname!r})."
                )
            if name in meta.setters:  # a many-to-many or reverse accessor
                raise TypeError(
                    f"{cls.__name__}() cannot set the relation {name!r} at construction: save the object, then use "
                    f"`obj.{name}.set([...])` (or `await obj.{name}.aset([...])`)."
                )
            if isinstance(getattr(cls, name, None), property):
                setattr(self, name, value)
                continue
            unknown.append(name)
        if unknown:
            valid = ", ".join(f.name for f in meta.concrete_fields)
            raise TypeError(
                f"{cls.__name__}() got unexpected keyword argument(s): {', '.join(map(repr, unknown))}. Its fields are: {valid}."
            )

    @classmethod
    def from_db(cls, db: str | None, attnames: Sequence[str], values: Sequence[Any]) -> Self:
        """An instance built from a database row (no validation, ``_state.adding = False``).

        Fields missing from ``attnames`` stay deferred (loaded on access).
        """
        obj = cls.__new__(cls)
        data = obj.__dict__
        data.update(zip(attnames, values, strict=False))
        state = ModelState(db, False)
        data["_state"] = state
        return obj

    # -- attributes ---------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        setter = self._meta.setters.get(name)
        if setter is None:
            object.__setattr__(self, name, value)
        else:
            setter(self, value)

    @property
    def pk(self) -> Any:
        """The primary key value (``None`` before the first save of an auto key)."""
        return getattr(self, self._meta.pk.attname)

    @pk.setter
    def pk(self, value: Any) -> None:
        setattr(self, self._meta.pk.attname, value)

    def get_deferred_fields(self) -> set[str]:
        """Attnames of the concrete fields not loaded on this instance (``only()``/``defer()``)."""
        data = self.__dict__
        return {attname for attname in self._meta.attnames if attname not in data}

    def serializable_value(self, field_name: str) -> Any:
        """The value of ``field_name`` for serialisation: the raw key for a ForeignKey."""
        try:
            field = self._meta.get_field(field_name)
        except FieldDoesNotExist:
            return getattr(self, field_name)
        return getattr(self, field.attname)

    # -- identity ---------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        if self._meta.concrete_model is not other._meta.concrete_model:
            return False
        pk = self.pk
        if pk is None:
            return self is other
        return bool(pk == other.pk)

    def __hash__(self) -> int:
        pk = self.pk
        if pk is None:
            raise TypeError(
                f"Unsaved {type(self).__name__} instances (pk is None) are unhashable: save it first, or use id(obj)."
            )
        return hash((self._meta.concrete_model, pk))

    def __str__(self) -> str:
        return f"{type(self).__name__} object ({self.pk})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    def __reduce__(self) -> Any:
        # pickle and copy.copy(): the copy gets its own state and caches
        data = self.__dict__.copy()
        state = data.get("_state")
        if state is not None:
            fresh = ModelState(state.db, state.adding)
            fresh.fields_cache = dict(state.fields_cache)
            data["_state"] = fresh
        if "_prefetched_objects_cache" in data:
            data["_prefetched_objects_cache"] = dict(data["_prefetched_objects_cache"])
        return (_unpickle_model, (self._meta.app_label, self._meta.object_name, type(self)), data)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- persistence (dorm.models.persistence) ---------------------------------------

    def save(
        self,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """INSERT (new instance) or UPDATE (loaded one) this row; sends pre_save/post_save."""
        cls = type(self)
        guards.check_sync_access(cls, "save")
        guards.check_writable(cls, "save")
        from dorm.models import persistence
        from dorm.models.related_descriptors import prepare_related_fields_for_save

        prepare_related_fields_for_save(self, "save")
        persistence.save_instance(
            self, force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields
        )

    async def asave(
        self,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        """Async twin of :meth:`save`."""
        guards.check_writable(type(self), "asave")
        from dorm.models import persistence
        from dorm.models.related_descriptors import prepare_related_fields_for_save

        prepare_related_fields_for_save(self, "asave")
        await persistence.asave_instance(
            self, force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields
        )

    def delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """DELETE this row (and what ``on_delete`` cascades); returns ``(total, {label: count})``."""
        cls = type(self)
        guards.check_sync_access(cls, "delete")
        guards.check_writable(cls, "delete")
        self._check_deletable()
        from dorm.models import persistence

        return persistence.delete_instance(self, using=using)

    async def adelete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Async twin of :meth:`delete`."""
        guards.check_writable(type(self), "adelete")
        self._check_deletable()
        from dorm.models import persistence

        return await persistence.adelete_instance(self, using=using)

    def _check_deletable(self) -> None:
        if self.pk is None:
            raise ValueError(
                f"{type(self).__name__} object can't be deleted because its {self._meta.pk.attname} attribute is set to None."
            )

    def refresh_from_db(self, using: str | None = None, fields: Iterable[str] | None = None) -> None:
        """Reload field values (all, or ``fields``) from the database."""
        guards.check_sync_access(type(self), "refresh_from_db")
        from dorm.models import persistence

        persistence.refresh_instance(self, using=using, fields=fields)

    async def arefresh_from_db(self, using: str | None = None, fields: Iterable[str] | None = None) -> None:
        """Async twin of :meth:`refresh_from_db`."""
        from dorm.models import persistence

        await persistence.arefresh_instance(self, using=using, fields=fields)

    async def afetch_related(self, *names: str) -> Self:
        """Load the named relations (``"author"``, ``"tags"``, ``"author__publisher"``) onto this instance
        so they can be read without a query inside async code.  Returns ``self``."""
        from dorm.models import persistence

        await persistence.afetch_related(self, *names)
        return self

    # -- validation ------------------------------------------------------------------------

    def clean(self) -> None:
        """Hook for model-wide validation; raise :class:`dorm.ValidationError`.  Does nothing by default."""

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        """Run every field's ``clean`` (type, choices, null, blank, validators); collect all errors."""
        excluded = set(exclude or ())
        errors: dict[str, list[str]] = {}
        data = self.__dict__
        for field in self._meta.concrete_fields:
            if field.name in excluded or field.attname not in data:
                continue
            raw = data[field.attname]
            if raw is DB_DEFAULT:
                continue
            if field.blank and raw in field.empty_values:
                continue
            try:
                data[field.attname] = field.clean(raw, self)
            except ValidationError as exc:
                errors.setdefault(field.name, []).extend(exc.messages)
        if errors:
            raise ValidationError(errors)

    def _unique_checks(self, exclude: set[str]) -> list[tuple[str, ...]]:
        meta = self._meta
        checks: list[tuple[str, ...]] = [(f.name,) for f in meta.concrete_fields if f.unique and f.name not in exclude]
        for group in meta.total_unique_constraints:
            if not exclude.intersection(group):
                checks.append(tuple(group))
        return checks

    def _unique_query(self, group: tuple[str, ...]) -> Any:
        meta = self._meta
        lookup: dict[str, Any] = {}
        for name in group:
            field = meta.get_field(name)
            value = self.__dict__.get(field.attname)
            if value is None or value is DB_DEFAULT or (field.primary_key and self._state.adding and value is None):
                return None
            lookup[field.attname if field.is_relation else name] = value
        qs = meta.base_manager.filter(**lookup)
        if not self._state.adding and self.pk is not None:
            qs = qs.exclude(pk=self.pk)
        return qs

    def _unique_error(self, group: tuple[str, ...]) -> tuple[str, str]:
        label = self._meta.verbose_name
        if len(group) == 1:
            return group[0], f"{label} with this {group[0]} already exists."
        return "__all__", f"{label} with this {' and '.join(group)} already exists."

    def validate_unique(self, exclude: Iterable[str] | None = None) -> None:
        """Check ``unique`` fields, ``unique_together`` and unconditional UniqueConstraints against the database."""
        guards.check_sync_access(type(self), "validate_unique")
        errors: dict[str, list[str]] = {}
        for group in self._unique_checks(set(exclude or ())):
            qs = self._unique_query(group)
            if qs is not None and qs.exists():
                key, message = self._unique_error(group)
                errors.setdefault(key, []).append(message)
        if errors:
            raise ValidationError(errors)

    async def avalidate_unique(self, exclude: Iterable[str] | None = None) -> None:
        """Async twin of :meth:`validate_unique`."""
        errors: dict[str, list[str]] = {}
        for group in self._unique_checks(set(exclude or ())):
            qs = self._unique_query(group)
            if qs is not None and await qs.aexists():
                key, message = self._unique_error(group)
                errors.setdefault(key, []).append(message)
        if errors:
            raise ValidationError(errors)

    def _clean_all(self, exclude: Iterable[str] | None) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        try:
            self.clean_fields(exclude)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            self.clean()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
        return errors

    def full_clean(self, exclude: Iterable[str] | None = None, validate_unique: bool = True) -> None:
        """Validate everything: fields (:meth:`clean_fields`), :meth:`clean`, then uniqueness
        (:meth:`validate_unique`, one query per unique check; ``validate_unique=False`` skips it).
        Raises one :class:`dorm.ValidationError` whose ``message_dict`` holds every problem."""
        errors = self._clean_all(exclude)
        if validate_unique:
            excluded = set(exclude or ()) | set(errors)
            try:
                self.validate_unique(excluded)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    async def afull_clean(self, exclude: Iterable[str] | None = None, validate_unique: bool = True) -> None:
        """Async twin of :meth:`full_clean`."""
        errors = self._clean_all(exclude)
        if validate_unique:
            excluded = set(exclude or ()) | set(errors)
            try:
                await self.avalidate_unique(excluded)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)


def _unpickle_model(app_label: str, object_name: str, fallback: type[Model]) -> Model:
    try:
        cls = apps.get_model(app_label, object_name)
    except LookupError:
        cls = fallback
    return cls.__new__(cls)


class AsyncModel(Model):
    """A model whose database access is async only.

    Every sync path that touches the database (``save()``, ``delete()``,
    ``refresh_from_db()``, sync QuerySet evaluation...) raises
    ``AsyncOnlyError: AsyncModel forbids sync access``; use ``await obj.asave()``,
    ``await Model.objects.aget(...)``, ``async for``...
    """

    _async_only = True

    class Meta:
        abstract = True
