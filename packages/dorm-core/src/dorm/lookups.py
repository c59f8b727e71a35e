"""Lookups (``name__icontains="x"``) and transforms (``created__year=2024``).

A lookup is a boolean expression node ``lhs <op> rhs``; its right-hand side
is a parameter (prepared by the left-hand field for the backend), or an
expression (``F``, ``Subquery``).  The SQL comes from the backend's
operations (``ops.lookup_sql`` and friends), never from here.

The built-in lookups register on :class:`dorm.fields.Field` through the same
``register_lookup`` path a plugin uses (:func:`register_defaults`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dorm.exceptions import FieldError
from dorm.expressions import Expression

if TYPE_CHECKING:
    from dorm.sql.query import KeyContext

__all__ = [
    "DEFAULT_LOOKUPS",
    "DEFAULT_TRANSFORMS",
    "Contains",
    "DateTransform",
    "EndsWith",
    "Exact",
    "Extract",
    "GreaterThan",
    "GreaterThanOrEqual",
    "IContains",
    "IEndsWith",
    "IExact",
    "IRegex",
    "IStartsWith",
    "In",
    "IsNull",
    "LessThan",
    "LessThanOrEqual",
    "Lookup",
    "Range",
    "Regex",
    "StartsWith",
    "Transform",
    "register_defaults",
]


class Lookup(Expression):
    """``lhs <lookup_name> rhs``.  Subclasses set ``lookup_name``."""

    __slots__ = ("lhs", "rhs")
    visit_name = "lookup"
    lookup_name: ClassVar[str] = ""

    def __init__(self, lhs: Expression, rhs: Any) -> None:
        super().__init__(None)
        self.lhs = lhs
        self.rhs = rhs

    def children(self) -> Iterator[Expression]:
        yield self.lhs
        if isinstance(self.rhs, Expression):
            yield self.rhs

    def check_rhs(self) -> None:
        """Validate the right-hand side when the lookup is built (before any SQL)."""

    def prep_value(self, value: Any, wrapper: Any) -> Any:
        field = self.lhs.output_field
        if value is None or field is None:
            return value
        prep = getattr(field, "get_db_prep_value", None)
        return value if prep is None else prep(value, wrapper)

    def rhs_params(self, wrapper: Any) -> list[Any]:
        return [self.param_for(self.rhs, wrapper)]

    def param_for(self, value: Any, wrapper: Any) -> Any:
        """The single driver parameter for ``value`` (the fast path reuses a cached lookup with new values)."""
        return self.prep_value(value, wrapper)

    def key(self, kc: KeyContext) -> Any:
        lhs_key = self.lhs.key(kc)
        rhs = self.rhs
        if isinstance(rhs, Expression):
            return (self.lookup_name, lhs_key, rhs.key(kc))
        params = self.rhs_params(kc.wrapper)
        kc.params.extend(params)
        return (self.lookup_name, lhs_key, len(params))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lhs!r}, {self.rhs!r})"


class Exact(Lookup):
    __slots__ = ()
    lookup_name = "exact"


class IExact(Lookup):
    __slots__ = ()
    lookup_name = "iexact"


class GreaterThan(Lookup):
    __slots__ = ()
    lookup_name = "gt"


class GreaterThanOrEqual(Lookup):
    __slots__ = ()
    lookup_name = "gte"


class LessThan(Lookup):
    __slots__ = ()
    lookup_name = "lt"


class LessThanOrEqual(Lookup):
    __slots__ = ()
    lookup_name = "lte"


class PatternLookup(Lookup):
    """LIKE lookups: the user's text is escaped so ``%`` and ``_`` match literally."""

    __slots__ = ()

    def check_rhs(self) -> None:
        if isinstance(self.rhs, Expression):
            raise FieldError(f"The {self.lookup_name!r} lookup takes a value, not an expression ({self.rhs!r}).")
        if self.rhs is None:
            raise FieldError(f"The {self.lookup_name!r} lookup cannot match None; use __isnull=True.")

    def param_for(self, value: Any, wrapper: Any) -> Any:
        return wrapper.ops.pattern_value(self.lookup_name, value)


class Contains(PatternLookup):
    __slots__ = ()
    lookup_name = "contains"


class IContains(PatternLookup):
    __slots__ = ()
    lookup_name = "icontains"


class StartsWith(PatternLookup):
    __slots__ = ()
    lookup_name = "startswith"


class IStartsWith(PatternLookup):
    __slots__ = ()
    lookup_name = "istartswith"


class EndsWith(PatternLookup):
    __slots__ = ()
    lookup_name = "endswith"


class IEndsWith(PatternLookup):
    __slots__ = ()
    lookup_name = "iendswith"


class Regex(Lookup):
    __slots__ = ()
    lookup_name = "regex"

    def check_rhs(self) -> None:
        if not isinstance(self.rhs, str):
            raise FieldError(f"The {self.lookup_name!r} lookup takes a pattern string, not {self.rhs!r}.")

    def param_for(self, value: Any, wrapper: Any) -> Any:
        return value


class IRegex(Regex):
    __slots__ = ()
    lookup_name = "iregex"


class In(Lookup):
    """``pk__in=[1, 2]`` (one parameter each) or ``author__in=Author.objects.filter(...)``."""

    __slots__ = ()
    lookup_name = "in"

    def check_rhs(self) -> None:
        rhs = self.rhs
        if isinstance(rhs, Expression):
            return
        if isinstance(rhs, (str, bytes)) or not hasattr(rhs, "__iter__"):
            raise FieldError(f"The 'in' lookup takes an iterable of values, not {rhs!r}.")
        values = [v for v in rhs if v is not None]
        self.rhs = values

    def rhs_params(self, wrapper: Any) -> list[Any]:
        return [self.prep_value(v, wrapper) for v in self.rhs]


class Range(Lookup):
    """``created__range=(start, end)``: ``BETWEEN`` inclusive."""

    __slots__ = ()
    lookup_name = "range"

    def check_rhs(self) -> None:
        rhs = self.rhs
        if not isinstance(rhs, (list, tuple)) or len(rhs) != 2:
            raise FieldError(f"The 'range' lookup takes a (start, end) pair, not {rhs!r}.")

    def rhs_params(self, wrapper: Any) -> list[Any]:
        return [self.prep_value(v, wrapper) for v in self.rhs]


class IsNull(Lookup):
    """``x__isnull=True`` -> ``IS NULL``; also what ``filter(x=None)`` builds."""

    __slots__ = ()
    lookup_name = "isnull"

    def check_rhs(self) -> None:
        if not isinstance(self.rhs, bool):
            raise FieldError(f"The 'isnull' lookup takes True or False, not {self.rhs!r}.")

    def key(self, kc: KeyContext) -> Any:
        return ("isnull", self.lhs.key(kc), self.rhs)


# --------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------


class Transform(Expression):
    """A function of one column usable in a lookup path (``created__year__gte=2020``)."""

    __slots__ = ("lhs",)
    lookup_name: ClassVar[str] = ""
    is_transform: ClassVar[bool] = True

    def __init__(self, lhs: Expression, output_field: Any = None) -> None:
        super().__init__(output_field)
        self.lhs = lhs

    def children(self) -> Iterator[Expression]:
        yield self.lhs

    def key(self, kc: KeyContext) -> Any:
        return (self.visit_name, self.lookup_name, self.lhs.key(kc))


class Extract(Transform):
    """``EXTRACT(<part> FROM lhs)`` as an integer (``year``, ``month``, ``day``...)."""

    __slots__ = ()
    visit_name = "extract"

    def __init__(self, lhs: Expression, output_field: Any = None) -> None:
        if output_field is None:
            from dorm.fields import IntegerField

            output_field = IntegerField()
        super().__init__(lhs, output_field)


class ExtractYear(Extract):
    __slots__ = ()
    lookup_name = "year"


class ExtractMonth(Extract):
    __slots__ = ()
    lookup_name = "month"


class ExtractDay(Extract):
    __slots__ = ()
    lookup_name = "day"


class ExtractHour(Extract):
    __slots__ = ()
    lookup_name = "hour"


class ExtractMinute(Extract):
    __slots__ = ()
    lookup_name = "minute"


class DateTransform(Transform):
    """``created__date=date(2024, 1, 1)``: the date part of a datetime."""

    __slots__ = ()
    visit_name = "date_cast"
    lookup_name = "date"

    def __init__(self, lhs: Expression, output_field: Any = None) -> None:
        if output_field is None:
            from dorm.fields import DateField

            output_field = DateField()
        super().__init__(lhs, output_field)


DEFAULT_LOOKUPS: dict[str, type[Lookup]] = {
    cls.lookup_name: cls
    for cls in (
        Exact,
        IExact,
        GreaterThan,
        GreaterThanOrEqual,
        LessThan,
        LessThanOrEqual,
        Contains,
        IContains,
        StartsWith,
        IStartsWith,
        EndsWith,
        IEndsWith,
        Regex,
        IRegex,
        In,
        Range,
        IsNull,
    )
}

DEFAULT_TRANSFORMS: dict[str, type[Transform]] = {
    cls.lookup_name: cls for cls in (ExtractYear, ExtractMonth, ExtractDay, ExtractHour, ExtractMinute, DateTransform)
}

_DATE_TYPES = frozenset({"DateField", "DateTimeField"})
_REGISTERED = False
_JSON_REGISTERED = False


def _register_json() -> None:
    """The JSON lookups register on ``JSONField`` on first use (``fields`` imports late)."""
    global _JSON_REGISTERED
    _JSON_REGISTERED = True
    from dorm.lookups_json import register_json_lookups

    register_json_lookups()


def register_defaults() -> None:
    """Register the built-in lookups on ``dorm.fields.Field`` (once).

    Transforms register on the date/time field classes only.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    try:
        from dorm import fields
    except ImportError:  # pragma: no cover - fields not importable yet
        return
    base = getattr(fields, "Field", None)
    register = getattr(base, "register_lookup", None)
    if register is None:
        return
    for lookup in DEFAULT_LOOKUPS.values():
        register(lookup)
    for name in ("DateField", "DateTimeField"):
        cls = getattr(fields, name, None)
        if cls is not None:
            for transform in DEFAULT_TRANSFORMS.values():
                if transform.lookup_name in ("hour", "minute") and name == "DateField":
                    continue
                cls.register_lookup(transform)
    time_cls = getattr(fields, "TimeField", None)
    if time_cls is not None:
        time_cls.register_lookup(ExtractHour)
        time_cls.register_lookup(ExtractMinute)
    if not _JSON_REGISTERED:
        _register_json()


def find_lookup(field: Any, name: str) -> type[Lookup] | None:
    """The lookup class ``name`` on ``field`` (registered ones first, then the defaults)."""
    if not _JSON_REGISTERED:
        _register_json()
    get = getattr(field, "get_lookup", None)
    if get is not None:
        found = get(name)
        if isinstance(found, type) and issubclass(found, Lookup):
            return found
    return DEFAULT_LOOKUPS.get(name)


def find_transform(field: Any, name: str) -> Callable[[Expression], Transform] | None:
    """The transform ``name`` on ``field``, called with the left-hand side to apply it.

    ``year``/``month``/``day``/``date`` on date fields; on a JSON field any other
    name is a key (``data__owner``).
    """
    get = getattr(field, "get_transform", None)
    if get is not None:
        found = get(name)
        if isinstance(found, type) and issubclass(found, Transform):
            return found
    internal = field.get_internal_type() if hasattr(field, "get_internal_type") else ""
    if internal == "JSONField":
        from dorm.lookups_json import key_transform_factory

        return key_transform_factory(name)
    if internal in _DATE_TYPES or internal == "TimeField":
        cls = DEFAULT_TRANSFORMS.get(name)
        if cls is not None and (internal != "DateField" or name not in ("hour", "minute")):
            if internal == "TimeField" and name not in ("hour", "minute"):
                return None
            return cls
    return None
