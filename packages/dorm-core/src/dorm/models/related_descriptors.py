"""Relation access on instances: forward FK/O2O reads and writes, reverse
accessors (``author.books``, ``user.profile``), and the related managers of
reverse foreign keys and many-to-many relations.

Forward objects are cached in ``instance._state.fields_cache[field.name]``
(``select_related`` and ``prefetch_related`` fill it too); to-many prefetch
results live in ``instance._prefetched_objects_cache[accessor]``.  Reading an
unloaded relation runs one query in sync code; inside a running event loop
it raises :class:`dorm.exceptions.UnloadedRelationError` naming the fixes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dorm.exceptions import ImproperlyConfigured, UnloadedRelationError, ValidationError
from dorm.fields.base import load_deferred

if TYPE_CHECKING:
    from dorm.fields.related import ForeignKey, ForeignObjectRel, ManyToManyRel
    from dorm.models.base import Model

__all__ = [
    "ManyToManyDescriptor",
    "ReverseManyToOneDescriptor",
    "ReverseOneToOneDescriptor",
    "create_forward_many_to_many_manager",
    "create_reverse_many_to_one_manager",
    "get_forward",
    "get_many_to_many_manager",
    "make_fk_attname_setter",
    "make_fk_setter",
    "prepare_related_fields_for_save",
    "unloaded_error",
]

_get_running_loop = asyncio._get_running_loop


def unloaded_error(model: type[Model], name: str, *, many: bool = False) -> UnloadedRelationError:
    """The error for touching an unloaded relation inside a running event loop."""
    model_name = model.__name__
    loader = f"prefetch_related({name!r})" if many else f"select_related({name!r})"
    other = "" if many else f" (or prefetch_related({name!r}))"
    return UnloadedRelationError(
        f"{model_name}.{name} is not loaded, and loading it now would run a sync query while this event loop is already running. "
        f"Load it with the query that fetched the object: {model_name}.objects.{loader}{other}, "
        f"or on this instance: `await obj.afetch_related({name!r})`."
    )


def _tag(qs: Any, name: str, value: Any) -> None:
    """Set an optional hint on a queryset (``_origin`` for the N+1 detector, ``_known_related_objects``);
    a queryset class without the slot simply does not get it."""
    try:
        setattr(qs, name, value)
    except AttributeError:
        pass


# --------------------------------------------------------------------------
# forward ForeignKey / OneToOneField
# --------------------------------------------------------------------------


def get_forward(field: ForeignKey[Any], instance: Model) -> Any:
    """``book.author``: the cached object, else one query (sync), else an error (inside a loop)."""
    cache = instance._state.fields_cache
    name = field.name
    try:
        return cache[name]
    except KeyError:
        pass
    value = instance.__dict__.get(field.attname, _MISSING)
    if value is _MISSING:
        value = load_deferred(instance, field)
    if value is None:
        return None
    if _get_running_loop() is not None:
        raise unloaded_error(type(instance), name)
    target = field.related_model
    qs = target._meta.base_manager.get_queryset()
    if instance._state.db is not None:
        qs = qs.using(instance._state.db)
    _tag(qs, "_origin", f"{type(instance).__name__}.{name}")
    target_field = field.target_field
    lookup = "pk" if target_field.primary_key else target_field.name
    obj = qs.get(**{lookup: value})
    cache[name] = obj
    if field.one_to_one:
        accessor = field.remote_field.get_accessor_name()
        if accessor is not None:
            obj._state.fields_cache[accessor] = instance
    return obj


_MISSING: Any = object()


def make_fk_setter(field: ForeignKey[Any]) -> Any:
    """``book.author = author``: sets ``author_id`` and the cache; checks the type."""
    name = field.name
    attname = field.attname
    target_attname: list[str] = []  # resolved on first use (the target may be defined later)

    def setter(instance: Model, value: Any) -> None:
        data = instance.__dict__
        cache = instance._state.fields_cache
        if value is None:
            data[attname] = None
            cache[name] = None
            return
        target = field.remote_field.model
        if type(target) is str:
            target = field.related_model  # raises: the target is not defined yet
        if not isinstance(value, target):
            hint = f" To assign a key, set {attname}={value!r}." if not hasattr(value, "_meta") else ""
            raise ValidationError(
                f'Cannot assign {value!r}: "{type(instance).__name__}.{name}" must be a "{target.__name__}" instance.{hint}',
                code="invalid",
            )
        if not target_attname:
            target_attname.append(field.target_field.attname)
        data[attname] = value.__dict__.get(target_attname[0])
        cache[name] = value
        if field.one_to_one:
            accessor = field.remote_field.get_accessor_name()
            if accessor is not None:
                value._state.fields_cache[accessor] = instance

    return setter


def make_fk_attname_setter(field: ForeignKey[Any]) -> Any:
    """``book.author_id = 3``: coerces with the target key's rules and drops a stale cached object."""
    name = field.name
    attname = field.attname
    convert: list[Any] = []  # resolved on first use (the target may be defined later)

    def setter(instance: Model, value: Any) -> None:
        if value is not None:
            if not convert:
                convert.append(key_converter(field))
            value = convert[0](value)
        cache = instance._state.fields_cache
        if name in cache:
            cached = cache[name]
            if cached is None or cached.__dict__.get(field.target_field.attname) != value:
                del cache[name]
        instance.__dict__[attname] = value

    return setter


def key_converter(field: ForeignKey[Any]) -> Any:
    """``field.to_python`` for a non-None key: the target field's own converter when
    ``to_python`` is the ForeignKey one (which only delegates to the target field)."""
    from dorm.fields.related import ForeignKey
    from dorm.models.options import non_null_converter

    if type(field).to_python is ForeignKey.to_python:
        return non_null_converter(field.target_field)
    return field.to_python


def prepare_related_fields_for_save(instance: Model, operation: str) -> None:
    """Before a save: copy keys from cached related objects saved since assignment;
    refuse unsaved ones (they would be lost)."""
    cache = instance._state.fields_cache
    if not cache:
        return
    data = instance.__dict__
    for field in instance._meta.concrete_fields:
        if not field.is_relation or field.name not in cache:
            continue
        obj = cache[field.name]
        if obj is None:
            continue
        target_attname = field.target_field.attname  # type: ignore[attr-defined]
        key = obj.__dict__.get(target_attname)
        if key is None:
            raise ValueError(
                f"{operation}() prohibited to prevent data loss due to unsaved related object {field.name!r}: "
                f"save the {type(obj).__name__} first (obj.{field.name}.save()), then save this {type(instance).__name__}."
            )
        if data.get(field.attname) is None:
            data[field.attname] = key
        elif data[field.attname] != key:
            del cache[field.name]


# --------------------------------------------------------------------------
# reverse OneToOne
# --------------------------------------------------------------------------


class ReverseOneToOneDescriptor:
    """``user.profile``: the one row whose OneToOneField points at this instance."""

    def __init__(self, rel: ForeignObjectRel) -> None:
        self.rel = rel
        self.accessor = rel.get_accessor_name() or ""

    def _does_not_exist(self, instance: Model) -> Exception:
        related = self.rel.related_model
        error_class = type(
            "RelatedObjectDoesNotExist",
            (related.DoesNotExist, AttributeError),
            {
                "__module__": related.__module__,
                "__qualname__": f"{type(instance).__qualname__}.{self.accessor}.RelatedObjectDoesNotExist",
            },
        )
        error: Exception = error_class(f"{type(instance).__name__} has no {self.accessor}.")
        return error

    def __get__(self, instance: Model | None, owner: Any = None) -> Any:
        if instance is None:
            return self
        cache = instance._state.fields_cache
        try:
            obj = cache[self.accessor]
        except KeyError:
            pk = instance.pk
            if pk is None:
                raise self._does_not_exist(instance) from None
            if _get_running_loop() is not None:
                raise unloaded_error(type(instance), self.accessor) from None
            field = self.rel.field
            qs = self.rel.related_model._meta.base_manager.get_queryset()
            if instance._state.db is not None:
                qs = qs.using(instance._state.db)
            _tag(qs, "_origin", f"{type(instance).__name__}.{self.accessor}")
            target_value = getattr(instance, field.target_field.attname)  # type: ignore[attr-defined]
            obj = qs.filter(**{field.attname: target_value}).first()
            cache[self.accessor] = obj
            if obj is not None:
                obj._state.fields_cache[field.name] = instance
        if obj is None:
            raise self._does_not_exist(instance)
        return obj

    def set(self, instance: Model, value: Any) -> None:
        cache = instance._state.fields_cache
        if value is None:
            cache[self.accessor] = None
            return
        related = self.rel.related_model
        if not isinstance(value, related):
            raise ValidationError(
                f'Cannot assign {value!r}: "{type(instance).__name__}.{self.accessor}" must be a "{related.__name__}" instance.'
            )
        setattr(value, self.rel.field.name, instance)
        cache[self.accessor] = value


# --------------------------------------------------------------------------
# reverse ForeignKey: author.books
# --------------------------------------------------------------------------


class ReverseManyToOneDescriptor:
    """``author.books``: a related manager over the rows whose ForeignKey points here."""

    def __init__(self, rel: ForeignObjectRel) -> None:
        self.rel = rel
        self.accessor = rel.get_accessor_name() or ""
        self._manager_class: type | None = None

    def manager_class(self) -> type:
        if self._manager_class is None:
            base = type(self.rel.related_model._meta.default_manager)
            self._manager_class = create_reverse_many_to_one_manager(base, self.rel)
        return self._manager_class

    def __get__(self, instance: Model | None, owner: Any = None) -> Any:
        if instance is None:
            return self
        return self.manager_class()(instance)

    def set(self, instance: Model, value: Any) -> None:
        raise TypeError(
            f"Direct assignment to the reverse side of a related set is prohibited. Use {self.accessor}.set() instead (or `await obj.{self.accessor}.aset(...)`)."
        )


def _check_saved(instance: Model, relation: str) -> None:
    if instance.pk is None:
        raise ValueError(
            f"{type(instance).__name__} instance needs a primary key value before the relation {relation!r} can be used: save it first."
        )


def _prefetched(instance: Model, name: str) -> Any:
    cache = instance.__dict__.get("_prefetched_objects_cache")
    if cache is None:
        return None
    return cache.get(name)


def _forget_prefetch(instance: Model, name: str) -> None:
    cache = instance.__dict__.get("_prefetched_objects_cache")
    if cache is not None:
        cache.pop(name, None)


def create_reverse_many_to_one_manager(superclass: type, rel: ForeignObjectRel) -> type:
    """A Manager subclass for the reverse side of ``rel`` (a ForeignKey), bound per instance."""
    field: ForeignKey[Any] = rel.field  # type: ignore[assignment]
    accessor = rel.get_accessor_name() or field.related_query_name()

    class RelatedManager(superclass):  # type: ignore[misc]
        def __init__(self, instance: Model) -> None:
            super().__init__()
            self.instance = instance
            self.model = rel.related_model
            self.name = accessor
            self.field = field
            self.core_filters = {field.name: instance}

        def _key(self) -> Any:
            return getattr(self.instance, field.target_field.attname)

        def _apply_filters(self, qs: Any) -> Any:
            instance = self.instance
            _check_saved(instance, accessor)
            db = instance._state.db
            if db is not None:
                qs = qs.using(db)
            qs = qs.filter(**{field.name: self._key()})
            _tag(qs, "_origin", f"{type(instance).__name__}.{accessor}")
            _tag(qs, "_known_related_objects", {field: {self._key(): instance}})
            return qs

        def get_queryset(self) -> Any:
            cached = _prefetched(self.instance, accessor)
            if cached is not None:
                return cached
            return self._apply_filters(super().get_queryset())

        def _fresh(self) -> Any:
            return self._apply_filters(rel.related_model._meta.base_manager.get_queryset())

        # -- writes ------------------------------------------------------------

        def _prepare_objs(self, objs: Iterable[Any], bulk: bool) -> list[Any]:
            out = []
            model = rel.related_model
            for obj in objs:
                if not isinstance(obj, model):
                    raise TypeError(f"'{model.__name__}' instance expected, got {obj!r}.")
                if bulk and obj._state.adding:
                    raise ValueError(f"{obj!r} instance isn't saved. Use bulk=False or save the object first.")
                out.append(obj)
            return out

        def _assign(self, objs: list[Any]) -> None:
            for obj in objs:
                setattr(obj, field.name, self.instance)

        def add(self, *objs: Any, bulk: bool = True) -> None:
            """Point each object's ForeignKey at this instance (one UPDATE with ``bulk``, else one save each)."""
            _check_saved(self.instance, accessor)
            prepared = self._prepare_objs(objs, bulk)
            _forget_prefetch(self.instance, accessor)
            self._assign(prepared)
            if bulk:
                if prepared:
                    rel.related_model._meta.base_manager.filter(pk__in=[o.pk for o in prepared]).update(
                        **{field.name: self._key()}
                    )
            else:
                for obj in prepared:
                    obj.save()

        async def aadd(self, *objs: Any, bulk: bool = True) -> None:
            """Async twin of :meth:`add`."""
            _check_saved(self.instance, accessor)
            prepared = self._prepare_objs(objs, bulk)
            _forget_prefetch(self.instance, accessor)
            self._assign(prepared)
            if bulk:
                if prepared:
                    await rel.related_model._meta.base_manager.filter(pk__in=[o.pk for o in prepared]).aupdate(
                        **{field.name: self._key()}
                    )
            else:
                for obj in prepared:
                    await obj.asave()

        def create(self, **kwargs: Any) -> Any:
            """Create a row pointing at this instance."""
            _check_saved(self.instance, accessor)
            _forget_prefetch(self.instance, accessor)
            kwargs[field.name] = self.instance
            obj = rel.related_model(**kwargs)
            obj.save(using=self.instance._state.db)
            return obj

        async def acreate(self, **kwargs: Any) -> Any:
            """Async twin of :meth:`create`."""
            _check_saved(self.instance, accessor)
            _forget_prefetch(self.instance, accessor)
            kwargs[field.name] = self.instance
            obj = rel.related_model(**kwargs)
            await obj.asave(using=self.instance._state.db)
            return obj

        def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            _check_saved(self.instance, accessor)
            kwargs[field.name] = self.instance
            return self._fresh().get_or_create(defaults=defaults, **kwargs)

        async def aget_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            _check_saved(self.instance, accessor)
            kwargs[field.name] = self.instance
            return await self._fresh().aget_or_create(defaults=defaults, **kwargs)

        def update_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            _check_saved(self.instance, accessor)
            kwargs[field.name] = self.instance
            return self._fresh().update_or_create(defaults=defaults, **kwargs)

        async def aupdate_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            _check_saved(self.instance, accessor)
            kwargs[field.name] = self.instance
            return await self._fresh().aupdate_or_create(defaults=defaults, **kwargs)

        def _check_nullable(self, method: str) -> None:
            if not field.null:
                raise TypeError(
                    f"{accessor}.{method}() would set {field.model.__name__}.{field.name} to NULL, but that ForeignKey "
                    f"is not nullable (null=False). Delete the rows instead ({accessor}.all().delete()), reassign them "
                    f"to another {field.related_model.__name__}, or make the field null=True."
                )

        def _removable(self, objs: Iterable[Any]) -> list[Any]:
            key = self._key()
            pks = []
            for obj in objs:
                if not isinstance(obj, rel.related_model):
                    raise TypeError(f"'{rel.related_model.__name__}' instance expected, got {obj!r}.")
                if obj.__dict__.get(field.attname) != key:
                    raise rel.related_model.DoesNotExist(f"{obj!r} is not related to {self.instance!r}.")
                pks.append(obj.pk)
                obj.__dict__[field.attname] = None
                obj._state.fields_cache[field.name] = None
            return pks

        def remove(self, *objs: Any, bulk: bool = True) -> None:
            """Set the ForeignKey of these objects to NULL (nullable ForeignKeys only)."""
            self._check_nullable("remove")
            _forget_prefetch(self.instance, accessor)
            pks = self._removable(objs)
            if not pks:
                return
            if bulk:
                self._fresh().filter(pk__in=pks).update(**{field.name: None})
            else:
                for obj in objs:
                    obj.save(update_fields=[field.name])

        async def aremove(self, *objs: Any, bulk: bool = True) -> None:
            """Async twin of :meth:`remove`."""
            self._check_nullable("remove")
            _forget_prefetch(self.instance, accessor)
            pks = self._removable(objs)
            if not pks:
                return
            if bulk:
                await self._fresh().filter(pk__in=pks).aupdate(**{field.name: None})
            else:
                for obj in objs:
                    await obj.asave(update_fields=[field.name])

        def clear(self, bulk: bool = True) -> None:
            """Detach every related row (nullable ForeignKeys only)."""
            self._check_nullable("clear")
            _forget_prefetch(self.instance, accessor)
            self._fresh().update(**{field.name: None})

        async def aclear(self, bulk: bool = True) -> None:
            """Async twin of :meth:`clear`."""
            self._check_nullable("clear")
            _forget_prefetch(self.instance, accessor)
            await self._fresh().aupdate(**{field.name: None})

        def set(self, objs: Iterable[Any], *, bulk: bool = True, clear: bool = False) -> None:
            """Make exactly ``objs`` the related rows (removing others needs a nullable ForeignKey)."""
            objs = list(objs)
            if field.null:
                if clear:
                    self.clear()
                    self.add(*objs, bulk=bulk)
                    return
                current = {o.pk: o for o in self._fresh()}
                wanted = {o.pk for o in objs}
                stale = [o for pk, o in current.items() if pk not in wanted]
                if stale:
                    self.remove(*stale, bulk=bulk)
                self.add(*[o for o in objs if o.pk not in current], bulk=bulk)
            else:
                self.add(*objs, bulk=bulk)

        async def aset(self, objs: Iterable[Any], *, bulk: bool = True, clear: bool = False) -> None:
            """Async twin of :meth:`set`."""
            objs = list(objs)
            if field.null:
                if clear:
                    await self.aclear()
                    await self.aadd(*objs, bulk=bulk)
                    return
                current = {o.pk: o for o in await self._fresh()}
                wanted = {o.pk for o in objs}
                stale = [o for pk, o in current.items() if pk not in wanted]
                if stale:
                    await self.aremove(*stale, bulk=bulk)
                await self.aadd(*[o for o in objs if o.pk not in current], bulk=bulk)
            else:
                await self.aadd(*objs, bulk=bulk)

    RelatedManager.__qualname__ = (
        f"{rel.model.__name__ if isinstance(rel.model, type) else rel.model}.{accessor}.RelatedManager"
    )
    return RelatedManager


# --------------------------------------------------------------------------
# many-to-many: book.tags / tag.books
# --------------------------------------------------------------------------


class ManyToManyDescriptor:
    """The reverse side of a ManyToManyField (``tag.books``); the forward side is the field itself."""

    def __init__(self, rel: ManyToManyRel, *, reverse: bool) -> None:
        self.rel = rel
        self.reverse = reverse
        self.accessor = rel.get_accessor_name() if reverse else rel.field.name

    def __get__(self, instance: Model | None, owner: Any = None) -> Any:
        if instance is None:
            return self
        return get_many_to_many_manager(self.rel, instance, reverse=self.reverse)

    def set(self, instance: Model, value: Any) -> None:
        raise TypeError(
            f"Direct assignment to the reverse side of a many-to-many set is prohibited. Use {self.accessor}.set() instead (or `await obj.{self.accessor}.aset(...)`)."
        )


def get_many_to_many_manager(rel: ManyToManyRel, instance: Model, *, reverse: bool) -> Any:
    # built once per relation side, kept on the rel (so it dies with the model)
    classes: dict[bool, type] = rel.__dict__.setdefault("_manager_classes", {})
    manager_class = classes.get(reverse)
    if manager_class is None:
        target = rel.related_model if reverse else rel.model
        if isinstance(target, str):
            raise ImproperlyConfigured(
                f"{rel.field!r} points at {target!r}, which is not defined (no model of that name is registered)."
            )
        base = type(target._meta.default_manager)
        manager_class = create_forward_many_to_many_manager(base, rel, reverse=reverse)
        classes[reverse] = manager_class
    return manager_class(instance)


def create_forward_many_to_many_manager(superclass: type, rel: ManyToManyRel, *, reverse: bool) -> type:
    """A Manager subclass for one side of a many-to-many relation, bound per instance.

    Changes send ``m2m_changed`` (``pre_add``/``post_add``, ``pre_remove``/
    ``post_remove``, ``pre_clear``/``post_clear``); async receivers run on the
    ``a*`` paths only.
    """
    from dorm import signals

    m2m_field = rel.field
    accessor = (rel.get_accessor_name() or "") if reverse else m2m_field.name

    class ManyRelatedManager(superclass):  # type: ignore[misc]
        def __init__(self, instance: Model) -> None:
            super().__init__()
            self.instance = instance
            self.reverse = reverse
            source_fk, target_fk = m2m_field.m2m_fields()  # type: ignore[attr-defined]
            if reverse:
                source_fk, target_fk = target_fk, source_fk
            self.source_fk = source_fk
            self.target_fk = target_fk
            self.through = m2m_field.through  # type: ignore[attr-defined]
            self.model = target_fk.related_model
            self.name = accessor

        def _key(self) -> Any:
            _check_saved(self.instance, accessor)
            return getattr(self.instance, self.source_fk.target_field.attname)

        def _through_rows(self) -> Any:
            qs = self.through._meta.base_manager.get_queryset()
            db = self.instance._state.db
            if db is not None:
                qs = qs.using(db)
            return qs.filter(**{self.source_fk.name: self._key()})

        def _apply_filters(self, qs: Any) -> Any:
            db = self.instance._state.db
            if db is not None:
                qs = qs.using(db)
            target_lookup = "pk" if self.target_fk.target_field.primary_key else self.target_fk.target_field.name
            qs = qs.filter(**{f"{target_lookup}__in": self._through_rows().values(self.target_fk.name)})
            _tag(qs, "_origin", f"{type(self.instance).__name__}.{accessor}")
            return qs

        def get_queryset(self) -> Any:
            cached = _prefetched(self.instance, accessor)
            if cached is not None:
                return cached
            return self._apply_filters(super().get_queryset())

        # -- helpers --------------------------------------------------------------

        def _target_keys(self, objs: Iterable[Any]) -> list[Any]:
            target_field = self.target_fk.target_field
            keys: list[Any] = []
            for obj in objs:
                if isinstance(obj, self.model):
                    if obj._state.adding and obj.pk is None:
                        raise ValueError(f"Cannot add {obj!r} to {accessor}: it is not saved yet. Save it first.")
                    keys.append(getattr(obj, target_field.attname))
                elif hasattr(obj, "_meta"):
                    raise TypeError(f"'{self.model.__name__}' instance expected, got {obj!r}.")
                else:
                    keys.append(target_field.to_python(obj))
            return list(dict.fromkeys(keys))

        def _send(self, action: str, pk_set: set[Any] | None) -> None:
            if signals.m2m_changed.has_listeners(self.through):
                signals.m2m_changed.send(
                    sender=self.through,
                    instance=self.instance,
                    action=action,
                    reverse=reverse,
                    model=self.model,
                    pk_set=pk_set,
                    using=self.instance._state.db,
                )

        async def _asend(self, action: str, pk_set: set[Any] | None) -> None:
            if signals.m2m_changed.has_listeners(self.through):
                await signals.m2m_changed.asend(
                    sender=self.through,
                    instance=self.instance,
                    action=action,
                    reverse=reverse,
                    model=self.model,
                    pk_set=pk_set,
                    using=self.instance._state.db,
                )

        def _rows(self, keys: Iterable[Any], through_defaults: dict[str, Any] | None) -> list[Any]:
            source_key = self._key()
            defaults = {k: (v() if callable(v) else v) for k, v in (through_defaults or {}).items()}
            return [
                self.through(**{self.source_fk.attname: source_key, self.target_fk.attname: key, **defaults})
                for key in keys
            ]

        # -- add ------------------------------------------------------------------------

        def add(self, *objs: Any, through_defaults: dict[str, Any] | None = None) -> None:
            """Link ``objs`` (instances or keys); links that exist are left alone."""
            keys = self._target_keys(objs)
            _forget_prefetch(self.instance, accessor)
            if not keys:
                return
            existing = set(
                self._through_rows()
                .filter(**{f"{self.target_fk.name}__in": keys})
                .values_list(self.target_fk.name, flat=True)
            )
            new = [k for k in keys if k not in existing]
            self._send("pre_add", set(new))
            if new:
                manager = self.through._meta.base_manager
                qs = manager.using(self.instance._state.db) if self.instance._state.db else manager.get_queryset()
                qs.bulk_create(self._rows(new, through_defaults))
            self._send("post_add", set(new))

        async def aadd(self, *objs: Any, through_defaults: dict[str, Any] | None = None) -> None:
            """Async twin of :meth:`add`."""
            keys = self._target_keys(objs)
            _forget_prefetch(self.instance, accessor)
            if not keys:
                return
            existing = {
                k
                async for k in self._through_rows()
                .filter(**{f"{self.target_fk.name}__in": keys})
                .values_list(self.target_fk.name, flat=True)
            }
            new = [k for k in keys if k not in existing]
            await self._asend("pre_add", set(new))
            if new:
                manager = self.through._meta.base_manager
                qs = manager.using(self.instance._state.db) if self.instance._state.db else manager.get_queryset()
                await qs.abulk_create(self._rows(new, through_defaults))
            await self._asend("post_add", set(new))

        # -- remove / clear ------------------------------------------------------------

        def remove(self, *objs: Any) -> None:
            """Unlink ``objs`` (instances or keys)."""
            keys = self._target_keys(objs)
            _forget_prefetch(self.instance, accessor)
            self._send("pre_remove", set(keys))
            if keys:
                self._through_rows().filter(**{f"{self.target_fk.name}__in": keys}).delete()
            self._send("post_remove", set(keys))

        async def aremove(self, *objs: Any) -> None:
            """Async twin of :meth:`remove`."""
            keys = self._target_keys(objs)
            _forget_prefetch(self.instance, accessor)
            await self._asend("pre_remove", set(keys))
            if keys:
                await self._through_rows().filter(**{f"{self.target_fk.name}__in": keys}).adelete()
            await self._asend("post_remove", set(keys))

        def clear(self) -> None:
            """Unlink everything."""
            _forget_prefetch(self.instance, accessor)
            self._send("pre_clear", None)
            self._through_rows().delete()
            self._send("post_clear", None)

        async def aclear(self) -> None:
            """Async twin of :meth:`clear`."""
            _forget_prefetch(self.instance, accessor)
            await self._asend("pre_clear", None)
            await self._through_rows().adelete()
            await self._asend("post_clear", None)

        # -- set / create -------------------------------------------------------------------

        def set(
            self, objs: Iterable[Any], *, clear: bool = False, through_defaults: dict[str, Any] | None = None
        ) -> None:
            """Make exactly ``objs`` the linked objects (only the difference is written, unless ``clear``)."""
            objs = list(objs)
            if clear:
                self.clear()
                self.add(*objs, through_defaults=through_defaults)
                return
            wanted = self._target_keys(objs)
            current = set(self._through_rows().values_list(self.target_fk.name, flat=True))
            stale = [k for k in current if k not in set(wanted)]
            if stale:
                self.remove(*stale)
            self.add(*[k for k in wanted if k not in current], through_defaults=through_defaults)

        async def aset(
            self, objs: Iterable[Any], *, clear: bool = False, through_defaults: dict[str, Any] | None = None
        ) -> None:
            """Async twin of :meth:`set`."""
            objs = list(objs)
            if clear:
                await self.aclear()
                await self.aadd(*objs, through_defaults=through_defaults)
                return
            wanted = self._target_keys(objs)
            current = {k async for k in self._through_rows().values_list(self.target_fk.name, flat=True)}
            stale = [k for k in current if k not in set(wanted)]
            if stale:
                await self.aremove(*stale)
            await self.aadd(*[k for k in wanted if k not in current], through_defaults=through_defaults)

        def create(self, *, through_defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            """Create a target object and link it."""
            _check_saved(self.instance, accessor)
            obj = self.model(**kwargs)
            obj.save(using=self.instance._state.db)
            self.add(obj, through_defaults=through_defaults)
            return obj

        async def acreate(self, *, through_defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            """Async twin of :meth:`create`."""
            _check_saved(self.instance, accessor)
            obj = self.model(**kwargs)
            await obj.asave(using=self.instance._state.db)
            await self.aadd(obj, through_defaults=through_defaults)
            return obj

        def get_or_create(
            self,
            *,
            through_defaults: dict[str, Any] | None = None,
            defaults: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            obj, created = self.model._meta.default_manager.get_or_create(defaults=defaults, **kwargs)
            self.add(obj, through_defaults=through_defaults)
            return obj, created

        async def aget_or_create(
            self,
            *,
            through_defaults: dict[str, Any] | None = None,
            defaults: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            obj, created = await self.model._meta.default_manager.aget_or_create(defaults=defaults, **kwargs)
            await self.aadd(obj, through_defaults=through_defaults)
            return obj, created

        def update_or_create(
            self,
            *,
            through_defaults: dict[str, Any] | None = None,
            defaults: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            """Update or create a target object (matched by ``kwargs``) and link it."""
            obj, created = self.model._meta.default_manager.update_or_create(defaults=defaults, **kwargs)
            self.add(obj, through_defaults=through_defaults)
            return obj, created

        async def aupdate_or_create(
            self,
            *,
            through_defaults: dict[str, Any] | None = None,
            defaults: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            """Async twin of :meth:`update_or_create`."""
            obj, created = await self.model._meta.default_manager.aupdate_or_create(defaults=defaults, **kwargs)
            await self.aadd(obj, through_defaults=through_defaults)
            return obj, created

    ManyRelatedManager.__qualname__ = f"{accessor}.ManyRelatedManager"
    return ManyRelatedManager
