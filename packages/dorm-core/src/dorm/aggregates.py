"""Aggregates: ``Count``, ``Sum``, ``Avg``, ``Min``, ``Max`` with ``distinct=`` and ``filter=``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dorm.exceptions import FieldError
from dorm.expressions import Expression, Q, Star
from dorm.fields.numeric import FloatField
from dorm.functions import Func

if TYPE_CHECKING:
    from dorm.sql.query import KeyContext, Query

__all__ = ["Aggregate", "Avg", "Count", "Max", "Min", "Sum"]


class Aggregate(Func):
    """``FUNCTION([DISTINCT] expr) [FILTER (WHERE ...)]``."""

    __slots__ = ("distinct", "filter")
    visit_name = "aggregate"
    contains_aggregate = True
    allow_distinct = True

    def __init__(
        self, expression: Any, *, distinct: bool = False, filter: Q | None = None, output_field: Any = None
    ) -> None:
        super().__init__(expression, output_field=output_field)
        if distinct and not self.allow_distinct:
            raise TypeError(f"{type(self).__name__} does not allow distinct.")
        if filter is not None and not isinstance(filter, Q):
            raise TypeError(f"{type(self).__name__}(filter=...) takes a Q object, not {filter!r}")
        self.distinct = distinct
        self.filter: Any = filter

    def resolve(self, query: Query) -> Expression:
        clone = super().resolve(query)
        assert isinstance(clone, Aggregate)
        for source in clone.source_expressions:
            if source.has_aggregate():
                raise FieldError(f"Cannot compute {type(self).__name__}() of an aggregate ({source!r}).")
        if self.filter is not None:
            clone.filter = query.build_where(self.filter)
        return clone

    def has_aggregate(self) -> bool:
        return True

    def key(self, kc: KeyContext) -> Any:
        args = tuple(e.key(kc) for e in self.source_expressions)
        filter_key = self.filter.key(kc) if self.filter is not None else None
        return ("AGG", self.function, self.distinct, args, filter_key)

    @property
    def default_alias(self) -> str:
        source = self.source_expressions[0]
        name = getattr(source, "name", None)
        if name is None:
            raise TypeError(f"{type(self).__name__}() over an expression needs an alias: aggregate(name=...)")
        return f"{name}__{self.function.lower()}"


class Count(Aggregate):
    __slots__ = ()
    function = "COUNT"

    def __init__(self, expression: Any = "*", *, distinct: bool = False, filter: Q | None = None) -> None:
        if expression == "*":
            expression = Star()
            if distinct:
                raise TypeError("Count('*', distinct=True) is not valid SQL; name a field.")
        super().__init__(expression, distinct=distinct, filter=filter)

    def infer_output_field(self) -> Any:
        from dorm.fields import IntegerField

        return IntegerField()


class Sum(Aggregate):
    __slots__ = ()
    function = "SUM"


class Avg(Aggregate):
    """The mean: a ``float``, or a ``Decimal`` over a ``DecimalField``."""

    __slots__ = ()
    function = "AVG"

    def infer_output_field(self) -> Any:
        from dorm.fields import DecimalField

        for source in self.source_expressions:
            if isinstance(source.output_field, DecimalField):
                return source.output_field
        return _FloatResult()


class Min(Aggregate):
    __slots__ = ()
    function = "MIN"


class Max(Aggregate):
    __slots__ = ()
    function = "MAX"


class _FloatResult(FloatField[Any]):
    """A ``FloatField`` whose values come back as ``float`` on every backend.

    ``AVG()`` of an integer column is ``numeric`` on PostgreSQL (psycopg gives
    a ``Decimal``) and a double on SQLite; the converter makes both a float.
    """

    def get_db_converter(self, wrapper: Any) -> Any:
        return _to_float


def _to_float(value: Any) -> Any:
    return value if value is None or type(value) is float else float(value)
