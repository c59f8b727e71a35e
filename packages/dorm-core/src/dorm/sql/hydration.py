"""Rows -> model instances (or dicts/tuples) with as little per-field Python as possible.

A :class:`RowPlan` is computed once per compiled query shape and cached
with its SQL: the attnames to fill, the column indexes that need a driver
converter (only fields whose ``get_db_converter(wrapper)`` is not ``None``),
and the ``select_related`` layout.  Instances are created with
``cls.__new__`` and their ``__dict__`` filled directly (validation is
bypassed: the values come from the database).

For model rows the plan generates, on first use, a straight-line hydrator
for its exact column layout (``d['id'] = row[0]``...; converters and the
``select_related`` objects inline): about twice as fast per row as a
generic loop over ``zip(attnames, row)`` (see docs/benchmarks.md).
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

    __slots__ = (
        "kind",
        "model",
        "attnames",
        "ncols",
        "converters",
        "related",
        "annotations",
        "names",
        "row_class",
        "hydrator",
    )

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
        #: the generated ``(rows, alias) -> instances`` for ``kind == "model"`` (built on first use)
        self.hydrator: Callable[[list[Any], str], list[Any]] | None = None


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
    kind = plan.kind
    if kind == "model":
        make = plan.hydrator
        if make is None:
            make = plan.hydrator = _compile_hydrator(plan)
        return make(rows, alias)
    convs = plan.converters
    if convs:
        rows = _convert(rows, convs)
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


def _compile_hydrator(plan: RowPlan) -> Callable[[list[Any], str], list[Any]]:
    """Generate the hydrator of a model plan: one straight-line loop body for its columns.

    Same result as a generic loop: each instance made with ``cls.__new__``, its
    attnames set from the row (converted values where the plan has a converter,
    skipped for ``None``), a fresh ``ModelState(db=alias, adding=False)``, every
    ``select_related`` object in its parent's ``fields_cache`` (``None`` when the
    joined row is missing or the parent is), then the annotations.
    """
    state_cls = _state_class or _state_cls()
    env: dict[str, Any] = {"S": state_cls, "new_state": state_cls.__new__}
    convs = dict(plan.converters)

    def value(i: int) -> str:
        if i in convs:
            env[f"conv{i}"] = convs[i]
            return f"(None if (v := row[{i}]) is None else conv{i}(v))"
        return f"row[{i}]"

    from dorm.models.base import LOADED_FROM

    parents = {rp.parent for rp in plan.related}

    def make(var: str, model: Any, names: tuple[str, ...], start: int, indent: str, index: int) -> list[str]:
        env[f"M_{var}"] = model
        lines = [f"{indent}{var} = M_{var}.__new__(M_{var})", f"{indent}d = {var}.__dict__"]
        lines += [f"{indent}d[{name!r}] = {value(start + k)}" for k, name in enumerate(names)]
        if index not in parents:
            # nothing to cache on it: the state is made on first use (see models.base._LazyState)
            lines.append(f"{indent}d[{LOADED_FROM!r}] = alias")
            return lines
        lines += [
            f"{indent}st = new_state(S)",
            f"{indent}st.db = alias",
            f"{indent}st.adding = False",
            f"{indent}st.fields_cache = cache_{var} = {{}}",
            f"{indent}d['_state'] = st",
        ]
        return lines

    # the main instance's columns are the row's first ones, in order
    body = make("obj", plan.model, plan.attnames, 0, "        ", -1)
    for n, rp in enumerate(plan.related):
        var = f"rel{n}"
        parent = "obj" if rp.parent < 0 else f"rel{rp.parent}"
        indent = "        "
        missing: list[str] = []
        if rp.parent >= 0:
            missing.append(f"{parent} is None")
        if rp.pk_index >= 0:
            missing.append(f"row[{rp.pk_index}] is None")
        if missing:
            body.append(f"{indent}if {' or '.join(missing)}:")
            body.append(f"{indent}    {var} = None")
            if rp.parent >= 0:
                body.append(f"{indent}    if {parent} is not None:")
                body.append(f"{indent}        cache_{parent}[{rp.name!r}] = None")
            else:
                body.append(f"{indent}    cache_{parent}[{rp.name!r}] = None")
            body.append(f"{indent}else:")
            indent += "    "
        body += make(var, rp.model, rp.attnames, rp.start, indent, n)
        body.append(f"{indent}cache_{parent}[{rp.name!r}] = {var}")
    if plan.annotations:
        body.append("        d = obj.__dict__")
        body += [f"        d[{name!r}] = {value(i)}" for name, i in plan.annotations]
    source = "\n".join(
        [
            "def hydrate_rows(rows, alias):",
            "    out = []",
            "    append = out.append",
            "    for row in rows:",
            *body,
            "        append(obj)",
            "    return out",
        ]
    )
    exec(compile(source, f"<dorm hydrator {plan.model.__name__}>", "exec"), env)  # noqa: S102 - generated from the plan only
    hydrator: Callable[[list[Any], str], list[Any]] = env["hydrate_rows"]
    return hydrator
