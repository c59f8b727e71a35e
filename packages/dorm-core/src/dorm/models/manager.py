"""``Manager``: the ``Model.objects`` entry point to querysets.

A manager proxies every public :class:`~dorm.models.query.QuerySet` method
(``Author.objects.filter(...)`` is ``Author.objects.get_queryset().filter(...)``).
``Manager.from_queryset(MyQuerySet)`` builds a manager proxying a custom
queryset's methods too.  Managers are reachable from the class only.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dorm.models import express, guards
from dorm.models.query import QuerySet

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from dorm.models.base import Model

__all__ = ["BaseManager", "Manager", "ManagerDescriptor"]

M = TypeVar("M", bound="Model")


class ManagerDescriptor:
    """Class attribute holding a manager; instance access is refused (as in Django)."""

    def __init__(self, manager: BaseManager[Any]) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is not None:
            raise AttributeError(
                f"Manager isn't accessible via {type(instance).__name__} instances; use "
                f"{type(instance).__name__}.{self.manager.name} on the class."
            )
        return self.manager


class BaseManager(Generic[M]):
    """Managers hand out querysets; subclass and override :meth:`get_queryset` to filter."""

    _queryset_class: type[QuerySet[Any]] = QuerySet
    #: hands out plain querysets (default ``get_queryset`` and queryset class): get()/filter()
    #: may then skip building one (see dorm.models.express); set per class
    _plain: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain = cls.get_queryset is BaseManager.get_queryset and cls._queryset_class is QuerySet

    def __init__(self) -> None:
        self.model: type[M] = None  # type: ignore[assignment]
        self.name: str = ""
        self._db: str | None = None

    def contribute_to_class(self, model: type[M], name: str) -> None:
        """Attach to ``model`` as ``name`` (called by the model metaclass)."""
        self.model = model
        self.name = name
        type.__setattr__(model, name, ManagerDescriptor(self))
        model._meta.add_manager(self)

    def get_queryset(self) -> QuerySet[M]:
        """The base queryset of this manager (override to pre-filter)."""
        return self._queryset_class(self.model, using=self._db)

    def db_manager(self, using: str | None) -> BaseManager[M]:
        import copy

        clone = copy.copy(self)
        clone._db = using
        return clone

    @property
    def db(self) -> str:
        return self.get_queryset().db

    def __class_getitem__(cls, item: Any) -> Any:
        return cls

    def __repr__(self) -> str:
        model = getattr(self.model, "__name__", None)
        return f"<{type(self).__name__} {model}.{self.name}>"

    @classmethod
    def from_queryset(
        cls, queryset_class: type[QuerySet[Any]], class_name: str | None = None
    ) -> type[BaseManager[Any]]:
        """A manager class whose methods proxy ``queryset_class``'s public methods."""
        attrs: dict[str, Any] = {"_queryset_class": queryset_class}
        attrs.update(_proxy_methods(queryset_class, cls))
        return type(class_name or f"{cls.__name__}From{queryset_class.__name__}", (cls,), attrs)


def _proxy_methods(queryset_class: type[Any], manager_class: type[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in inspect.getmembers(queryset_class, predicate=inspect.isfunction):
        if name.startswith("_") or hasattr(manager_class, name):
            continue
        if name in ("delete", "adelete"):
            continue  # as in Django: deleting everything is spelled Model.objects.all().delete()
        out[name] = _make_proxy(name, member)
    return out


def _make_proxy(name: str, method: Any) -> Any:
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def agen_proxy(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
            async for item in getattr(self.get_queryset(), name)(*args, **kwargs):
                yield item

        return agen_proxy
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def aproxy(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
            return await getattr(self.get_queryset(), name)(*args, **kwargs)

        return aproxy

    @functools.wraps(method)
    def proxy(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    return proxy


class _ManagerBase(BaseManager[M]):
    def all(self) -> QuerySet[M]:
        """Every row (a fresh queryset)."""
        return self.get_queryset()

    # get() and filter() are the hottest entry points: a manager that hands out
    # plain querysets skips building one for get(**kw) (see dorm.models.express).

    def get(self, *args: Any, **kwargs: Any) -> M:
        """The one row matching; ``DoesNotExist`` / ``MultipleObjectsReturned`` otherwise."""
        if not args and self._plain:
            model = self.model
            if model._meta.async_only:
                raise guards.sync_access_error(model, "get")
            found = express.get(model, self._db, kwargs)
            if found is not express.MISS:
                return found  # type: ignore[no-any-return]
        return self.get_queryset().get(*args, **kwargs)

    async def aget(self, *args: Any, **kwargs: Any) -> M:
        if not args and self._plain:
            found = await express.aget(self.model, self._db, kwargs)
            if found is not express.MISS:
                return found  # type: ignore[no-any-return]
        return await self.get_queryset().aget(*args, **kwargs)

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Rows matching every condition (``Q`` objects and ``name__lookup=value``)."""
        if not args and kwargs and self._plain:
            return QuerySet._from_keywords(self.model, self._db, kwargs)
        return self.get_queryset().filter(*args, **kwargs)

    if TYPE_CHECKING:  # the proxied methods, typed for checkers

        def afilter(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...
        def exclude(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...
        def order_by(self, *fields: Any) -> QuerySet[M]: ...
        def select_related(self, *fields: str) -> QuerySet[M]: ...
        def prefetch_related(self, *lookups: Any) -> QuerySet[M]: ...
        def annotate(self, *args: Any, **kwargs: Any) -> QuerySet[M]: ...
        def values(self, *fields: str, **expressions: Any) -> QuerySet[Any]: ...
        def values_list(self, *fields: str, flat: bool = False, named: bool = False) -> QuerySet[Any]: ...
        def using(self, alias: str | None) -> QuerySet[M]: ...
        def none(self) -> QuerySet[M]: ...
        def only(self, *fields: str) -> QuerySet[M]: ...
        def defer(self, *fields: str) -> QuerySet[M]: ...
        def limit(self, n: int) -> QuerySet[M]: ...
        def get_or_none(self, *args: Any, **kwargs: Any) -> M | None: ...
        async def aget_or_none(self, *args: Any, **kwargs: Any) -> M | None: ...
        def first(self) -> M | None: ...
        async def afirst(self) -> M | None: ...
        def last(self) -> M | None: ...
        async def alast(self) -> M | None: ...
        def count(self) -> int: ...
        async def acount(self) -> int: ...
        def exists(self) -> bool: ...
        async def aexists(self) -> bool: ...
        def create(self, **kwargs: Any) -> M: ...
        async def acreate(self, **kwargs: Any) -> M: ...
        def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]: ...
        async def aget_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]: ...
        def update_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]: ...
        async def aupdate_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]: ...
        def bulk_create(
            self,
            objs: Iterable[M],
            batch_size: int | None = None,
            ignore_conflicts: bool = False,
            update_conflicts: bool = False,
            update_fields: Sequence[str] | None = None,
            unique_fields: Sequence[str] | None = None,
        ) -> list[M]: ...
        async def abulk_create(
            self,
            objs: Iterable[M],
            batch_size: int | None = None,
            ignore_conflicts: bool = False,
            update_conflicts: bool = False,
            update_fields: Sequence[str] | None = None,
            unique_fields: Sequence[str] | None = None,
        ) -> list[M]: ...
        def bulk_update(self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None) -> int: ...
        async def abulk_update(
            self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None
        ) -> int: ...
        def in_bulk(self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk") -> dict[Any, M]: ...
        async def ain_bulk(self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk") -> dict[Any, M]: ...
        def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
        async def aaggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
        def update(self, **kwargs: Any) -> int: ...
        async def aupdate(self, **kwargs: Any) -> int: ...


class Manager(_ManagerBase[M], BaseManager.from_queryset(QuerySet)):  # type: ignore[misc]
    """The default manager (``Model.objects``)."""
