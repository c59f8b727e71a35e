"""Rows -> model instances (or dicts/tuples) with as little per-field Python as possible.

A :class:`RowPlan` is computed once per compiled query shape and cached
with its SQL: the attnames to fill, the column indexes that need a driver
converter (only fields whose ``get_db_converter(wrapper)`` is not ``None``),
and the ``select_related`` layout.  Instances are created with
``cls.__new__`` and their ``__dict__`` filled directly (validation is
bypassed: the values come from the database).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

__all__ = ["RowPlan", "build_plan", "hydrate", "new_state"]

Converter = Callable[[Any], Any]

_state_class: Any = None


def _state_cls() -> Any:
    global _state_class
    if _state_class is None:
        from dorm.models.base import ModelState

        _state_class = ModelState
    return _state_class


def new_state(alias: str) -> Any:
    """A ``ModelState`` for a row loaded from ``alias``."""
    cls = _state_class or _state_cls()
    state = cls.__new__(cls)
    state.db = alias
    state.adding = False
    state.fields_cache = {}
    return state


class RelatedPlan:
    __slots__ = ("path", "name", "model", "attnames", "start", "end", "pk_index", "converters", "parent")

    def __init__(self, path: tuple[str, ...], model: Any, attnames: tuple[str, ...], start: int, pk_index: int) -> None:
        self.path = path
        self.name = path[-1]
        self.model = model
        self.attnames = attnames
        self.start = start
        self.end = start + len(attnames)
        self.pk_index = pk_index
        self.converters: list[tuple[int, Converter]] = []
        #: index of the parent in ``RowPlan.related`` (-1: the row's main instance)
        self.parent = -1


class RowPlan:
    """How to turn one compiled query's rows into results."""

    __slots__ = ("kind", "model", "attnames", "ncols", "converters", "related", "annotations", "names", "row_class")

    def __init__(self, kind: str, model: Any) -> None:
        self.kind = kind
        self.model = model
        self.attnames: tuple[str, ...] = ()
        self.ncols = 0
        self.converters: list[tuple[int, Converter]] = []
        self.related: list[RelatedPlan] = []
        self.annotations: list[tuple[str, int]] = []
        self.names: tuple[str, ...] = ()
        self.row_class: Any = None


def _converter(field: Any, wrapper: Any) -> Converter | None:
    if field is None:
        return None
    get = getattr(field, "get_db_converter", None)
    return None if get is None else get(wrapper)


def build_plan(query: Any, described: list[Any], wrapper: Any) -> RowPlan:
    """The plan for the columns the compiler selected (``described``: one entry per column)."""
    if query.is_exists:
        return RowPlan("exists", query.model)
    if query.values_select is not None:
        plan = RowPlan(query.values_kind or "dict", query.model)
        plan.names = tuple(query.values_select)
        plan.ncols = len(plan.names)
        for i, (_kind, _name, field) in enumerate(described):
            conv = _converter(field, wrapper)
            if conv is not None:
                plan.converters.append((i, conv))
        if plan.kind == "named":
            plan.row_class = namedtuple("Row", plan.names, rename=True)  # type: ignore[misc]
        return plan
    plan = RowPlan("model", query.model)
    main: list[str] = []
    related: dict[tuple[str, ...], RelatedPlan] = {}
    for i, (kind, path, field) in enumerate(described):
        if kind == "extra":
            continue  # an ORDER BY term selected for DISTINCT; not part of the result
        conv = _converter(field, wrapper)
        if kind == "field" and not path:
            main.append(field.attname)
            if conv is not None:
                plan.converters.append((i, conv))
        elif kind == "field":
            rp = related.get(path)
            if rp is None:
                rp = RelatedPlan(path, field.model, (), i, -1)
                related[path] = rp
            rp.attnames = (*rp.attnames, field.attname)
            rp.end = i + 1
            if field is field.model._meta.pk:
                rp.pk_index = i
            if conv is not None:
                plan.converters.append((i, conv))
        else:
            plan.annotations.append((path, i))
            if conv is not None:
                plan.converters.append((i, conv))
    plan.attnames = tuple(main)
    plan.ncols = len(main)
    plan.related = list(related.values())
    index = {rp.path: i for i, rp in enumerate(plan.related)}
    for rp in plan.related:
        rp.parent = index.get(rp.path[:-1], -1)
    return plan


def hydrate(plan: RowPlan, rows: list[tuple[Any, ...]], alias: str) -> list[Any]:
    """Turn driver rows into results following ``plan``."""
    convs = plan.converters
    if convs:
        rows = _convert(rows, convs)
    kind = plan.kind
    if kind == "model":
        return _models(plan, rows, alias)
    if kind == "dict":
        names = plan.names
        return [dict(zip(names, row, strict=False)) for row in rows]
    if kind == "tuple":
        n = plan.ncols
        return [tuple(row[:n]) for row in rows]
    if kind == "flat":
        return [row[0] for row in rows]
    if kind == "named":
        make = plan.row_class._make
        n = plan.ncols
        return [make(row[:n]) for row in rows]
    return list(rows)


def _convert(rows: list[tuple[Any, ...]], convs: list[tuple[int, Converter]]) -> list[Any]:
    out: list[Any] = []
    append = out.append
    for row in rows:
        values = list(row)
        for i, conv in convs:
            v = values[i]
            if v is not None:
                values[i] = conv(v)
        append(values)
    return out


def _models(plan: RowPlan, rows: list[Any], alias: str) -> list[Any]:
    cls = plan.model
    new = cls.__new__
    names = plan.attnames
    state_cls = _state_class or _state_cls()
    new_st = state_cls.__new__
    related = plan.related
    annotations = plan.annotations
    out: list[Any] = []
    append = out.append
    if related and all(rp.parent < 0 for rp in related):
        # one level of select_related (the common case), inlined
        steps = [(rp.model, rp.attnames, rp.start, rp.end, rp.pk_index, rp.name) for rp in related]
        for row in rows:
            obj = new(cls)
            d = obj.__dict__
            d.update(zip(names, row, strict=False))
            st = new_st(state_cls)
            st.db = alias
            st.adding = False
            cache: dict[str, Any] = {}
            st.fields_cache = cache
            d["_state"] = st
            for model, attnames, start, end, pk_index, name in steps:
                if pk_index >= 0 and row[pk_index] is None:
                    cache[name] = None
                    continue
                child = model.__new__(model)
                cd = child.__dict__
                cd.update(zip(attnames, row[start:end], strict=False))
                cst = new_st(state_cls)
                cst.db = alias
                cst.adding = False
                cst.fields_cache = {}
                cd["_state"] = cst
                cache[name] = child
            for aname, i in annotations:
                d[aname] = row[i]
            append(obj)
        return out
    for row in rows:
        obj = new(cls)
        d = obj.__dict__
        d.update(zip(names, row, strict=False))
        st = new_st(state_cls)
        st.db = alias
        st.adding = False
        st.fields_cache = {}
        d["_state"] = st
        if related:
            _attach_related(obj, related, row, alias, state_cls)
        for aname, i in annotations:
            d[aname] = row[i]
        append(obj)
    return out


def _attach_related(obj: Any, related: list[RelatedPlan], row: Any, alias: str, state_cls: Any) -> None:
    made: list[Any] = []
    append = made.append
    new_st = state_cls.__new__
    for rp in related:
        parent = obj if rp.parent < 0 else made[rp.parent]
        if parent is None or (rp.pk_index >= 0 and row[rp.pk_index] is None):
            append(None)
            if parent is not None:
                parent._state.fields_cache[rp.name] = None
            continue
        model = rp.model
        child = model.__new__(model)
        cd = child.__dict__
        cd.update(zip(rp.attnames, row[rp.start : rp.end], strict=False))
        st = new_st(state_cls)
        st.db = alias
        st.adding = False
        st.fields_cache = {}
        cd["_state"] = st
        parent._state.fields_cache[rp.name] = child
        append(child)
