"""SQL functions: ``Coalesce``, ``Lower``, ``Upper``, ``Length``, ``Concat``, ``Now``, ``Cast``.

``Func`` is the base of these and of the aggregates: a function name and
argument expressions (strings are field names, i.e. ``F("name")``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dorm.expressions import Expression, F, Value

if TYPE_CHECKING:
    from dorm.sql.query import KeyContext, Query

__all__ = ["Cast", "Coalesce", "Concat", "Func", "Length", "Lower", "Now", "Upper"]


def _as_expression(arg: Any) -> Expression:
    if isinstance(arg, Expression):
        return arg
    if isinstance(arg, str):
        return F(arg)
    return Value(arg)


class Func(Expression):
    """``FUNCTION(arg, ...)``; subclasses set ``function`` (and maybe ``visit_name``)."""

    __slots__ = ("source_expressions",)
    visit_name = "func"
    function: ClassVar[str] = ""
    arity: ClassVar[int | None] = None

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        super().__init__(output_field)
        if self.arity is not None and len(expressions) != self.arity:
            raise TypeError(f"{type(self).__name__}() takes {self.arity} argument(s), got {len(expressions)}")
        self.source_expressions: list[Expression] = [_as_expression(e) for e in expressions]

    def _copy(self) -> Func:
        clone = type(self).__new__(type(self))
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(self, slot):
                    object.__setattr__(clone, slot, getattr(self, slot))
        return clone

    def resolve(self, query: Query) -> Expression:
        clone = self._copy()
        clone.source_expressions = [e.resolve(query) for e in self.source_expressions]
        if clone.output_field is None:
            clone.output_field = clone.infer_output_field()
        return clone

    def infer_output_field(self) -> Any:
        for e in self.source_expressions:
            if e.output_field is not None:
                return e.output_field
        return None

    def children(self) -> Iterator[Expression]:
        yield from self.source_expressions

    def key(self, kc: KeyContext) -> Any:
        return (self.visit_name, type(self).__name__, tuple(e.key(kc) for e in self.source_expressions))

    def __repr__(self) -> str:
        args = ", ".join(repr(e) for e in self.source_expressions)
        return f"{type(self).__name__}({args})"


class Coalesce(Func):
    """The first non-NULL argument."""

    __slots__ = ()
    function = "COALESCE"

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Coalesce() needs at least two expressions")
        super().__init__(*expressions, output_field=output_field)


class Lower(Func):
    __slots__ = ()
    function = "LOWER"
    arity = 1


class Upper(Func):
    __slots__ = ()
    function = "UPPER"
    arity = 1


class Length(Func):
    """The length of a string in characters."""

    __slots__ = ()
    visit_name = "length"
    arity = 1

    def infer_output_field(self) -> Any:
        from dorm.fields import IntegerField

        return IntegerField()


class Concat(Func):
    """String concatenation; NULL parts count as ''."""

    __slots__ = ()
    visit_name = "concat"

    def __init__(self, *expressions: Any, output_field: Any = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Concat() needs at least two expressions")
        super().__init__(*expressions, output_field=output_field)

    def infer_output_field(self) -> Any:
        from dorm.fields import TextField

        return TextField()


class Now(Func):
    """The database's current timestamp."""

    __slots__ = ()
    visit_name = "now"
    arity = 0

    def infer_output_field(self) -> Any:
        from dorm.fields import DateTimeField

        return DateTimeField()


class Cast(Func):
    """``CAST(expr AS <type of output_field>)``."""

    __slots__ = ()
    visit_name = "cast"

    def __init__(self, expression: Any, output_field: Any) -> None:
        super().__init__(expression, output_field=output_field)

    def key(self, kc: KeyContext) -> Any:
        # the target type is part of the SQL, so part of the shape
        return ("cast", self.output_field.db_type(kc.wrapper), tuple(e.key(kc) for e in self.source_expressions))
