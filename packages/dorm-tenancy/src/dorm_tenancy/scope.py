"""The tenant filter and stamp: hooks registered once the first TenantModel exists.

While no ``TenantModel`` is defined nothing here is registered, so the core's
per-query fast paths stay on for applications that do not use tenancy.

* SELECT / UPDATE / DELETE (``dorm_query_pre_compile``): every tenant table
  of the statement is filtered (the base table, joined tables, and the
  tables of every subquery, ``Exists``, ``__in=queryset`` and ``union``
  part).  A joined tenant table reached through a nullable (LEFT) join is
  filtered as ``tenant = t OR joined row IS NULL`` so rows whose relation
  is empty stay.  Subqueries live in the where tree shared with the user's
  queryset, so they are replaced by filtered copies, never mutated.
* INSERT: every row is stamped with the tenant; a row carrying another
  tenant, or an UPDATE-then-INSERT fallback of a row not found in this
  tenant, is refused.
* ``save()`` / ``delete()`` / ``bulk_update()`` of an instance of another
  tenant are refused before any SQL runs.
"""

from __future__ import annotations

import copy
from typing import Any

from dorm import hookimpl, plugins
from dorm.expressions import Col, Expression, Subquery, Value
from dorm.lookups import IsNull
from dorm.sql.query import INSERT, UPDATE, Join, Query, WhereNode
from dorm_tenancy.context import get_current_tenant
from dorm_tenancy.errors import CrossTenantWriteError, no_active_tenant
from dorm_tenancy.models import UNSCOPED_TAG, tenant_models

__all__ = ["TenancyHooks", "activate", "hooks"]

PLUGIN_NAME = "dorm_tenancy.scope"
TENANT_FIELD = "tenant_id"


def _is_tenant(model: Any) -> bool:
    meta = getattr(model, "_meta", None)
    return meta is not None and tenant_models().get(meta.db_table) is model


def _tenant_field(model: Any) -> Any:
    return model._meta.get_field(TENANT_FIELD)


def _unset(value: Any) -> bool:
    """No tenant assigned yet (``None``, or the empty default of a CharField tenant column)."""
    return value is None or value == ""


def _same(field: Any, a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return bool(field.to_python(a) == field.to_python(b))
    except Exception:
        return False


class _Scoper:
    """Adds the tenant filter to one statement; the tenant is required only if a tenant table appears."""

    __slots__ = ("tid", "what")

    def __init__(self, what: str) -> None:
        self.tid = get_current_tenant()
        self.what = what

    def tenant(self, model: Any) -> Any:
        if self.tid is None:
            raise no_active_tenant(model, self.what)
        return self.tid

    def scope(self, q: Query) -> None:
        if q.combinator:
            q.combined = tuple(self.scoped_copy(part) for part in q.combined)
            return
        if q.where is not None:
            q.where = self.walk(q.where)
        if q.annotations:
            q.annotations = {n: self.walk(e) for n, e in q.annotations.items()}
        if q.select_exprs:
            q.select_exprs = {n: self.walk(e) for n, e in q.select_exprs.items()}
        if q.order_by:
            q.order_by = self.walk(q.order_by)
        if q.group_by:
            q.group_by = self.walk(q.group_by)
        if q.update_values:
            q.update_values = [(f, self.walk(e)) for f, e in q.update_values]
        if q.kind == UPDATE and _is_tenant(q.model):
            self.check_update_values(q)
        conditions: list[Expression] = []
        for alias, join in list(q.alias_map.items()):
            model = q.model if join is None else tenant_models().get(join.table)
            if model is None or not _is_tenant(model):
                continue
            conditions.append(self.condition(q, model, alias, join))
        if conditions:
            if q.where is None:
                q.where = WhereNode([])
            q.where.nodes.extend(conditions)

    def condition(self, q: Query, model: Any, alias: str, join: Join | None) -> Expression:
        field = _tenant_field(model)
        cond = q.make_lookup(Col(alias, field.column, field), "exact", self.tenant(model), TENANT_FIELD)
        if join is None or not join.nullable:
            return cond
        key_field = next(f for f in model._meta.concrete_fields if f.column == join.column)
        return WhereNode([cond, IsNull(Col(alias, join.column, key_field), True)], "OR")

    def check_update_values(self, q: Query) -> None:
        field = _tenant_field(q.model)
        for f, expr in q.update_values:
            if f is not field:
                continue
            tid = self.tenant(q.model)
            if not (isinstance(expr, Value) and _same(field, expr.value, tid)):
                raise CrossTenantWriteError(
                    f"update({TENANT_FIELD}=...) on {q.model.__name__} would move rows out of the active "
                    f"tenant {tid!r}. Rows cannot change tenant inside current_tenant(); use "
                    f"{q.model.__name__}.unscoped.filter(...).update(...) for a deliberate migration."
                )

    def scoped_copy(self, inner: Query) -> Query:
        clone = inner.clone()
        if UNSCOPED_TAG not in clone.tags:
            self.scope(clone)
        return clone

    def walk(self, node: Any) -> Any:
        """``node`` with every nested Subquery replaced by a filtered copy (others returned as is)."""
        if isinstance(node, Subquery):
            if node.query is None:
                return node
            clone = copy.copy(node)
            clone.query = self.scoped_copy(node.query)
            return clone
        if isinstance(node, WhereNode):
            nodes = [self.walk(n) for n in node.nodes]
            if all(a is b for a, b in zip(nodes, node.nodes, strict=True)):
                return node
            return WhereNode(nodes, node.connector, node.negated)
        if isinstance(node, Expression):
            out = node
            for slot in _child_slots(type(node)):
                value = getattr(node, slot, None)
                if value is None or type(value) in _LEAVES:
                    continue
                new = self.walk(value)
                if new is not value:
                    if out is node:
                        out = copy.copy(node)
                    object.__setattr__(out, slot, new)
            return out
        if isinstance(node, list):
            items = [self.walk(v) for v in node]
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items
        if isinstance(node, tuple):
            titems = tuple(self.walk(v) for v in node)
            return node if all(a is b for a, b in zip(titems, node, strict=True)) else titems
        return node


#: values that never hold a subquery: not walked
_LEAVES: frozenset[type] = frozenset({Col, Value, str, int, float, bool, bytes})
_SLOTS: dict[type, tuple[str, ...]] = {}


def _child_slots(cls: type) -> tuple[str, ...]:
    """The ``__slots__`` of an expression class (all bases) that may hold child nodes."""
    slots = _SLOTS.get(cls)
    if slots is None:
        names: list[str] = []
        for klass in cls.__mro__:
            for slot in klass.__dict__.get("__slots__", ()):
                if slot not in ("output_field", "__weakref__") and slot not in names:
                    names.append(slot)
        slots = _SLOTS[cls] = tuple(names)
    return slots


def _require(model: Any, what: str) -> Any:
    tid = get_current_tenant()
    if tid is None:
        raise no_active_tenant(model, what)
    return tid


def _check_owned(instance: Any, tid: Any, what: str) -> None:
    field = _tenant_field(type(instance))
    value = instance.__dict__.get(field.attname)
    if _unset(value) or _same(field, value, tid):
        return
    name = type(instance).__name__
    raise CrossTenantWriteError(
        f"{what} of {name}(pk={instance.pk!r}) refused: it belongs to tenant {value!r} but the active tenant "
        f"is {tid!r}. A row never moves between tenants and is never written from another tenant's context; "
        f"run the write inside `with current_tenant({value!r}):` if that is really intended."
    )


def _stamp(model: Any, objs: list[Any], conflict: tuple[Any, ...]) -> None:
    tid = _require(model, "INSERT")
    field = _tenant_field(model)
    attname = field.attname
    if conflict and conflict[1] and field not in (conflict[2] or ()):
        raise CrossTenantWriteError(
            f"bulk_create(update_conflicts=True) on {model.__name__} without {TENANT_FIELD!r} in unique_fields "
            f"could overwrite another tenant's conflicting row. Put {TENANT_FIELD!r} in unique_fields (with a "
            f"matching unique constraint), e.g. unique_fields=[{TENANT_FIELD!r}, 'number']."
        )
    for obj in objs:
        if not obj._state.adding and obj.pk is not None:
            raise CrossTenantWriteError(
                f"save() of {model.__name__}(pk={obj.pk!r}) updated no row in tenant {tid!r}: the row belongs "
                f"to another tenant or was deleted. It is not re-inserted (that could duplicate another "
                f"tenant's row); create a new object instead."
            )
        value = obj.__dict__.get(attname)
        if _unset(value):
            obj.__dict__[attname] = tid
        else:
            _check_owned(obj, tid, "INSERT")


class TenancyHooks:
    """The hook implementations (one instance, registered by :func:`activate`)."""

    @hookimpl
    def dorm_query_pre_compile(self, query: Any, alias: str) -> None:
        if query.kind == INSERT:
            if _is_tenant(query.model):
                _stamp(query.model, query.objs, getattr(query, "conflict", ()))
            return
        if UNSCOPED_TAG in query.tags:
            return
        _Scoper(query.kind.upper()).scope(query)

    @hookimpl
    def dorm_query_pre_compile_applies(self, model: Any) -> bool:
        # A query of a shared model alone (no join, no subquery) is never scoped.
        return _is_tenant(model)

    @hookimpl
    def dorm_pre_save(self, instance: Any, alias: str, adding: bool, update_fields: Any) -> None:
        model = type(instance)
        if not _is_tenant(model):
            return
        tid = _require(model, "save()")
        _check_owned(instance, tid, "save()")
        field = _tenant_field(model)
        if _unset(instance.__dict__.get(field.attname)):
            instance.__dict__[field.attname] = tid

    @hookimpl
    def dorm_pre_delete(self, instance: Any, alias: str) -> None:
        model = type(instance)
        if _is_tenant(model):
            _check_owned(instance, _require(model, "delete()"), "delete()")

    @hookimpl
    def dorm_pre_bulk_write(self, model: Any, objs: list[Any], alias: str, kind: str) -> None:
        if not _is_tenant(model):
            return
        tid = _require(model, f"bulk_{kind}()")
        for obj in objs:
            _check_owned(obj, tid, f"bulk_{kind}()")


hooks = TenancyHooks()


def activate() -> None:
    """Register the hooks on the kernel (idempotent; called when a TenantModel subclass is defined)."""
    kernel = plugins.kernel
    if not kernel.is_registered(hooks):
        kernel.register(hooks, name=PLUGIN_NAME)


def deactivate() -> None:
    """Unregister the hooks (test isolation; the next TenantModel subclass or :func:`activate` re-registers)."""
    kernel = plugins.kernel
    if kernel.is_registered(hooks):
        kernel.unregister(hooks)
