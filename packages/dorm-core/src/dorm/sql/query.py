"""``Query``: the vendor-free node tree behind a QuerySet.

A Query knows its model, its joins (``alias_map``), its WHERE tree, select
list, ordering, grouping, limits and locking.  Names are resolved (and
validated) when they are added, so a bad name raises ``FieldError`` before
any SQL exists.  :meth:`Query.key` returns the query's *shape* (no values)
and collects its parameters in compile order: the compiled-SQL cache
(``wrapper.compile_cache``) is keyed by it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from dorm.exceptions import FieldError
from dorm.expressions import (
    Col,
    Expression,
    F,
    OrderBy,
    PendingOuterRef,
    Q,
    Ref,
    Subquery,
    Value,
)
from dorm.lookups import Exact, In, IsNull, Lookup, Transform, find_lookup, find_transform
from dorm.sql import paths

__all__ = ["Join", "KeyContext", "Query", "WhereNode"]

LOOKUP_SEP: Final = "__"
SELECT: Final = "select"
UPDATE: Final = "update"
DELETE: Final = "delete"
INSERT: Final = "insert"


class KeyContext:
    """Collects parameters while a query's shape key is computed."""

    __slots__ = ("params", "wrapper")

    def __init__(self, wrapper: Any) -> None:
        self.params: list[Any] = []
        self.wrapper = wrapper


class Join:
    """``<LEFT OUTER|INNER> JOIN table alias ON alias.column = parent_alias.parent_column``."""

    __slots__ = ("table", "alias", "parent_alias", "parent_column", "column", "nullable")

    def __init__(
        self, table: str, alias: str, parent_alias: str, parent_column: str, column: str, nullable: bool
    ) -> None:
        self.table = table
        self.alias = alias
        self.parent_alias = parent_alias
        self.parent_column = parent_column
        self.column = column
        self.nullable = nullable

    def key(self) -> tuple[Any, ...]:
        return (self.table, self.alias, self.parent_alias, self.parent_column, self.column, self.nullable)

    def relabeled(self, mapping: dict[str, str]) -> Join:
        return Join(
            self.table,
            mapping.get(self.alias, self.alias),
            mapping.get(self.parent_alias, self.parent_alias),
            self.parent_column,
            self.column,
            self.nullable,
        )


class WhereNode(Expression):
    """AND/OR of conditions, optionally negated."""

    __slots__ = ("nodes", "connector", "negated")
    visit_name = "where"

    def __init__(self, nodes: list[Expression] | None = None, connector: str = "AND", negated: bool = False) -> None:
        super().__init__(None)
        self.nodes: list[Expression] = nodes if nodes is not None else []
        self.connector = connector
        self.negated = negated

    def children(self) -> Iterator[Expression]:
        return iter(self.nodes)

    def key(self, kc: KeyContext) -> Any:
        return (self.connector, self.negated, tuple(n.key(kc) for n in self.nodes))

    def split_having(self) -> tuple[WhereNode | None, WhereNode | None]:
        """(WHERE part, HAVING part): conditions on aggregates go to HAVING."""
        if not self.has_aggregate():
            return self, None
        if self.connector == "AND" and not self.negated:
            where = [n for n in self.nodes if not n.has_aggregate()]
            having = [n for n in self.nodes if n.has_aggregate()]
            return (WhereNode(where) if where else None), WhereNode(having)
        return None, self


def relabel(node: Any, mapping: dict[str, str], child_prefix: str, outer: Query | None = None) -> Any:
    """A copy of an expression tree with table aliases renamed (for use as a subquery).

    With ``outer``, pending ``OuterRef`` nodes are resolved against that query instead.
    """
    if outer is not None and isinstance(node, PendingOuterRef):
        return outer.resolve_ref(node.name)
    if isinstance(node, Col):
        new = mapping.get(node.alias)
        return node if new is None else Col(new, node.column, node.field)
    if isinstance(node, Subquery):
        clone = copy.copy(node)
        if node.query is not None:
            clone.query = node.query.relabeled(child_prefix, mapping)
        return clone
    if isinstance(node, Expression):
        expr_clone = copy.copy(node)
        for cls in type(node).__mro__:
            for slot in cls.__dict__.get("__slots__", ()):
                if slot == "output_field" or not hasattr(node, slot):
                    continue
                value = getattr(node, slot)
                new_value = relabel(value, mapping, child_prefix, outer)
                if new_value is not value:
                    object.__setattr__(expr_clone, slot, new_value)
        return expr_clone
    if isinstance(node, list):
        return [relabel(v, mapping, child_prefix, outer) for v in node]
    if isinstance(node, tuple):
        return tuple(relabel(v, mapping, child_prefix, outer) for v in node)
    return node


class RelatedSelection:
    """One ``select_related`` step: the joined model, its alias and what hangs off it."""

    __slots__ = ("field", "model", "alias", "children")

    def __init__(self, field: Any, model: Any, alias: str) -> None:
        self.field = field
        self.model = model
        self.alias = alias
        self.children: dict[str, RelatedSelection] = {}

    def key(self) -> tuple[Any, ...]:
        return (self.field.name, self.alias, tuple((n, c.key()) for n, c in self.children.items()))

    def relabeled(self, mapping: dict[str, str]) -> RelatedSelection:
        clone = RelatedSelection(self.field, self.model, mapping.get(self.alias, self.alias))
        clone.children = {n: c.relabeled(mapping) for n, c in self.children.items()}
        return clone


class Query:
    """The node tree of one SELECT/UPDATE/DELETE (INSERTs use ``InsertQuery``)."""

    __slots__ = (
        "model",
        "kind",
        "base_alias",
        "alias_prefix",
        "alias_map",
        "join_map",
        "where",
        "order_by",
        "default_ordering",
        "standard_ordering",
        "low",
        "high",
        "distinct",
        "distinct_fields",
        "select_related",
        "annotations",
        "annotation_mask",
        "values_select",
        "values_kind",
        "deferred",
        "only_mode",
        "for_update",
        "combinator",
        "combined",
        "outer_query",
        "subquery_count",
        "select_exprs",
        "is_exists",
        "is_empty",
        "update_values",
        "group_by",
        "used_many",
        "tags",
    )

    def __init__(self, model: Any, alias_prefix: str | None = None) -> None:
        self.model = model
        self.kind = SELECT
        self.alias_prefix = alias_prefix
        self.base_alias = f"{alias_prefix}0" if alias_prefix else model._meta.db_table
        self.alias_map: dict[str, Join | None] = {self.base_alias: None}
        self.join_map: dict[tuple[str, str], str] = {}
        self.where: WhereNode | None = None
        self.order_by: tuple[OrderBy, ...] | None = None
        self.default_ordering = True
        self.standard_ordering = True
        self.low = 0
        self.high: int | None = None
        self.distinct = False
        self.distinct_fields: tuple[Col, ...] = ()
        self.select_related: dict[str, RelatedSelection] | None = None
        self.annotations: dict[str, Expression] = {}
        #: annotations that are selected (None: all); ``alias()``-style hidden ones are not
        self.annotation_mask: tuple[str, ...] | None = None
        #: values()/values_list(): names selected (fields or annotations), in order
        self.values_select: tuple[str, ...] | None = None
        self.values_kind: str | None = None
        self.deferred: frozenset[str] = frozenset()
        self.only_mode = False
        self.for_update: tuple[bool, bool, tuple[str, ...]] | None = None
        self.combinator: str | None = None
        self.combined: tuple[Query, ...] = ()
        self.outer_query: Query | None = None
        self.subquery_count = 0
        #: resolved select expressions of values(): name -> expression
        self.select_exprs: dict[str, Expression] = {}
        self.is_exists = False
        self.is_empty = False
        self.update_values: list[tuple[Any, Expression]] = []
        self.group_by: tuple[Expression, ...] | None = None
        #: a name walked through a multi-valued relation (reverse FK / M2M)
        self.used_many = False
        #: plugin markers that travel with clones and subqueries but never reach the SQL
        #: (tenancy tags ``Model.unscoped`` querysets so its pre-compile hook leaves them alone)
        self.tags: frozenset[str] = frozenset()

    # -- copying -------------------------------------------------------------

    def clone(self) -> Query:
        q = Query.__new__(Query)
        q.model = self.model
        q.kind = self.kind
        q.base_alias = self.base_alias
        q.alias_prefix = self.alias_prefix
        q.alias_map = dict(self.alias_map)
        q.join_map = dict(self.join_map)
        w = self.where
        q.where = None if w is None else WhereNode(list(w.nodes), w.connector, w.negated)
        q.order_by = self.order_by
        q.default_ordering = self.default_ordering
        q.standard_ordering = self.standard_ordering
        q.low = self.low
        q.high = self.high
        q.distinct = self.distinct
        q.distinct_fields = self.distinct_fields
        sr = self.select_related
        q.select_related = None if sr is None else _copy_related(sr)
        q.annotations = dict(self.annotations)
        q.annotation_mask = self.annotation_mask
        q.values_select = self.values_select
        q.values_kind = self.values_kind
        q.deferred = self.deferred
        q.only_mode = self.only_mode
        q.for_update = self.for_update
        q.combinator = self.combinator
        q.combined = self.combined
        q.outer_query = self.outer_query
        q.subquery_count = self.subquery_count
        q.select_exprs = dict(self.select_exprs)
        q.is_exists = self.is_exists
        q.is_empty = self.is_empty
        q.update_values = list(self.update_values)
        q.group_by = self.group_by
        q.used_many = self.used_many
        q.tags = self.tags
        return q

    def relabeled(self, prefix: str, outer_mapping: dict[str, str] | None = None) -> Query:
        """A copy whose aliases are ``<prefix>0``, ``<prefix>1``... (so it can nest in another query)."""
        mapping: dict[str, str] = dict(outer_mapping or {})
        for i, alias in enumerate(self.alias_map):
            mapping[alias] = f"{prefix}{i}"
        child = _next_prefix(prefix)
        q = self.clone()
        q.alias_prefix = prefix
        q.base_alias = mapping[self.base_alias]
        q.alias_map = {mapping[a]: (None if j is None else j.relabeled(mapping)) for a, j in self.alias_map.items()}
        q.join_map = {(mapping.get(p, p), n): mapping[a] for (p, n), a in self.join_map.items()}
        q.where = relabel(self.where, mapping, child)
        if self.order_by is not None:
            q.order_by = relabel(self.order_by, mapping, child)
        q.distinct_fields = relabel(self.distinct_fields, mapping, child)
        if self.select_related is not None:
            q.select_related = {n: r.relabeled(mapping) for n, r in self.select_related.items()}
        q.annotations = {n: relabel(e, mapping, child) for n, e in self.annotations.items()}
        q.select_exprs = {n: relabel(e, mapping, child) for n, e in self.select_exprs.items()}
        q.update_values = [(f, relabel(e, mapping, child)) for f, e in self.update_values]
        if self.group_by is not None:
            q.group_by = relabel(self.group_by, mapping, child)
        return q

    def next_subquery_prefix(self) -> str:
        return _next_prefix(self.alias_prefix)

    def rebuild_for_subquery(self) -> None:
        """Called on a clone about to become a subquery of ``outer_query``: rename aliases."""
        prefix = self.alias_prefix or "U"
        relabeled = Query.relabeled(self, prefix)
        for slot in Query.__slots__:
            if slot != "outer_query":
                object.__setattr__(self, slot, getattr(relabeled, slot))
        self.apply_default_ordering()
        if self.high is None and self.low == 0 and not self.distinct:
            self.order_by = ()  # ordering of a subquery without a slice is meaningless

    def resolve_outer_refs(self, outer: Query) -> None:
        """Replace pending ``OuterRef`` nodes by columns of ``outer`` (joins added there)."""
        child = _next_prefix(self.alias_prefix)
        self.where = relabel(self.where, {}, child, outer)
        if self.order_by is not None:
            self.order_by = relabel(self.order_by, {}, child, outer)
        self.annotations = {n: relabel(e, {}, child, outer) for n, e in self.annotations.items()}
        self.select_exprs = {n: relabel(e, {}, child, outer) for n, e in self.select_exprs.items()}
        if self.group_by is not None:
            self.group_by = relabel(self.group_by, {}, child, outer)

    def make_exists(self) -> None:
        self.is_exists = True
        self.order_by = ()
        self.values_select = ()
        self.select_exprs = {}
        self.annotation_mask = ()
        self.select_related = None

    def single_output_field(self) -> Any:
        if self.select_exprs:
            if len(self.select_exprs) != 1:
                raise FieldError("A Subquery used as a value must select exactly one column: use values('field').")
            return next(iter(self.select_exprs.values())).output_field
        return self.model._meta.pk

    # -- joins and names -----------------------------------------------------

    def _new_alias(self, table: str) -> str:
        prefix = self.alias_prefix
        if prefix:
            return f"{prefix}{len(self.alias_map)}"
        if table not in self.alias_map:
            return table
        return f"T{len(self.alias_map)}"

    def join(self, parent_alias: str, name: str, table: str, parent_column: str, column: str, nullable: bool) -> str:
        """The alias joining ``table`` to ``parent_alias`` (reused if that join exists)."""
        existing = self.join_map.get((parent_alias, name))
        if existing is not None:
            return existing
        parent = self.alias_map.get(parent_alias)
        if parent is not None and parent.nullable:
            nullable = True  # a LEFT join under a LEFT join must stay LEFT
        alias = self._new_alias(table)
        self.alias_map[alias] = Join(table, alias, parent_alias, parent_column, column, nullable)
        self.join_map[(parent_alias, name)] = alias
        return alias

    def setup_path(
        self, parts: Sequence[str], full_name: str, *, allow_many: bool = True
    ) -> tuple[Expression, Any, list[str]]:
        """Walk ``parts`` through fields and relations, adding joins.

        Returns the column expression reached, its field, and the parts left
        over (transforms and the lookup).
        """
        model = self.model
        alias = self.base_alias
        i = 0
        n = len(parts)
        field: Any = None
        col: Expression | None = None
        while i < n:
            name = parts[i]
            step = paths.resolve_name(model, name)
            if step is None:
                if field is None:
                    raise FieldError(paths.unknown_name_message(model, name, full_name, self.annotations))
                break
            i += 1
            kind = step.kind
            if kind == paths.PLAIN:
                field = step.field
                col = Col(alias, field.column, field)
                break
            if kind == paths.FORWARD:
                field = step.field
                target_model = step.target_model
                nxt = parts[i] if i < n else None
                if nxt is None or paths.resolve_name(target_model, nxt) is None or paths.is_target_field(step, nxt):
                    if nxt is not None and paths.is_target_field(step, nxt):
                        i += 1
                    col = Col(alias, field.column, field)
                    break
                alias = self.join(
                    alias, step.name, target_model._meta.db_table, field.column, step.target_column, step.nullable
                )
                model = target_model
                continue
            if not allow_many:
                raise FieldError(f"{full_name!r}: a multi-valued relation ({name!r}) cannot be used here.")
            self.used_many = True
            # reverse FK / M2M: join through to the related table
            for table, parent_col, col_name, nullable, hop in step.hops:
                alias = self.join(alias, hop, table, parent_col, col_name, nullable)
            model = step.target_model
            pk = model._meta.pk
            field = pk
            col = Col(alias, pk.column, pk)
            nxt = parts[i] if i < n else None
            if nxt is not None and paths.resolve_name(model, nxt) is not None and not paths.is_pk_name(model, nxt):
                field = None
                col = None
                continue
            if nxt is not None and paths.is_pk_name(model, nxt):
                i += 1
            break
        if col is None:
            raise FieldError(paths.unknown_name_message(model, parts[i - 1] if i else parts[0], full_name, {}))
        return col, field, list(parts[i:])

    def setup_and_check(self, name: str) -> None:
        """Validate one filter keyword (path, transforms, lookup) without a value."""
        if not isinstance(name, str) or not name:
            raise FieldError(f"Invalid filter keyword {name!r}.")
        parts = name.split(LOOKUP_SEP)
        if parts[0] in self.annotations:
            return
        lhs, _field, rest = self.setup_path(parts, name)
        for idx, part in enumerate(rest):
            if idx == len(rest) - 1 and find_lookup(lhs.output_field, part) is not None:
                return
            tcls = find_transform(lhs.output_field, part)
            if tcls is None:
                raise FieldError(paths.bad_lookup_message(self.model, name, part, lhs.output_field))
            lhs = tcls(lhs)

    def resolve_ref(self, name: str) -> Expression:
        """``F(name)``: an annotation, or a field path (joins added)."""
        annotation = self.annotations.get(name)
        if annotation is not None:
            return Ref(name, annotation) if annotation.has_aggregate() else annotation
        parts = name.split(LOOKUP_SEP)
        col, field, rest = self.setup_path(parts, name)
        if rest:
            expr: Expression = col
            for tname in rest:
                tcls = find_transform(expr.output_field, tname)
                if tcls is None:
                    raise FieldError(f"Cannot resolve {name!r}: {tname!r} is not a field or transform of {field!r}.")
                expr = tcls(expr)
            return expr
        return col

    # -- filters -------------------------------------------------------------

    def build_lookup(self, name: str, value: Any) -> Expression:
        """One ``name__lookup=value`` condition, validated against the model."""
        if not isinstance(name, str) or not name:
            raise FieldError(f"Invalid filter keyword {name!r}.")
        parts = name.split(LOOKUP_SEP)
        annotation = self.annotations.get(parts[0])
        if annotation is not None:
            lhs: Expression = annotation
            rest = parts[1:]
        else:
            lhs, field, rest = self.setup_path(parts, name)
        lookup_name = "exact"
        for idx, part in enumerate(rest):
            if idx == len(rest) - 1 and find_lookup(lhs.output_field, part) is not None:
                lookup_name = part
                break
            tcls = find_transform(lhs.output_field, part)
            if tcls is None:
                raise FieldError(paths.bad_lookup_message(self.model, name, part, lhs.output_field))
            lhs = tcls(lhs)
        return self.make_lookup(lhs, lookup_name, value, name)

    def make_lookup(self, lhs: Expression, lookup_name: str, value: Any, name: str) -> Expression:
        field = lhs.output_field
        if isinstance(value, Expression):
            value = value.resolve(self)
        elif hasattr(value, "query") and hasattr(value, "_clone") and lookup_name == "in":
            value = Subquery(paths.pk_values_queryset(value)).resolve(self)
        elif value is None and lookup_name in ("exact", "iexact") and lhs.visit_name != "json_key":
            return IsNull(lhs, True)  # (on a JSON key, None is JSON null: the key lookup handles it)
        elif lookup_name in ("exact", "in", "gt", "gte", "lt", "lte", "range"):
            value = paths.relation_value(value, lookup_name)
        cls = find_lookup(field, lookup_name)
        if cls is None:
            raise FieldError(f"Unsupported lookup {lookup_name!r} in {name!r}.")
        lookup = cls(lhs, value)
        lookup.check_rhs()
        if isinstance(lookup, In) and not isinstance(lookup.rhs, Expression) and not lookup.rhs:
            return NothingNode()
        return lookup

    def build_where(self, q: Any, *, negate: bool = False) -> WhereNode:
        """Resolve a ``Q`` (or expression) into a WhereNode; names validated."""
        if isinstance(q, Expression):
            expr = q.resolve(self)
            return WhereNode([expr], "AND", negate)
        node = WhereNode([], q.connector, q.negated != negate)
        for child in q.children:
            if isinstance(child, Q):
                node.nodes.append(self.build_where(child))
            elif isinstance(child, tuple):
                node.nodes.append(self.build_lookup(child[0], child[1]))
            elif isinstance(child, Expression):
                node.nodes.append(child.resolve(self))
            else:
                raise TypeError(f"Cannot filter on {child!r}")
        return node

    def add_q(self, q: Any, negate: bool = False) -> None:
        """AND a condition into the WHERE tree."""
        node = self.build_where(q, negate=negate)
        if not node.nodes:
            return
        if self.where is None:
            self.where = WhereNode([])
        if node.connector == "AND" and not node.negated:
            self.where.nodes.extend(node.nodes)
        else:
            self.where.nodes.append(node)

    def add_filter(self, kwargs: dict[str, Any], negate: bool = False) -> None:
        self.add_q(Q(**kwargs), negate)

    # -- select list ---------------------------------------------------------

    def add_annotation(self, name: str, expr: Any) -> None:
        if not isinstance(expr, Expression):
            raise TypeError(f"annotate({name}=...) takes an expression (F, Count, Value...), not {expr!r}")
        if not name.isidentifier() or name.startswith("_"):
            raise FieldError(f"Invalid annotation name {name!r}: use an identifier not starting with '_'.")
        if paths.resolve_name(self.model, name) is not None:
            raise FieldError(f"The annotation {name!r} conflicts with a field on {self.model.__name__}.")
        self.annotations[name] = expr.resolve(self)
        if self.annotation_mask is not None:
            self.annotation_mask = (*self.annotation_mask, name)
        if self.values_select is not None:
            self.values_select = (*self.values_select, name)
            self.select_exprs[name] = self.annotations[name]
            if self.has_aggregates():
                self.group_by = tuple(e for e in self.select_exprs.values() if not e.has_aggregate())

    def set_values(self, names: Sequence[str], kind: str, expressions: dict[str, Any] | None = None) -> None:
        """values()/values_list(): select the given names (default: every concrete field)."""
        for name, expr in (expressions or {}).items():
            self.add_annotation(name, expr)
        selected: list[str] = []
        exprs: dict[str, Expression] = {}
        if not names and not expressions:
            for f in self.model._meta.concrete_fields:
                selected.append(f.attname)
                exprs[f.attname] = Col(self.base_alias, f.column, f)
            for name, ann in self.annotations.items():
                if self.annotation_mask is None or name in self.annotation_mask:
                    selected.append(name)
                    exprs[name] = ann
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"values() takes field names, not {name!r}")
            if name in self.annotations:
                exprs[name] = self.annotations[name]
            else:
                exprs[name] = self.resolve_ref(name)
            selected.append(name)
        for name in expressions or {}:
            selected.append(name)
            exprs[name] = self.annotations[name]
        self.values_select = tuple(selected)
        self.select_exprs = exprs
        self.values_kind = kind
        self.select_related = None
        if any(e.has_aggregate() for e in self.annotations.values()):
            self.group_by = tuple(e for n, e in exprs.items() if not e.has_aggregate())

    def set_deferred(self, names: Iterable[str], only: bool) -> None:
        resolved: set[str] = set()
        for name in names:
            if LOOKUP_SEP in name:
                raise FieldError(
                    f"only()/defer() across relations ({name!r}) is not supported; name fields of {self.model.__name__}."
                )
            step = paths.resolve_name(self.model, name)
            if step is None or step.kind not in (paths.PLAIN, paths.FORWARD):
                raise FieldError(paths.unknown_name_message(self.model, name, name, {}))
            resolved.add(step.field.name)
        if only:
            if self.only_mode:
                resolved &= set(self.deferred) if self.deferred else resolved
            self.deferred = frozenset(resolved)
            self.only_mode = True
        elif self.only_mode:
            self.deferred = frozenset(set(self.deferred) - resolved)
        else:
            self.deferred = frozenset(set(self.deferred) | resolved)

    def loaded_fields(self, model: Any) -> list[Any]:
        """The concrete fields a model SELECT loads (only/defer applied; pk always)."""
        fields = model._meta.concrete_fields
        if model is not self.model or not (self.deferred or self.only_mode):
            return list(fields)
        pk = model._meta.pk
        if self.only_mode:
            return [f for f in fields if f.name in self.deferred or f is pk]
        return [f for f in fields if f.name not in self.deferred or f is pk]

    def add_select_related(self, names: Sequence[str]) -> list[str]:
        """Named (``"a__b"``) or, with no names, every non-null forward FK (one level)."""
        tree = self.select_related if self.select_related is not None else {}
        self.select_related = tree
        followed: list[str] = []
        if not names:
            names = _non_null_fk_paths(self.model, (), 5, {self.model})
        for path in names:
            model = self.model
            parent_alias = self.base_alias
            level = tree
            for part in path.split(LOOKUP_SEP):
                step = paths.resolve_name(model, part)
                if step is None or step.kind != paths.FORWARD:
                    choices = paths.forward_relation_names(model)
                    raise FieldError(
                        f"Invalid field name {part!r} in select_related({path!r}): {model.__name__} has no "
                        f"forward relation of that name. Choices are: {', '.join(choices) or '(none)'}."
                    )
                sel = level.get(part)
                if sel is None:
                    alias = self.join(
                        parent_alias,
                        step.name,
                        step.target_model._meta.db_table,
                        step.field.column,
                        step.target_column,
                        True,
                    )
                    sel = RelatedSelection(step.field, step.target_model, alias)
                    level[part] = sel
                parent_alias = sel.alias
                level = sel.children
                model = step.target_model
            followed.append(path)
        return followed

    # -- ordering ------------------------------------------------------------

    def add_ordering(self, items: Sequence[Any]) -> None:
        resolved: list[OrderBy] = []
        for item in items:
            if isinstance(item, str):
                if item == "?":
                    resolved.append(OrderBy(RandomNode()))
                    continue
                descending = item.startswith("-")
                name = item.lstrip("-+")
                if name in self.annotations:
                    expr: Expression = Ref(name, self.annotations[name])
                else:
                    expr = self.resolve_ref(name)
                    expr = paths.order_target(self, expr)
                resolved.append(OrderBy(expr, descending))
            elif isinstance(item, OrderBy):
                resolved.append(item.resolve(self))  # type: ignore[arg-type]
            elif isinstance(item, Expression):
                resolved.append(OrderBy(item.resolve(self)))
            else:
                raise TypeError(f"order_by() takes field names or expressions, not {item!r}")
        self.order_by = tuple(resolved)
        self.default_ordering = False

    def order_by_names(self, items: Sequence[Any]) -> None:
        """What ``QuerySet.order_by(*items)`` does: this ordering, or none at all for no items."""
        self.add_ordering(items)
        if not items:
            self.clear_ordering()

    def apply_default_ordering(self) -> None:
        if self.order_by is None and self.default_ordering:
            ordering = self.model._meta.ordering
            if ordering:
                self.add_ordering(list(ordering))
            else:
                self.order_by = ()
                self.default_ordering = False

    def clear_ordering(self) -> None:
        self.order_by = ()
        self.default_ordering = False

    def effective_ordering(self) -> tuple[OrderBy, ...]:
        order = self.order_by or ()
        if not self.standard_ordering:
            order = tuple(o.reversed() for o in order)
        return order

    # -- slicing -------------------------------------------------------------

    def set_limits(self, low: int | None = None, high: int | None = None) -> None:
        self.low, self.high = sliced_limits(self.low, self.high, low, high)

    def needs_pk_subquery(self) -> bool:
        """UPDATE/DELETE with joins or a slice target rows through ``pk IN (SELECT ...)``."""
        return len(self.alias_map) > 1 or self.is_sliced

    @property
    def is_sliced(self) -> bool:
        return self.low != 0 or self.high is not None

    # -- grouping ------------------------------------------------------------

    def has_aggregates(self) -> bool:
        return any(e.has_aggregate() for e in self.annotations.values())

    # -- the shape key -------------------------------------------------------

    def key(self, kc: KeyContext) -> tuple[Any, ...]:
        """The query's shape; parameters are appended to ``kc.params`` in SQL order.

        The order here mirrors ``SQLCompiler.compile_select`` exactly.
        """
        if self.kind != SELECT:
            sets = tuple((f.column, e.key(kc)) for f, e in self.update_values)
            if self.needs_pk_subquery():
                return (self.kind, self.model, sets, "SUB", pk_subquery(self).key(kc))
            return (self.kind, self.model, sets, self.where.key(kc) if self.where is not None else None)
        if self.combinator:
            parts = tuple(q.key(kc) for q in self.combined)
            order = tuple(o.key(kc) for o in self.effective_ordering())
            limit = _limit_key(self, kc)
            return ("U", self.combinator, parts, order, limit)
        if self.is_empty:
            return ("EMPTY", self.model)
        select = self.select_key(kc)
        joins = tuple(j.key() for j in self.alias_map.values() if j is not None)
        where, having = (None, None) if self.where is None else self.where.split_having()
        where_key = where.key(kc) if where is not None else None
        group = self.group_key(kc)
        having_key = having.key(kc) if having is not None else None
        order = tuple(o.key(kc) for o in self.effective_ordering())
        limit = _limit_key(self, kc)
        return (
            self.kind,
            self.model,
            self.base_alias,
            self.distinct,
            tuple(c.key(kc) for c in self.distinct_fields),
            select,
            joins,
            where_key,
            group,
            having_key,
            order,
            limit,
            self.for_update,
            self.is_exists,
        )

    def select_key(self, kc: KeyContext) -> Any:
        if self.is_exists:
            return "EXISTS"
        if self.values_select is not None:
            exprs = self.select_exprs
            return (
                "VALUES",
                self.values_kind,
                self.values_select,
                tuple((exprs[n].key(kc), _field_key(exprs[n])) for n in self.values_select),
            )
        sr = self.select_related
        related = tuple((n, s.key()) for n, s in sr.items()) if sr else None
        # the output field decides the row converter, so it is part of the cached plan's key
        anns = tuple((n, e.key(kc), _field_key(e)) for n, e in self.selected_annotations())
        return ("MODEL", self.deferred, self.only_mode, related, anns)

    def selected_annotations(self) -> list[tuple[str, Expression]]:
        mask = self.annotation_mask
        return [(n, e) for n, e in self.annotations.items() if mask is None or n in mask]

    def group_key(self, kc: KeyContext) -> Any:
        if self.group_by is not None:
            return tuple(e.key(kc) for e in self.group_by)
        return None

    def __repr__(self) -> str:
        return f"<Query {self.kind} {self.model.__name__}>"


def sliced_limits(low: int, high: int | None, start: int | None, stop: int | None) -> tuple[int, int | None]:
    """``(low, high)`` row bounds after slicing ``[start:stop]`` rows that were ``[low:high]``."""
    if stop is not None:
        high = low + stop if high is None else min(high, low + stop)
    if start is not None:
        low = low + start if high is None else min(high, low + start)
    return low, high


class NothingNode(Expression):
    """A condition that never matches (``pk__in=[]``): ``1 = 0``."""

    __slots__ = ()
    visit_name = "nothing"

    def key(self, kc: KeyContext) -> Any:
        return "NOTHING"


class RandomNode(Expression):
    """``order_by("?")``."""

    __slots__ = ()
    visit_name = "random"

    def key(self, kc: KeyContext) -> Any:
        return "RANDOM"


def _non_null_fk_paths(model: Any, prefix: tuple[str, ...], depth: int, seen: set[Any]) -> list[str]:
    """Every path of non-null forward FKs from ``model`` (bare ``select_related()``), cycles cut."""
    out: list[str] = []
    if depth <= 0:
        return out
    for field in model._meta.concrete_fields:
        step = paths.resolve_name(model, field.name)
        if step is None or step.kind != paths.FORWARD or field.null:
            continue
        path = (*prefix, field.name)
        out.append(LOOKUP_SEP.join(path))
        target = step.target_model
        if target not in seen:
            out.extend(_non_null_fk_paths(target, path, depth - 1, seen | {target}))
    return out


def pk_subquery(query: Query) -> Query:
    """``SELECT pk FROM ...`` of an UPDATE/DELETE's rows (joins and slice honoured)."""
    inner = query.relabeled("U")
    inner.kind = SELECT
    inner.update_values = []
    pk = query.model._meta.pk
    inner.values_select = ("pk",)
    inner.select_exprs = {"pk": Col(inner.base_alias, pk.column, pk)}
    inner.select_related = None
    inner.annotation_mask = ()
    if not inner.is_sliced:
        inner.order_by = ()
    return inner


def _field_key(expr: Expression) -> Any:
    field = expr.output_field
    return None if field is None else (type(field), getattr(field, "model", None), getattr(field, "name", None))


def _limit_key(query: Query, kc: KeyContext) -> Any:
    if query.low == 0 and query.high is None:
        return None
    _sql, params = kc.wrapper.ops.limit_offset_sql(query.low, query.high)
    kc.params.extend(params)
    return (bool(query.low), query.high is not None)


def _next_prefix(prefix: str | None) -> str:
    if not prefix:
        return "U"
    return chr(ord(prefix[0]) + 1) if prefix[0] < "Z" else prefix + "U"


def _copy_related(tree: dict[str, RelatedSelection]) -> dict[str, RelatedSelection]:
    out: dict[str, RelatedSelection] = {}
    for name, sel in tree.items():
        clone = RelatedSelection(sel.field, sel.model, sel.alias)
        clone.children = _copy_related(sel.children)
        out[name] = clone
    return out


# Re-exported for lookups building (avoid import cycles in callers).
__all__ += ["Exact", "IsNull", "Lookup", "NothingNode", "RandomNode", "Transform", "Value", "F"]


class InsertQuery:
    """What ``dorm_query_pre_compile`` sees for an INSERT (``save()`` of a new row, ``create``,
    ``bulk_create``): the model and the instances about to be written.

    Plugins stamp values with :meth:`add_insert_value` (tenancy sets the tenant column);
    the statement is built after the hook, so the value is an ordinary parameter.
    """

    __slots__ = ("model", "objs", "kind", "conflict")

    def __init__(self, model: Any, objs: list[Any], conflict: tuple[Any, ...] = ()) -> None:
        self.model = model
        self.objs = objs
        self.kind = INSERT
        #: ``bulk_create`` conflict handling: ``()`` for none, else ``(ignore, update_fields, unique_fields)``
        #: (fields, or None) so a plugin can refuse an upsert that could overwrite rows it must not touch
        self.conflict = conflict

    def add_insert_value(self, name: str, value: Any) -> None:
        """Set field ``name`` to ``value`` on every row of this INSERT."""
        step = paths.resolve_name(self.model, name)
        if step is None or step.kind not in (paths.PLAIN, paths.FORWARD):
            raise FieldError(paths.unknown_name_message(self.model, name, name, {}))
        field = step.field
        if hasattr(value, "_meta") and getattr(field, "is_relation", False):
            value = value.pk
        for obj in self.objs:
            obj.__dict__[field.attname] = value
            if getattr(field, "is_relation", False):
                obj._state.fields_cache.pop(field.name, None)

    def __repr__(self) -> str:
        return f"<InsertQuery {self.model.__name__} rows={len(self.objs)}>"
