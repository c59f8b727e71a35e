"""``TenantModel`` and its ``unscoped`` manager."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import dorm
from dorm.models.manager import Manager
from dorm.models.query import QuerySet

M = TypeVar("M", bound=dorm.Model)

__all__ = ["UNSCOPED_TAG", "TenantModel", "UnscopedManager", "tenant_models"]

#: the ``Query.tags`` marker of querysets built by ``Model.unscoped``
UNSCOPED_TAG = "dorm_tenancy.unscoped"

_subclasses: list[type[Any]] = []


class UnscopedManager(Manager[M]):
    """``Model.unscoped``: explicit cross-tenant access; its querysets skip the tenant filter.

    The whole statement is unscoped, subqueries included.  Writes through it
    (``update()``, ``delete()``) are cross-tenant too; inserts still need an
    active tenant (they are stamped with it).
    """

    def get_queryset(self) -> QuerySet[M]:
        qs = super().get_queryset()
        query = qs.query
        query.tags = query.tags | {UNSCOPED_TAG}
        return qs


if TYPE_CHECKING:
    _T = TypeVar("_T", bound="TenantModel")

    class _ManagerOf:
        def __get__(self, instance: None, owner: type[_T]) -> Manager[_T]: ...

    class _UnscopedOf:
        def __get__(self, instance: None, owner: type[_T]) -> UnscopedManager[_T]: ...


class TenantModel(dorm.Model):
    """Abstract base of models whose rows belong to one tenant.

    Adds ``tenant_id`` (``BigIntegerField(db_index=True)``; redeclare it with
    another field type, e.g. ``UUIDField(db_index=True)``, to change it), the
    scoped default manager ``objects`` and the cross-tenant manager
    ``unscoped``.  Inside ``with current_tenant(tid):`` every query is filtered
    to ``tid`` and every insert stamped with it; outside, any query raises
    :class:`dorm.exceptions.NoActiveTenantError`.
    """

    tenant_id = dorm.BigIntegerField(db_index=True)

    if TYPE_CHECKING:  # per subclass for type checkers: Invoice.objects is a Manager[Invoice]
        objects: ClassVar[_ManagerOf]
        unscoped: ClassVar[_UnscopedOf]
    else:
        objects = Manager()
        unscoped = UnscopedManager()

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _subclasses.append(cls)
        from dorm_tenancy import scope

        scope.activate()


_tables: dict[str, Any] = {}
_state = {"seen": -1, "complete": False}


def tenant_models() -> dict[str, Any]:
    """``{db_table: model}`` of every concrete TenantModel defined so far (latest class wins)."""
    if _state["seen"] != len(_subclasses) or not _state["complete"]:
        _tables.clear()
        complete = True
        for cls in _subclasses:
            meta = cls.__dict__.get("_meta")
            if meta is None:
                complete = False  # still being built by the metaclass
            elif not meta.abstract:
                _tables[meta.db_table] = cls
        _state["seen"] = len(_subclasses)
        _state["complete"] = complete
    return _tables
