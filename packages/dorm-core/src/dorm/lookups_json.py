"""JSONField key transforms (``data__owner__name="x"``) and JSON lookups.

``data__owner`` is a :class:`KeyTransform`: the value at that key path.  A
chain of key transforms is compiled as one path, passed to the database as
a parameter (``ops.json_path_param``): user text is never formatted into SQL.

* ``exact``/``gt``/``gte``/``lt``/``lte``/``in``/``range`` on a key compare
  JSON-typed values (``"1"`` is not ``1``; ``data__k=None`` is JSON null).
* ``iexact``, the LIKE lookups and ``regex`` compare the value as text.
* ``isnull=True`` on a key means the key is missing.
* ``has_key``/``has_keys``/``has_any_keys`` test key presence; ``contains``
  and ``contained_by`` are JSON containment (backends with
  ``features.supports_json_field_contains`` only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dorm.exceptions import FieldError
from dorm.expressions import Expression
from dorm.lookups import (
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IRegex,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
    Lookup,
    Range,
    Regex,
    StartsWith,
    Transform,
)

if TYPE_CHECKING:
    from dorm.sql.query import KeyContext

__all__ = [
    "ContainedBy",
    "DataContains",
    "HasAnyKeys",
    "HasKey",
    "HasKeys",
    "KeyTransform",
    "key_transform_factory",
    "register_json_lookups",
]


class KeyTransform(Transform):
    """The value at ``key_name`` inside its left-hand side (a JSON column or another key)."""

    __slots__ = ("key_name",)
    visit_name = "json_key"
    lookup_name = "key"

    def __init__(self, key_name: str, lhs: Expression) -> None:
        from dorm.fields.misc import JSONField, KeyTransformField

        base = lhs.output_field
        encoder = base.encoder if isinstance(base, JSONField) else None
        super().__init__(lhs, KeyTransformField(encoder=encoder))
        self.key_name = key_name

    def path(self) -> tuple[Expression, tuple[str, ...]]:
        """(the JSON expression under the chain, the key path from it)."""
        keys: list[str] = []
        node: Expression = self
        while isinstance(node, KeyTransform):
            keys.append(node.key_name)
            node = node.lhs
        keys.reverse()
        return node, tuple(keys)

    def key(self, kc: KeyContext) -> Any:
        base, keys = self.path()
        base_key = base.key(kc)
        kc.params.append(kc.wrapper.ops.json_path_param(keys))
        return ("json_key", base_key)

    def __repr__(self) -> str:
        return f"KeyTransform({self.key_name!r}, {self.lhs!r})"


def key_transform_factory(key_name: str) -> Callable[[Expression], KeyTransform]:
    """What ``find_transform`` returns for an unknown name on a JSON field: a key transform."""

    def make(lhs: Expression) -> KeyTransform:
        return KeyTransform(key_name, lhs)

    return make


# -- lookups on a key's value --------------------------------------------------


class _KeyLookup(Lookup):
    """Shared checks: a key lookup takes a plain value."""

    __slots__ = ()
    visit_name = "json_key_lookup"

    def check_rhs(self) -> None:
        if isinstance(self.rhs, Expression):
            raise FieldError(
                f"The {self.lookup_name!r} lookup on a JSON key takes a value, not an expression ({self.rhs!r})."
            )
        super().check_rhs()

    def prep_value(self, value: Any, wrapper: Any) -> Any:
        # JSON-encoded, None included (JSON null)
        return self.lhs.output_field.get_db_prep_value(value, wrapper)


class KeyExact(_KeyLookup, Exact):
    """``data__k=v``: equal JSON values; ``data__k=None`` is "the value is JSON null"."""

    __slots__ = ()

    def rhs_params(self, wrapper: Any) -> list[Any]:
        return [] if self.rhs is None else super().rhs_params(wrapper)

    def key(self, kc: KeyContext) -> Any:
        if self.rhs is None:
            return ("exact_json_null", self.lhs.key(kc))
        if isinstance(self.rhs, bool):  # its own SQL where booleans read back as 0/1 (SQLite)
            return ("exact_json_bool", super().key(kc))
        return super().key(kc)


class KeyGreaterThan(_KeyLookup, GreaterThan):
    __slots__ = ()


class KeyGreaterThanOrEqual(_KeyLookup, GreaterThanOrEqual):
    __slots__ = ()


class KeyLessThan(_KeyLookup, LessThan):
    __slots__ = ()


class KeyLessThanOrEqual(_KeyLookup, LessThanOrEqual):
    __slots__ = ()


class KeyIn(_KeyLookup, In):
    __slots__ = ()

    def check_rhs(self) -> None:
        rhs = self.rhs
        if isinstance(rhs, Expression) or isinstance(rhs, (str, bytes)) or not hasattr(rhs, "__iter__"):
            raise FieldError(f"The 'in' lookup on a JSON key takes a list of values, not {rhs!r}.")
        self.rhs = list(rhs)  # None stays: it means JSON null here


class KeyRange(_KeyLookup, Range):
    __slots__ = ()


class KeyIsNull(_KeyLookup, IsNull):
    """``data__k__isnull=True``: the key is missing (a JSON null value is present)."""

    __slots__ = ()


class KeyIExact(_KeyLookup, IExact):
    __slots__ = ()

    def check_rhs(self) -> None:
        super().check_rhs()
        if self.rhs is None:
            raise FieldError("The 'iexact' lookup on a JSON key cannot match None; use exact (JSON null).")

    def param_for(self, value: Any, wrapper: Any) -> Any:
        return value if isinstance(value, str) else str(value)


class KeyIContains(_KeyLookup, IContains):
    __slots__ = ()


class KeyStartsWith(_KeyLookup, StartsWith):
    __slots__ = ()


class KeyIStartsWith(_KeyLookup, IStartsWith):
    __slots__ = ()


class KeyEndsWith(_KeyLookup, EndsWith):
    __slots__ = ()


class KeyIEndsWith(_KeyLookup, IEndsWith):
    __slots__ = ()


class KeyRegex(_KeyLookup, Regex):
    __slots__ = ()


class KeyIRegex(_KeyLookup, IRegex):
    __slots__ = ()


#: key lookups that compare the value as text (the rest compare JSON values)
TEXT_KEY_LOOKUPS = frozenset(
    {"iexact", "icontains", "startswith", "istartswith", "endswith", "iendswith", "regex", "iregex"}
)


# -- lookups on a JSON document ------------------------------------------------


class _JSONLookup(Lookup):
    __slots__ = ()
    visit_name = "json_lookup"


class HasKey(_JSONLookup):
    """``data__has_key="owner"``: the top-level key exists (its value may be null)."""

    __slots__ = ()
    lookup_name = "has_key"

    def check_rhs(self) -> None:
        if not isinstance(self.rhs, (str, int)) or isinstance(self.rhs, bool):
            raise FieldError(f"The 'has_key' lookup takes a key name, not {self.rhs!r}.")
        self.rhs = [str(self.rhs)]

    def rhs_params(self, wrapper: Any) -> list[Any]:
        return [wrapper.ops.json_key_param(k) for k in self.rhs]


class HasKeys(HasKey):
    """``data__has_keys=["a", "b"]``: every key exists."""

    __slots__ = ()
    lookup_name = "has_keys"

    def check_rhs(self) -> None:
        rhs = self.rhs
        if isinstance(rhs, (str, bytes)) or not hasattr(rhs, "__iter__"):
            raise FieldError(f"The {self.lookup_name!r} lookup takes a list of key names, not {rhs!r}.")
        keys = list(rhs)
        if not keys or not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
            raise FieldError(f"The {self.lookup_name!r} lookup takes a non-empty list of key names, not {rhs!r}.")
        self.rhs = [str(k) for k in keys]


class HasAnyKeys(HasKeys):
    """``data__has_any_keys=["a", "b"]``: at least one key exists."""

    __slots__ = ()
    lookup_name = "has_any_keys"


class DataContains(_JSONLookup):
    """``data__contains={"a": 1}``: JSON containment (PostgreSQL ``@>``)."""

    __slots__ = ()
    lookup_name = "contains"

    def check_rhs(self) -> None:
        if isinstance(self.rhs, Expression):
            raise FieldError(f"The {self.lookup_name!r} lookup on a JSONField takes a value, not {self.rhs!r}.")

    def prep_value(self, value: Any, wrapper: Any) -> Any:
        import json

        field = self.lhs.output_field
        return json.dumps(value, cls=getattr(field, "encoder", None))


class ContainedBy(DataContains):
    """``data__contained_by={...}``: the document is contained in the value (PostgreSQL ``<@``)."""

    __slots__ = ()
    lookup_name = "contained_by"


KEY_LOOKUPS: tuple[type[Lookup], ...] = (
    KeyExact,
    KeyIExact,
    KeyGreaterThan,
    KeyGreaterThanOrEqual,
    KeyLessThan,
    KeyLessThanOrEqual,
    KeyIn,
    KeyRange,
    KeyIsNull,
    KeyIContains,
    KeyStartsWith,
    KeyIStartsWith,
    KeyEndsWith,
    KeyIEndsWith,
    KeyRegex,
    KeyIRegex,
)

JSON_LOOKUPS: tuple[type[Lookup], ...] = (HasKey, HasKeys, HasAnyKeys, DataContains, ContainedBy)


def register_json_lookups() -> None:
    """Register the JSON lookups on ``JSONField`` and the key lookups on ``KeyTransformField``."""
    from dorm.fields.misc import JSONField, KeyTransformField

    for lookup in JSON_LOOKUPS:
        JSONField.register_lookup(lookup)
    for lookup in KEY_LOOKUPS:
        KeyTransformField.register_lookup(lookup)
