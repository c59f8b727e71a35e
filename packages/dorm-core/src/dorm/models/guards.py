"""Model-level guards called from every write path and every sync database path.

``Meta.read_only`` models refuse writes (:class:`dorm.ReadOnlyModelError`);
``dorm.AsyncModel`` subclasses refuse sync database access
(:class:`dorm.AsyncOnlyError`).  The query engine calls these from each
QuerySet write / sync path; ``Model.save``/``delete`` call them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dorm.exceptions import AsyncOnlyError, ReadOnlyModelError

if TYPE_CHECKING:
    from dorm.models.base import Model

__all__ = ["check_sync_access", "check_writable", "read_only_error", "sync_access_error"]


def read_only_error(model: type[Model], operation: str) -> ReadOnlyModelError:
    name = model.__name__
    return ReadOnlyModelError(
        f"{name} is read-only (Meta.read_only = True): {operation}() refused. "
        f"Read from the model; write to the source of truth that feeds {name}'s table "
        "(another service, a view's base tables, a sync job), or remove Meta.read_only if this process owns the data."
    )


def check_writable(model: type[Model], operation: str) -> None:
    """Raise :class:`ReadOnlyModelError` when ``model`` has ``Meta.read_only = True``.

    ``operation`` is the refused method's name (``"save"``, ``"bulk_create"``...).
    """
    if model._meta.read_only:
        raise read_only_error(model, operation)


_TWINS = {
    "__iter__": "`async for obj in queryset` (or `await queryset`)",
    "__len__": "`len(await queryset)`",
    "__bool__": "`await queryset.aexists()`",
    "__getitem__": "`await queryset[...]` (or `await queryset.afirst()`)",
    "iterator": "`async for obj in queryset.aiterator()`",
}


def sync_access_error(model: type[Model], method: str) -> AsyncOnlyError:
    name = model.__name__
    twin = _TWINS.get(method) or f"`await ...a{method}(...)`"
    return AsyncOnlyError(
        f"AsyncModel forbids sync access: {name}.{method}() would touch the database synchronously, and "
        f"{name} is a dorm.AsyncModel. Use the async twin instead: {twin}."
    )


def check_sync_access(model: type[Model], method: str) -> None:
    """Raise :class:`AsyncOnlyError` when ``model`` is a :class:`dorm.AsyncModel`.

    ``method`` is the sync method's name; the message names its ``a*`` twin.
    """
    if model._meta.async_only:
        raise sync_access_error(model, method)
