"""Name resolution for queries: ``"author__publisher__name"`` -> fields, relations, joins.

Every keyword the user passes goes through :func:`resolve_name`; a name that
is not a field, an attname (``author_id``), ``pk`` or a relation of the
model resolves to ``None`` and the caller raises ``FieldError`` with the
valid choices.  Results are cached per model.
"""

from __future__ import annotations

import difflib
from typing import Any, Final

from dorm.exceptions import FieldDoesNotExist, FieldError

__all__ = ["FORWARD", "MANY", "PLAIN", "Step", "resolve_name"]

PLAIN: Final = "plain"
FORWARD: Final = "forward"
MANY: Final = "many"

_cache: dict[tuple[Any, str], Step | None] = {}


class Step:
    """How one name of a path is reached from its model."""

    __slots__ = ("kind", "name", "field", "target_model", "target_column", "nullable", "hops", "is_attname")

    def __init__(self, kind: str, name: str, field: Any, target_model: Any = None) -> None:
        self.kind = kind
        self.name = name
        self.field = field
        self.target_model = target_model
        self.target_column = ""
        self.nullable = False
        #: for MANY: (table, parent_column, column, nullable, hop_name) per join
        self.hops: list[tuple[str, str, str, bool, str]] = []
        self.is_attname = False


def clear_cache() -> None:
    _cache.clear()


def _get_field(meta: Any, name: str) -> Any:
    try:
        return meta.get_field(name)
    except (FieldDoesNotExist, KeyError, LookupError):
        return None


def resolve_name(model: Any, name: str) -> Step | None:
    """The step for ``name`` on ``model`` or ``None`` when the model has no such name."""
    key = (model, name)
    try:
        return _cache[key]
    except KeyError:
        pass
    step = _resolve(model, name)
    _cache[key] = step
    return step


def _resolve(model: Any, name: str) -> Step | None:
    if not isinstance(name, str) or not name or name.startswith("_") and name != "_":
        return None
    meta = model._meta
    if name == "pk":
        field = meta.pk
        return _field_step(field, name)
    field = _get_field(meta, name)
    if field is None:
        for f in meta.concrete_fields:
            if f.attname == name and f.attname != f.name:
                step = Step(PLAIN, name, f)
                step.is_attname = True
                return step
        for rel in _related_objects(meta):
            if rel.name == name:
                return _reverse_step(rel, name)
        return None
    if _is_reverse(field):
        return _reverse_step(field, name)
    return _field_step(field, name)


def _related_objects(meta: Any) -> list[Any]:
    rels = getattr(meta, "related_objects", None)
    if rels is None:
        return []
    return [r for r in rels if not getattr(r, "hidden", False)]


def _is_reverse(field: Any) -> bool:
    return getattr(field, "auto_created", False) and not getattr(field, "concrete", True) and hasattr(field, "field")


def _field_step(field: Any, name: str) -> Step:
    if getattr(field, "many_to_many", False):
        target = field.related_model
        source_fk, target_fk = field.m2m_fields()
        through = field.through._meta
        step = Step(MANY, name, field, target)
        step.hops = [
            (through.db_table, model_pk_column(field.model), source_fk.column, True, name + "+through"),
            (target._meta.db_table, target_fk.column, target_fk.target_field.column, True, name),
        ]
        return step
    if getattr(field, "is_relation", False) and getattr(field, "remote_field", None) is not None:
        target = field.related_model
        step = Step(FORWARD, name, field, target)
        step.target_column = field.target_field.column
        step.nullable = bool(field.null)
        return step
    return Step(PLAIN, name, field)


def model_pk_column(model: Any) -> str:
    column: str = model._meta.pk.column
    return column


def _reverse_step(rel: Any, name: str) -> Step:
    fk = rel.field
    source = rel.related_model  # the model holding the field
    if getattr(rel, "many_to_many", False):
        source_fk, target_fk = fk.m2m_fields()
        through = fk.through._meta
        step = Step(MANY, name, rel, source)
        step.hops = [
            (through.db_table, model_pk_column(fk.related_model), target_fk.column, True, name + "+through"),
            (source._meta.db_table, source_fk.column, source_fk.target_field.column, True, name),
        ]
        return step
    step = Step(MANY, name, rel, source)
    step.hops = [(source._meta.db_table, fk.target_field.column, fk.column, True, name)]
    return step


def is_target_field(step: Step, name: str) -> bool:
    """``author__id`` / ``author__pk``: the FK column already holds the value; no join needed."""
    if step.kind != FORWARD:
        return False
    target_field = step.field.target_field
    return name == "pk" and target_field is step.target_model._meta.pk or name == target_field.name


def is_pk_name(model: Any, name: str) -> bool:
    pk = model._meta.pk
    return bool(name == "pk" or name == pk.name)


def relation_value(value: Any, lookup_name: str) -> Any:
    """Model instances in relation lookups stand for their primary key."""
    if lookup_name in ("in", "range") and isinstance(value, (list, tuple, set, frozenset)):
        return [v.pk if hasattr(v, "_meta") else v for v in value]
    if hasattr(value, "_meta"):
        return value.pk
    return value


def pk_values_queryset(queryset: Any) -> Any:
    """``x__in=<QuerySet>``: select the pk unless the queryset already selects one column."""
    query = queryset.query
    if query.values_select is not None:
        if len(query.values_select) != 1:
            raise FieldError("A queryset used with __in must select exactly one column (values('field')).")
        return queryset
    return queryset.values("pk")


def order_target(query: Any, expr: Any) -> Any:
    """Ordering by a relation orders by the related model's ordering or pk (kept simple: the FK column)."""
    return expr


def forward_relation_names(model: Any) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "is_relation", False)]


def valid_names(model: Any, annotations: Any = ()) -> list[str]:
    meta = model._meta
    names: list[str] = ["pk"]
    for f in meta.concrete_fields:
        names.append(f.name)
        if f.attname != f.name:
            names.append(f.attname)
    for f in getattr(meta, "local_many_to_many", ()) or ():
        names.append(f.name)
    for rel in _related_objects(meta):
        names.append(rel.name)
    names.extend(annotations or ())
    return sorted(set(names))


def unknown_name_message(model: Any, name: str, full_name: str, annotations: Any) -> str:
    choices = valid_names(model, annotations)
    close = difflib.get_close_matches(str(name), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    where = "" if name == full_name else f" (in {full_name!r})"
    return (
        f"Cannot resolve keyword {name!r}{where} into a field of {model.__name__}.{hint} "
        f"Choices are: {', '.join(choices)}."
    )


def bad_lookup_message(model: Any, full_name: str, part: str, field: Any) -> str:
    from dorm.lookups import DEFAULT_LOOKUPS, DEFAULT_TRANSFORMS

    names = sorted(DEFAULT_LOOKUPS)
    internal = field.get_internal_type() if hasattr(field, "get_internal_type") else ""
    if internal in ("DateField", "DateTimeField"):
        names += sorted(DEFAULT_TRANSFORMS)
    fname = getattr(field, "name", None) or type(field).__name__
    return (
        f"Unsupported lookup {part!r} in {full_name!r} on {model.__name__}.{fname}: it is not a field, "
        f"relation, lookup or transform there. Lookups are: {', '.join(names)}."
    )
