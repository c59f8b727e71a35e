"""The express lane: one-table reads and writes by plain keywords, without a Query.

Most of a service's queries are ``Model.objects.get(pk=...)``,
``filter(owner_id=...)`` iterated, ``.first()``, ``.exists()`` or
``.count()``, and ``filter(pk=...).update(status=...)``: a few
equality-style lookups on one table, with scalar values (or none:
``Model.objects.all()``).  For those
the general machinery (a ``Query`` tree, its shape key, the compile cache,
a ``Statement`` through the executor) costs more than the database does.

So each *shape* (the operation, the model and the keyword names) is
compiled once per alias, the first time it is seen, through the normal
compiler, into an :class:`ExpressShape`: the SQL, one binder per keyword
(value -> driver parameter, with the field's preparation resolved once)
and the row hydrator.  A later call with the same shape only binds its
values, runs the SQL and hydrates the rows.

The lane is taken only when the result is the same as the general path's,
statement for statement:

* every value is a plain scalar (no expression, instance, queryset or list);
* every lookup is a single-parameter comparison on the model's own table
  (no join, ``__in``, ``__range`` or ``__isnull``);
* no plugin could change or watch the statement: ``dorm_statement``,
  connection hooks, or a ``dorm_query_pre_compile`` that applies to this
  model (see ``dorm_query_pre_compile_applies``) send it the general way.

Anything else returns :data:`MISS` and the caller takes the general path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from dorm import plugins
from dorm.backends.base.statement import FETCH_NONE, Statement
from dorm.db import executor
from dorm.db.connections import DEFAULT_DB_ALIAS, connections
from dorm.db.router import router
from dorm.sql.query import sliced_limits

__all__ = [
    "MISS",
    "ExpressShape",
    "acount",
    "aexists",
    "afetch",
    "afirst",
    "aget",
    "aupdate",
    "count",
    "exists",
    "fetch",
    "first",
    "get",
    "update",
]

#: returned when the express lane does not apply; the caller takes the general path
MISS: Final[Any] = object()

#: a ``get()`` reads at most this many rows (to say "more than 20" in MultipleObjectsReturned)
MAX_GET_RESULTS: Final = 21

SCALARS: Final = frozenset({int, str, float, bool, Decimal, UUID, dt.date, dt.datetime, dt.time})

GET: Final = "get"
COUNT: Final = "count"
UPDATE: Final = "update"
EXISTS: Final = "exists"
FIRST: Final = "first"
FETCH: Final = "fetch"

_Binders = tuple[tuple[str, Callable[[Any], Any]], ...]
#: ``(order_by names or None, slice start, slice stop)`` pending on a fresh queryset
_Tail = tuple[tuple[str, ...] | None, int | None, int | None]


class ExpressShape:
    """One compiled shape: run ``sql`` with ``binders`` applied to the call's keywords."""

    __slots__ = ("sql", "set_binders", "binders", "tail", "hydrate", "sliceable")

    def __init__(self, sql: str, binders: _Binders, tail: list[Any], hydrate: Any, set_binders: _Binders = ()) -> None:
        self.sql = sql
        #: a fetch whose LIMIT/OFFSET the compiler appends at the end: a slice is added per call
        self.sliceable = False
        #: an update()'s ``(field name, value -> parameter)``: the SET parameters, first
        self.set_binders = set_binders
        #: ``(keyword, value -> parameter)`` of the WHERE, in parameter order
        self.binders = binders
        #: constant parameters after the bound ones (a get()'s LIMIT)
        self.tail = tail
        #: ``(rows, alias) -> instances`` for a get(); None otherwise
        self.hydrate = hydrate

    def params(self, values: dict[str, Any]) -> list[Any]:
        params = []
        for name, bind in self.binders:  # a loop, not a comprehension: no extra frame (3.11)
            params.append(bind(values[name]))
        if self.tail:
            params.extend(self.tail)
        return params


# --------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------


def get(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """``model.objects.get(**kwargs)``, or :data:`MISS`.  The caller ran the sync-access guard."""
    if not kwargs or not plugins.kernel.express_lane(model):
        return MISS
    for value in kwargs.values():
        if type(value) not in SCALARS:
            return MISS
    alias = using or (DEFAULT_DB_ALIAS if router.unrouted else router.db_for_read(model))
    backend = connections[alias]
    shape = backend.compile_cache.get((GET, model, tuple(kwargs)))
    if shape is None:
        shape = _shape(backend, (GET, model, tuple(kwargs)), GET, model, kwargs)
    if shape is False:
        return MISS
    params = []
    for name, bind in shape.binders:
        params.append(bind(kwargs[name]))
    params.extend(shape.tail)
    rows = executor.fetch_rows(backend, shape.sql, params, "get", model)
    if len(rows) == 1:
        return shape.hydrate(rows, alias)[0]
    raise get_error(model, len(rows))


def count(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """``model.objects.filter(**kwargs).count()``, or :data:`MISS`."""
    if not plugins.kernel.express_lane(model):
        return MISS
    for value in kwargs.values():
        if type(value) not in SCALARS:
            return MISS
    alias = using or (DEFAULT_DB_ALIAS if router.unrouted else router.db_for_read(model))
    backend = connections[alias]
    shape = backend.compile_cache.get((COUNT, model, tuple(kwargs)))
    if shape is None:
        shape = _shape(backend, (COUNT, model, tuple(kwargs)), COUNT, model, kwargs)
    if shape is False:
        return MISS
    params = []
    for name, bind in shape.binders:
        params.append(bind(kwargs[name]))
    if shape.tail:
        params.extend(shape.tail)
    rows = executor.fetch_rows(backend, shape.sql, params, "count", model)
    return int(rows[0][0]) if rows else 0


def update(model: Any, using: str | None, where: dict[str, Any], values: dict[str, Any]) -> Any:
    """``model.objects.filter(**where).update(**values)``: the row count, or :data:`MISS`.

    The caller ran the sync-access and read-only guards.
    """
    stmt = _update_statement(model, using, where, values)
    if stmt is None:
        return MISS
    return int(executor.run(stmt, "update").rowcount)


def exists(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """``model.objects.filter(**kwargs).exists()``, or :data:`MISS`."""
    ready = _ready(EXISTS, model, using, kwargs)
    if ready is None:
        return MISS
    alias, backend, shape = ready
    return bool(executor.fetch_rows(backend, shape.sql, shape.params(kwargs), "exists", model))


def first(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """``model.objects.filter(**kwargs).first()`` (the instance or None), or :data:`MISS`."""
    ready = _ready(FIRST, model, using, kwargs)
    if ready is None:
        return MISS
    alias, backend, shape = ready
    rows = executor.fetch_rows(backend, shape.sql, shape.params(kwargs), "first", model)
    return shape.hydrate(rows, alias)[0] if rows else None


def fetch(model: Any, using: str | None, kwargs: dict[str, Any], method: str, tail: _Tail | None = None) -> Any:
    """The instances of ``model.objects.filter(**kwargs)`` (or ``.all()``), with an optional
    ``order_by(*names)`` and one slice (``tail``), or :data:`MISS`."""
    ready = _ready(FETCH, model, using, kwargs, order=None if tail is None else tail[0])
    if ready is None:
        return MISS
    alias, backend, shape = ready
    sql, params = _sliced(backend, shape, kwargs, tail)
    if sql is None:
        return MISS
    rows = executor.fetch_rows(backend, sql, params, method, model)
    return shape.hydrate(rows, alias)


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------


async def aget(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """Async twin of :func:`get`."""
    ready = _ready(GET, model, using, kwargs) if kwargs else None
    if ready is None:
        return MISS
    alias, backend, shape = ready
    done = await executor.arun(Statement(alias, shape.sql, shape.params(kwargs), model=model))
    rows = done.rows or []
    if len(rows) == 1:
        return shape.hydrate(rows, alias)[0]
    raise get_error(model, len(rows))


async def acount(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """Async twin of :func:`count`."""
    ready = _ready(COUNT, model, using, kwargs)
    if ready is None:
        return MISS
    alias, backend, shape = ready
    rows = (await executor.arun(Statement(alias, shape.sql, shape.params(kwargs), model=model))).rows
    return int(rows[0][0]) if rows else 0


async def aexists(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """Async twin of :func:`exists`."""
    ready = _ready(EXISTS, model, using, kwargs)
    if ready is None:
        return MISS
    alias, backend, shape = ready
    return bool((await executor.arun(Statement(alias, shape.sql, shape.params(kwargs), model=model))).rows)


async def afirst(model: Any, using: str | None, kwargs: dict[str, Any]) -> Any:
    """Async twin of :func:`first`."""
    ready = _ready(FIRST, model, using, kwargs)
    if ready is None:
        return MISS
    alias, backend, shape = ready
    rows = (await executor.arun(Statement(alias, shape.sql, shape.params(kwargs), model=model))).rows
    return shape.hydrate(rows, alias)[0] if rows else None


async def afetch(model: Any, using: str | None, kwargs: dict[str, Any], tail: _Tail | None = None) -> Any:
    """Async twin of :func:`fetch`."""
    ready = _ready(FETCH, model, using, kwargs, order=None if tail is None else tail[0])
    if ready is None:
        return MISS
    alias, backend, shape = ready
    sql, params = _sliced(backend, shape, kwargs, tail)
    if sql is None:
        return MISS
    rows = (await executor.arun(Statement(alias, sql, params, model=model))).rows
    return shape.hydrate(rows or [], alias)


async def aupdate(model: Any, using: str | None, where: dict[str, Any], values: dict[str, Any]) -> Any:
    """Async twin of :func:`update`."""
    stmt = _update_statement(model, using, where, values)
    if stmt is None:
        return MISS
    return int((await executor.arun(stmt)).rowcount)


# --------------------------------------------------------------------------
# shared
# --------------------------------------------------------------------------


def get_error(model: Any, num: int) -> Exception:
    """``DoesNotExist`` for no row, ``MultipleObjectsReturned`` for several (Django's messages)."""
    if not num:
        return model.DoesNotExist(f"{model.__name__} matching query does not exist.")  # type: ignore[no-any-return]
    shown = f"more than {MAX_GET_RESULTS - 1}" if num >= MAX_GET_RESULTS else str(num)
    return model.MultipleObjectsReturned(  # type: ignore[no-any-return]
        f"get() returned more than one {model.__name__} -- it returned {shown}!"
    )


def _update_statement(model: Any, using: str | None, where: dict[str, Any], values: dict[str, Any]) -> Statement | None:
    if not where or not values:
        return None
    for value in values.values():
        if value is not None and type(value) not in SCALARS:
            return None
    ready = _ready(UPDATE, model, using, where, values)
    if ready is None:
        return None
    alias, backend, shape = ready
    params = []
    for name, bind in shape.set_binders:
        params.append(bind(values[name]))
    for name, bind in shape.binders:
        params.append(bind(where[name]))
    return Statement(alias, shape.sql, params, fetch=FETCH_NONE, model=model)


def _sliced(backend: Any, shape: ExpressShape, kwargs: dict[str, Any], tail: _Tail | None) -> tuple[Any, list[Any]]:
    """The SQL and parameters of a fetch, with the tail's slice as LIMIT/OFFSET ((None, ...) if it cannot)."""
    params = shape.params(kwargs)
    if tail is None or (tail[1] is None and tail[2] is None):
        return shape.sql, params
    if not shape.sliceable:
        return None, params
    low, high = sliced_limits(0, None, tail[1], tail[2])  # as Query.set_limits() on a fresh query
    if not low and high is None:
        return shape.sql, params
    limit_sql, limit_params = backend.ops.limit_offset_sql(low, high)
    params.extend(limit_params)
    return f"{shape.sql} {limit_sql}", params


def _ready(
    kind: str,
    model: Any,
    using: str | None,
    where: dict[str, Any],
    values: dict[str, Any] | None = None,
    order: tuple[str, ...] | None = None,
) -> tuple[str, Any, ExpressShape] | None:
    """``(alias, backend, shape)`` when the lane applies to this call, else None.

    (:func:`get` and :func:`count`, the hottest calls, inline these steps.)
    """
    if not plugins.kernel.express_lane(model):
        return None
    for value in where.values():
        if type(value) not in SCALARS:
            return None
    if using is not None:
        alias = using
    elif router.unrouted:
        alias = DEFAULT_DB_ALIAS
    else:
        alias = router.db_for_write(model) if kind == UPDATE else router.db_for_read(model)
    backend = connections[alias]
    key: tuple[Any, ...] = (kind, model, tuple(where))
    if values is not None:
        key += (tuple(values),)
    if order is not None:
        key += ("order", order)
    shape = backend.compile_cache.get(key)
    if shape is None:
        shape = _shape(backend, key, kind, model, where, values, order)
    return (alias, backend, shape) if shape else None


def _shape(
    backend: Any,
    key: tuple[Any, ...],
    kind: str,
    model: Any,
    where: dict[str, Any],
    values: dict[str, Any] | None = None,
    order: tuple[str, ...] | None = None,
) -> Any:
    """Compile a shape and cache it under ``key`` in the alias's compile cache (``False``: it does not qualify)."""
    shape = _build(backend, kind, model, where, values, order)
    backend.compile_cache[key] = shape
    return shape


def _build(
    backend: Any,
    kind: str,
    model: Any,
    where: dict[str, Any],
    values: dict[str, Any] | None,
    order: tuple[str, ...] | None = None,
) -> Any:
    from dorm.expressions import Col, Expression, Q, Value
    from dorm.lookups import In, IsNull, Lookup, Range
    from dorm.sql.cache import compiled
    from dorm.sql.hydration import hydrate
    from dorm.sql.query import UPDATE as UPDATE_KIND
    from dorm.sql.query import Query

    q = Query(model)
    q.add_q(Q(**where))
    names = tuple(sorted(where))  # Q sorts its keywords: the WHERE nodes come in this order
    nodes = q.where.nodes if q.where is not None else []
    if len(nodes) != len(names) or len(q.alias_map) > 1:
        return False
    for node in nodes:
        if (
            not isinstance(node, Lookup)
            or isinstance(node, (In, Range, IsNull))
            or type(node.lhs) is not Col
            or isinstance(node.rhs, Expression)
        ):
            return False
    if kind in (FIRST, FETCH):
        if order is not None:  # order_by(*names), as QuerySet.order_by() does it
            q.order_by_names(order)
        q.apply_default_ordering()  # Meta.ordering, as the general path (a no-op after order_by)
        if kind == FIRST and not q.order_by:
            q.add_ordering(["pk"])
        if len(q.alias_map) > 1:  # an ordering across a relation joins: not a one-table shape
            return False
    else:
        q.clear_ordering()
    set_binders: list[tuple[str, Callable[[Any], Any]]] = []
    if kind == GET:
        q.set_limits(None, MAX_GET_RESULTS)
    elif kind == EXISTS:
        q.is_exists = True
        q.set_limits(None, 1)
    elif kind == FIRST:
        q.set_limits(None, 1)
    elif kind == COUNT:
        from dorm.aggregates import Count

        q.values_select = ("__count",)
        q.select_exprs = {"__count": Count().resolve(q)}
        q.values_kind = "flat"
    elif kind == UPDATE:
        assert values is not None
        from dorm.models.query import _concrete_field

        q.kind = UPDATE_KIND
        for name, value in values.items():
            field = _concrete_field(model, name, "update")  # FieldError for a bad name, as the general path
            q.update_values.append((field, Value(value, field)))
            set_binders.append((name, _field_binder(field, backend)))
    sql, params, plan = compiled(q, backend)
    binders = tuple((name, _binder(node, backend)) for name, node in zip(names, nodes, strict=True))
    # UPDATE ... SET <values> WHERE <where>: the SET parameters come first, then the WHERE's.
    # The binders must reproduce the compiler's parameters exactly, or the shape is refused.
    bound = [bind(values[name]) for name, bind in set_binders] if values else []
    bound += [bind(where[name]) for name, bind in binders]
    if params[: len(bound)] != bound:
        return False
    tail = params[len(bound) :]
    make = None
    if kind in (GET, FIRST, FETCH):
        hydrate(plan, [], backend.alias)  # generates the plan's hydrator once
        make = plan.hydrator
    shape = ExpressShape(sql, binders, tail, make, tuple(set_binders))
    if kind == FETCH and not tail:
        shape.sliceable = _limits_append(backend, q, sql, params)
    return shape


def _limits_append(backend: Any, query: Any, sql: str, params: list[Any]) -> bool:
    """True when the compiler puts a slice's LIMIT/OFFSET at the very end of this query's SQL.

    Checked on three probe slices (limit only, offset only, both), so a
    backend whose compiler does otherwise keeps every slice on the general path.
    """
    from dorm.sql.cache import compiled

    for start, stop in ((None, 2), (3, None), (1, 4)):
        probe = query.clone()
        probe.set_limits(start, stop)
        probe_sql, probe_params, _plan = compiled(probe, backend)
        limit_sql, limit_params = backend.ops.limit_offset_sql(probe.low, probe.high)
        if probe_sql != f"{sql} {limit_sql}" or probe_params != params + limit_params:
            return False
    return True


def _binder(lookup: Any, backend: Any) -> Callable[[Any], Any]:
    """``value -> lookup.param_for(value, backend)``, with the generic steps resolved once.

    For a plain lookup on a field that keeps the base preparation chain
    (``param_for`` -> ``prep_value`` -> ``get_db_prep_value`` -> ``get_prep_value``
    -> ``coerce``), that is ``None`` or ``field.coerce(value)``: four calls fewer
    per parameter.  Anything overridden on the way keeps the full call.
    """
    from dorm.lookups import Lookup

    kind = type(lookup)
    if kind.param_for is Lookup.param_for and kind.prep_value is Lookup.prep_value:
        return _field_binder(lookup.lhs.output_field, backend)
    param_for = lookup.param_for
    return lambda value: param_for(value, backend)


def _field_binder(field: Any, backend: Any) -> Callable[[Any], Any]:
    """``value -> field.get_db_prep_value(value, backend)`` (None stays None), shortened where safe."""
    from dorm.fields.base import Field
    from dorm.fields.numeric import IntegerField
    from dorm.fields.related import ForeignKey

    if type(field).get_db_prep_value is ForeignKey.get_db_prep_value:
        # express values are scalars (never instances): the key is prepared by the target field
        field = field.target_field
    ftype = type(field)
    if (
        isinstance(field, Field)
        and ftype.get_db_prep_value is Field.get_db_prep_value
        and ftype.get_prep_value is Field.get_prep_value
    ):
        coerce = field.coerce
        if isinstance(field, IntegerField) and ftype.coerce is IntegerField.coerce:
            low, high = field.min_value, field.max_value

            def bind_int(value: Any) -> Any:
                # an int in range is what coerce() would return: skip the call (the commonest key)
                if type(value) is int and low <= value <= high:
                    return value
                return None if value is None else coerce(value)

            return bind_int

        def bind(value: Any) -> Any:
            return None if value is None else coerce(value)

        return bind
    prep = field.get_db_prep_value

    def bind_prepared(value: Any) -> Any:
        return None if value is None else prep(value, backend)

    return bind_prepared
