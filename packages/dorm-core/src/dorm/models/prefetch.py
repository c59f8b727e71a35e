"""``prefetch_related``: one query per relation level, stitched onto the instances.

Forward FK / one-to-one: ``target.pk IN (...)`` stored in ``_state.fields_cache``.
Reverse FK and M2M: the related rows (M2M through a join on the through
table) stored as the related manager's prefetched results
(``instance._prefetched_objects_cache[accessor]``), or on ``to_attr`` as a list.
"""

from __future__ import annotations

from typing import Any

from dorm.exceptions import FieldError
from dorm.expressions import Col, Q
from dorm.lookups import In
from dorm.models._drive import Op

__all__ = ["Prefetch", "normalize_lookups", "op_prefetch"]

#: the annotation carrying the through table's source key on prefetched M2M rows
_SOURCE = "dorm_prefetch_source"


class Prefetch:
    """``Prefetch("books", queryset=Book.objects.filter(...), to_attr="recent_books")``."""

    def __init__(self, lookup: str, queryset: Any = None, to_attr: str | None = None) -> None:
        self.lookup = lookup
        self.queryset = queryset
        self.to_attr = to_attr

    def __repr__(self) -> str:
        return f"Prefetch({self.lookup!r}, to_attr={self.to_attr!r})"


def normalize_lookups(lookups: tuple[Any, ...]) -> list[Prefetch]:
    out: list[Prefetch] = []
    for lk in lookups:
        if isinstance(lk, Prefetch):
            out.append(lk)
        elif isinstance(lk, str):
            out.append(Prefetch(lk))
        else:
            raise TypeError(f"prefetch_related() takes names or Prefetch objects, not {lk!r}")
    return out


def op_prefetch(instances: list[Any], lookups: Any, alias: str) -> Op[None]:
    done: dict[str, list[Any]] = {}
    for pf in normalize_lookups(tuple(lookups)):
        parts = pf.lookup.split("__")
        level = [i for i in instances if i is not None]
        for depth, name in enumerate(parts):
            last = depth == len(parts) - 1
            path = "__".join(parts[: depth + 1])
            if path in done and not last:
                level = done[path]  # fetched by an earlier lookup ("books" before "books__tags")
            else:
                level = yield from _prefetch_one(level, name, pf if last else None, alias)
                done[path] = level
            if not level:
                break


def _prefetch_one(instances: list[Any], name: str, pf: Prefetch | None, alias: str) -> Op[list[Any]]:
    from dorm.models.query import QuerySet
    from dorm.sql import paths

    if not instances:
        return []
    model = type(instances[0])
    step = paths.resolve_name(model, name)
    if step is None or step.kind == paths.PLAIN:
        raise FieldError(
            f"Cannot prefetch {name!r}: it is not a relation of {model.__name__}. "
            f"Relations are: {', '.join(paths.valid_names(model))}."
        )
    base_qs = pf.queryset if pf is not None and pf.queryset is not None else None
    # Tells statement wrappers (the N+1 detector) this is a prefetch, and of what.
    origin = f"prefetch:{model.__name__}.{name}"
    to_attr = pf.to_attr if pf is not None else None
    if step.kind == paths.FORWARD:
        field = step.field
        target = step.target_model
        tf = field.target_field
        keys = {i.__dict__.get(field.attname) for i in instances} - {None}
        qs = (
            (base_qs if base_qs is not None else QuerySet(target)).using(alias).filter(**{f"{tf.name}__in": list(keys)})
        )
        qs._origin = origin
        rows = yield from qs._op_fetch()
        by_key = {r.__dict__[tf.attname]: r for r in rows}
        for i in instances:
            obj = by_key.get(i.__dict__.get(field.attname))
            if to_attr:
                i.__dict__[to_attr] = obj
            else:
                i._state.fields_cache[field.name] = obj
        return rows
    rel = step.field
    pks = [i.pk for i in instances]
    if getattr(rel, "many_to_many", False):
        if hasattr(rel, "m2m_fields"):  # forward M2M field
            m2m = rel
            source_fk, target_fk = m2m.m2m_fields()
            target = m2m.related_model
            accessor = m2m.name
        else:  # reverse M2M
            m2m = rel.field
            target_fk, source_fk = m2m.m2m_fields()
            target = m2m.model
            accessor = rel.get_accessor_name()
        through = m2m.through
        # One query: the targets joined to the through table, its source column selected.
        qs = (base_qs if base_qs is not None else QuerySet(target)).using(alias)._clone()
        q = qs.query
        link = q.join(
            q.base_alias,
            f"{accessor}+prefetch",
            through._meta.db_table,
            target_fk.target_field.column,
            target_fk.column,
            False,
        )
        source = Col(link, source_fk.column, source_fk)
        condition = In(source, pks)
        condition.check_rhs()
        q.add_q(Q(condition))
        q.add_annotation(_SOURCE, source)
        qs._origin = origin
        rows = yield from qs._op_fetch()
        grouped: dict[Any, list[Any]] = {pk: [] for pk in pks}
        for r in rows:
            grouped.setdefault(r.__dict__.pop(_SOURCE), []).append(r)
    else:
        fk = rel.field
        target = rel.related_model
        accessor = rel.get_accessor_name()
        qs = (base_qs if base_qs is not None else QuerySet(target)).using(alias).filter(**{f"{fk.name}__in": pks})
        qs._origin = origin
        rows = yield from qs._op_fetch()
        grouped = {pk: [] for pk in pks}
        for r in rows:
            grouped.setdefault(r.__dict__[fk.attname], []).append(r)
        if getattr(rel, "one_to_one", False):
            for i in instances:
                found = grouped.get(i.pk) or [None]
                if to_attr:
                    i.__dict__[to_attr] = found[0]
                else:
                    i._state.fields_cache[accessor] = found[0]
            return rows
    for i in instances:
        items = grouped.get(i.pk, [])
        if to_attr:
            i.__dict__[to_attr] = items
        else:
            cache = i.__dict__.setdefault("_prefetched_objects_cache", {})
            cache[accessor] = items
    return rows
