"""Expression nodes: ``Q``, ``F``, ``Value``, ``Case``/``When``, subqueries, raw SQL.

Every node is vendor-free.  A node has three jobs:

* ``resolve(query)`` turns names into columns (adding joins) and returns a
  resolved copy; user-built nodes are never mutated, so they can be reused.
* ``key(kc)`` returns the node's *shape* (hashable, no values) and appends
  the node's parameter values to ``kc.params`` in the order the compiler
  emits them.  The compiled-SQL cache is keyed by the whole query's shape.
* compilation is done by the backend's compiler: ``compiler.compile(node)``
  dispatches to ``visit_<node.visit_name>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dorm.exceptions import FieldError

if TYPE_CHECKING:
    from dorm.sql.query import KeyContext, Query

__all__ = [
    "Case",
    "Col",
    "CombinedExpression",
    "Exists",
    "Expression",
    "ExpressionWrapper",
    "F",
    "OrderBy",
    "OuterRef",
    "Q",
    "RawSQL",
    "Ref",
    "Subquery",
    "Value",
    "When",
]


class Expression:
    """Base class of every SQL expression node."""

    __slots__ = ("output_field",)

    visit_name: ClassVar[str] = "expression"
    contains_aggregate: ClassVar[bool] = False

    def __init__(self, output_field: Any = None) -> None:
        self.output_field = output_field

    # -- building ----------------------------------------------------------

    def resolve(self, query: Query) -> Expression:
        return self

    def key(self, kc: KeyContext) -> Any:
        raise NotImplementedError(type(self).__name__)

    def children(self) -> Iterator[Expression]:
        return iter(())

    def has_aggregate(self) -> bool:
        if self.contains_aggregate:
            return True
        return any(child.has_aggregate() for child in self.children())

    # -- ordering ----------------------------------------------------------

    def asc(self, *, nulls_first: bool = False, nulls_last: bool = False) -> OrderBy:
        return OrderBy(self, descending=False, nulls_first=nulls_first, nulls_last=nulls_last)

    def desc(self, *, nulls_first: bool = False, nulls_last: bool = False) -> OrderBy:
        return OrderBy(self, descending=True, nulls_first=nulls_first, nulls_last=nulls_last)

    # -- arithmetic --------------------------------------------------------

    def _combine(self, other: Any, connector: str, reverse: bool) -> CombinedExpression:
        other_expr = other if isinstance(other, Expression) else Value(other)
        if reverse:
            return CombinedExpression(other_expr, connector, self)
        return CombinedExpression(self, connector, other_expr)

    def __add__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "+", False)

    def __sub__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "-", False)

    def __mul__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "*", False)

    def __truediv__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "/", False)

    def __mod__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "%", False)

    def __radd__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "+", True)

    def __rsub__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "-", True)

    def __rmul__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "*", True)

    def __rtruediv__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "/", True)

    def __neg__(self) -> CombinedExpression:
        return CombinedExpression(Value(0), "-", self)


class F(Expression):
    """A reference to a field (or annotation) by name: ``F("price") * 2``, ``F("author__name")``."""

    __slots__ = ("name",)
    visit_name = "f"

    def __init__(self, name: str) -> None:
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(f"F() takes a field name, not {name!r}")
        self.name = name

    def resolve(self, query: Query) -> Expression:
        return query.resolve_ref(self.name)

    def key(self, kc: KeyContext) -> Any:  # pragma: no cover - always resolved first
        raise FieldError(f"F({self.name!r}) was not resolved against a query")

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, F) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("F", self.name))


class OuterRef(F):
    """A reference to a field of the *outer* query inside ``Subquery``/``Exists``."""

    __slots__ = ()

    def resolve(self, query: Query) -> Expression:
        outer = query.outer_query
        if outer is None:
            # Resolved when the queryset becomes a Subquery()/Exists() of an outer query.
            return PendingOuterRef(self.name)
        return outer.resolve_ref(self.name)

    def __repr__(self) -> str:
        return f"OuterRef({self.name!r})"


class PendingOuterRef(Expression):
    """An ``OuterRef`` inside a queryset not yet used as a subquery."""

    __slots__ = ("name",)
    visit_name = "pending_outer_ref"

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def key(self, kc: KeyContext) -> Any:
        return ("OUTER", self.name)


class Col(Expression):
    """A resolved column: ``"alias"."column"``."""

    __slots__ = ("alias", "column", "field")
    visit_name = "col"

    def __init__(self, alias: str, column: str, field: Any) -> None:
        super().__init__(field)
        self.alias = alias
        self.column = column
        self.field = field

    def key(self, kc: KeyContext) -> Any:
        return ("C", self.alias, self.column)

    def __repr__(self) -> str:
        return f"Col({self.alias}.{self.column})"


class Ref(Expression):
    """A reference to an annotation by its select alias (in ORDER BY / GROUP BY)."""

    __slots__ = ("name", "source")
    visit_name = "ref"

    def __init__(self, name: str, source: Expression) -> None:
        super().__init__(source.output_field)
        self.name = name
        self.source = source

    def key(self, kc: KeyContext) -> Any:
        return ("R", self.name)

    def has_aggregate(self) -> bool:
        return self.source.has_aggregate()


class Value(Expression):
    """A literal value, always sent as a parameter."""

    __slots__ = ("value",)
    visit_name = "value"

    def __init__(self, value: Any, output_field: Any = None) -> None:
        super().__init__(output_field)
        self.value = value

    def prepared(self, kc_wrapper: Any) -> Any:
        field = self.output_field
        value = self.value
        if field is not None and value is not None and hasattr(field, "get_db_prep_value"):
            return field.get_db_prep_value(value, kc_wrapper)
        return value

    def key(self, kc: KeyContext) -> Any:
        kc.params.append(self.prepared(kc.wrapper))
        return "V"

    def __repr__(self) -> str:
        return f"Value({self.value!r})"


class CombinedExpression(Expression):
    """``lhs <op> rhs`` arithmetic."""

    __slots__ = ("lhs", "connector", "rhs")
    visit_name = "combined"

    def __init__(self, lhs: Expression, connector: str, rhs: Expression, output_field: Any = None) -> None:
        super().__init__(output_field)
        self.lhs = lhs
        self.connector = connector
        self.rhs = rhs

    def resolve(self, query: Query) -> Expression:
        lhs = self.lhs.resolve(query)
        rhs = self.rhs.resolve(query)
        field = self.output_field or lhs.output_field or rhs.output_field
        if isinstance(rhs, Value) and rhs.output_field is None and lhs.output_field is not None:
            rhs = Value(rhs.value, _arith_field(lhs.output_field))
        if isinstance(lhs, Value) and lhs.output_field is None and rhs.output_field is not None:
            lhs = Value(lhs.value, _arith_field(rhs.output_field))
        return CombinedExpression(lhs, self.connector, rhs, field)

    def children(self) -> Iterator[Expression]:
        yield self.lhs
        yield self.rhs

    def key(self, kc: KeyContext) -> Any:
        return ("+", self.connector, self.lhs.key(kc), self.rhs.key(kc))

    def __repr__(self) -> str:
        return f"({self.lhs!r} {self.connector} {self.rhs!r})"


def _arith_field(field: Any) -> Any:
    """The field that prepares the other operand of arithmetic (None for relations)."""
    if getattr(field, "is_relation", False):
        return None
    return field


class ExpressionWrapper(Expression):
    """Give an expression an explicit output field: ``ExpressionWrapper(F("a") * F("b"), FloatField())``."""

    __slots__ = ("expression",)
    visit_name = "wrapper"

    def __init__(self, expression: Expression, output_field: Any) -> None:
        super().__init__(output_field)
        self.expression = expression

    def resolve(self, query: Query) -> Expression:
        return ExpressionWrapper(self.expression.resolve(query), self.output_field)

    def children(self) -> Iterator[Expression]:
        yield self.expression

    def key(self, kc: KeyContext) -> Any:
        return ("W", self.expression.key(kc))


class RawSQL(Expression):
    """A raw SQL fragment with ``%s`` placeholders and its parameters: ``RawSQL("price * %s", [2])``."""

    __slots__ = ("sql", "params")
    visit_name = "raw"

    def __init__(self, sql: str, params: Any = (), output_field: Any = None) -> None:
        super().__init__(output_field)
        self.sql = sql
        self.params = list(params)

    def key(self, kc: KeyContext) -> Any:
        kc.params.extend(self.params)
        return ("RAW", self.sql, len(self.params))


class OrderBy(Expression):
    """An ORDER BY item: ``F("name").desc(nulls_last=True)``."""

    __slots__ = ("expression", "descending", "nulls_first", "nulls_last")
    visit_name = "order_by"

    def __init__(
        self, expression: Expression, descending: bool = False, nulls_first: bool = False, nulls_last: bool = False
    ) -> None:
        super().__init__()
        if nulls_first and nulls_last:
            raise ValueError("nulls_first and nulls_last are mutually exclusive")
        self.expression = expression
        self.descending = descending
        self.nulls_first = nulls_first
        self.nulls_last = nulls_last

    def resolve(self, query: Query) -> Expression:
        return OrderBy(self.expression.resolve(query), self.descending, self.nulls_first, self.nulls_last)

    def reversed(self) -> OrderBy:
        return OrderBy(self.expression, not self.descending, self.nulls_last, self.nulls_first)

    def children(self) -> Iterator[Expression]:
        yield self.expression

    def key(self, kc: KeyContext) -> Any:
        return ("O", self.expression.key(kc), self.descending, self.nulls_first, self.nulls_last)


# --------------------------------------------------------------------------
# Q
# --------------------------------------------------------------------------


class Q:
    """A filter condition tree: ``Q(name="x") | ~Q(age__lt=18)``.

    Keyword names are validated against the model when the Q is added to a
    query; nothing here is passed to SQL as text.
    """

    __slots__ = ("children", "connector", "negated")

    AND: ClassVar[str] = "AND"
    OR: ClassVar[str] = "OR"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for arg in args:
            if not isinstance(arg, (Q, tuple, Expression)):
                raise TypeError(f"Q() positional arguments must be Q objects or expressions, not {arg!r}")
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        self.connector = Q.AND
        self.negated = False

    @classmethod
    def _new(cls, children: list[Any], connector: str, negated: bool) -> Q:
        q = cls.__new__(cls)
        q.children = children
        q.connector = connector
        q.negated = negated
        return q

    def _combine(self, other: Any, connector: str) -> Q:
        if not isinstance(other, Q):
            raise TypeError(f"Cannot combine a Q with {other!r}")
        if not other.children:
            return Q._new(list(self.children), self.connector, self.negated)
        if not self.children:
            return Q._new(list(other.children), other.connector, other.negated)
        return Q._new([self, other], connector, False)

    def __and__(self, other: Any) -> Q:
        return self._combine(other, Q.AND)

    def __or__(self, other: Any) -> Q:
        return self._combine(other, Q.OR)

    def __invert__(self) -> Q:
        return Q._new([self], Q.AND, True)

    def __bool__(self) -> bool:
        return bool(self.children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Q)
            and other.children == self.children
            and other.connector == self.connector
            and other.negated == self.negated
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(repr(c) for c in self.children)
        return f"<Q: {'NOT ' if self.negated else ''}({inner})>"


# --------------------------------------------------------------------------
# conditional expressions
# --------------------------------------------------------------------------


class When(Expression):
    """``When(condition, then=value)``; the condition is a Q or keyword filters."""

    __slots__ = ("condition", "result")
    visit_name = "when"

    def __init__(self, condition: Any = None, then: Any = None, **lookups: Any) -> None:
        super().__init__()
        if lookups:
            condition = Q(**lookups) if condition is None else condition & Q(**lookups)
        if condition is None:
            raise TypeError("When() needs a condition (a Q object or keyword lookups)")
        self.condition: Any = condition
        self.result: Any = then if isinstance(then, Expression) else Value(then)

    def resolve(self, query: Query) -> Expression:
        when = When.__new__(When)
        when.output_field = self.output_field
        when.condition = (
            query.build_where(self.condition) if isinstance(self.condition, Q) else self.condition.resolve(query)
        )
        when.result = self.result.resolve(query)
        when.output_field = when.result.output_field
        return when

    def children(self) -> Iterator[Expression]:
        yield self.result

    def has_aggregate(self) -> bool:
        return bool(self.result.has_aggregate())

    def key(self, kc: KeyContext) -> Any:
        return ("WHEN", self.condition.key(kc), self.result.key(kc))


class Case(Expression):
    """``Case(When(...), When(...), default=...)``."""

    __slots__ = ("cases", "default")
    visit_name = "case"

    def __init__(self, *cases: When, default: Any = None, output_field: Any = None) -> None:
        super().__init__(output_field)
        for case in cases:
            if not isinstance(case, When):
                raise TypeError(f"Case() positional arguments must be When() objects, not {case!r}")
        self.cases: list[Expression] = list(cases)
        self.default: Expression = default if isinstance(default, Expression) else Value(default)

    def resolve(self, query: Query) -> Expression:
        cases = [c.resolve(query) for c in self.cases]
        default = self.default.resolve(query)
        field = self.output_field
        if field is None:
            for c in cases:
                if c.output_field is not None:
                    field = c.output_field
                    break
            else:
                field = default.output_field
        case = Case(output_field=field)
        case.cases = cases
        case.default = default
        return case

    def children(self) -> Iterator[Expression]:
        yield from self.cases
        yield self.default

    def key(self, kc: KeyContext) -> Any:
        return ("CASE", tuple(c.key(kc) for c in self.cases), self.default.key(kc))


# --------------------------------------------------------------------------
# subqueries
# --------------------------------------------------------------------------


class Subquery(Expression):
    """A queryset used as a scalar value or an ``IN`` source; may use :class:`OuterRef`."""

    __slots__ = ("queryset", "query")
    visit_name = "subquery"

    def __init__(self, queryset: Any, output_field: Any = None) -> None:
        super().__init__(output_field)
        self.queryset = queryset
        self.query: Query | None = None

    def resolve(self, query: Query) -> Expression:
        inner = _query_of(self.queryset).clone()
        inner.outer_query = query
        inner.alias_prefix = query.next_subquery_prefix()
        inner.rebuild_for_subquery()
        inner.resolve_outer_refs(query)
        resolved = type(self).__new__(type(self))
        resolved.queryset = self.queryset
        resolved.query = inner
        field = self.output_field
        if field is None:
            field = inner.single_output_field()
        resolved.output_field = field
        return resolved

    def key(self, kc: KeyContext) -> Any:
        assert self.query is not None
        return (self.visit_name, self.query.key(kc))


class Exists(Subquery):
    """``EXISTS (subquery)``, usable in ``filter()`` and ``annotate()``."""

    __slots__ = ()
    visit_name = "exists"

    def __init__(self, queryset: Any) -> None:
        super().__init__(queryset)

    def resolve(self, query: Query) -> Expression:
        resolved = super().resolve(query)
        assert resolved.query is not None  # type: ignore[attr-defined]
        resolved.query.make_exists()  # type: ignore[attr-defined]
        from dorm.fields import BooleanField

        resolved.output_field = BooleanField()
        return resolved


def _query_of(queryset: Any) -> Query:
    query = getattr(queryset, "query", None)
    if query is None:
        raise TypeError(f"Subquery() takes a QuerySet, not {queryset!r}")
    q: Query = query
    return q


class Star(Expression):
    """``*`` inside ``COUNT(*)``."""

    __slots__ = ()
    visit_name = "star"

    def key(self, kc: KeyContext) -> Any:
        return "*"
