"""Checking one keyword (``publisher__name__icontains="x"``) against a model.

Each check reports at most one error and returns; anything it cannot resolve
with certainty (an untyped field, a reverse relation whose model mypy did not
see, a custom lookup on an opaque field) is accepted silently.
"""

from __future__ import annotations

import difflib
from typing import Final

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.messages import format_type
from mypy.nodes import Context, Expression, ListExpr, SetExpr, TupleExpr, TypeInfo
from mypy.options import Options
from mypy.plugin import CheckerPluginInterface
from mypy.subtypes import is_subtype
from mypy.types import AnyType, Instance, NoneType, Type, UnionType, get_proper_type

from djanorm_mypy._models import WILDCARD, FieldInfo, ModelIndex, ModelInfo

DJANORM_FIELD: Final = ErrorCode("djanorm-field", "Unknown model field or lookup in a djanorm query", "djanorm")
DJANORM_VALUE: Final = ErrorCode("djanorm-value", "Wrong value type for a djanorm field or lookup", "djanorm")

LOOKUPS: Final = frozenset(
    {
        "exact", "iexact", "gt", "gte", "lt", "lte", "contains", "icontains", "startswith", "istartswith",
        "endswith", "iendswith", "regex", "iregex", "in", "range", "isnull",
    }
)  # fmt: skip
_PATTERN: Final = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"})
_TEXT_ONLY: Final = frozenset({"iexact", "regex", "iregex"})
_LENIENT_FULLNAMES: Final = (  # values the runtime coerces from str (dates, uuids, decimals...)
    "datetime.",
    "uuid.UUID",
    "decimal.Decimal",
)


def suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{close[0]}"?)'
    if choices:
        return f"; valid names: {', '.join(sorted(choices))}"
    return ""


class Checker:
    """Checks keywords for one call; ``mode`` is ``"lookup"`` (filter...), ``"init"`` (create...) or ``"update"``."""

    def __init__(
        self, index: ModelIndex, api: CheckerPluginInterface, context: Context, annotations: set[str] | None = None
    ) -> None:
        self.index = index
        #: names annotate()/alias() added to the queryset (accepted as they are, WILDCARD: any name)
        self.annotations = annotations or set()
        self.api = api
        self.context = context
        self._models: dict[str, ModelInfo] = {}

    def model(self, info: TypeInfo) -> ModelInfo:
        built = self._models.get(info.fullname)
        if built is None:
            built = self.index.build(info)
            self._models[info.fullname] = built
        return built

    def fail(self, message: str, code: ErrorCode) -> None:
        self.api.fail(message, self.context, code=code)

    def named(self, typ: str) -> Type | None:
        if isinstance(self.api, TypeChecker):
            try:
                return self.api.named_type(typ)
            except (KeyError, AssertionError):
                return None
        return None

    # -- keyword names ----------------------------------------------------

    def _field(self, model: ModelInfo, name: str, allow_reverse: bool) -> FieldInfo | None | bool:
        """The field ``name`` of ``model``; ``True`` when accepted but unknown; ``None`` after reporting an error."""
        if name == "pk" and model.pk is not None:
            return model.pk
        found = model.fields.get(name) or model.attnames.get(name)
        if found is not None:
            if name in model.attnames and found.kind == "fk":
                return FieldInfo(name, self._pk_type(found), "plain")
            return found
        if name in model.opaque or not model.complete:
            return True
        if allow_reverse and (name in self.annotations or WILDCARD in self.annotations):
            return True
        reverse = self.index.reverse_names(model.info) if allow_reverse else {}
        if name in reverse:
            return reverse[name]
        if WILDCARD in reverse:
            return True
        choices = [*model.fields, "pk", *reverse]
        self.fail(f'"{model.name}" has no field "{name}"{suggest(name, choices)}', DJANORM_FIELD)
        return None

    def _pk_type(self, relation: FieldInfo) -> Type | None:
        if relation.target is None:
            return None
        pk = self.model(relation.target).pk
        return pk.value_type if pk is not None else None

    def check_lookup(self, model: ModelInfo, keyword: str, value: Type | None, expr: Expression | None = None) -> None:
        root = model.name
        parts = keyword.split("__")
        current: FieldInfo | None = None
        for index, part in enumerate(parts):
            rest = parts[index + 1 :]
            if current is None:
                found = self._field(model, part, allow_reverse=True)
                if found is None or found is True or isinstance(found, bool):
                    return
                current = found
                continue
            if current.kind in ("fk", "m2m", "reverse") and part not in LOOKUPS:
                if current.target is None:
                    return
                model = self.model(current.target)
                found = self._field(model, part, allow_reverse=True)
                if found is None or isinstance(found, bool):
                    return
                current = found
                continue
            if part in current.transforms():
                current = FieldInfo(f"{current.name}__{part}", self._transform_type(part), "plain", None)
                continue
            if part in LOOKUPS and not rest:
                self._check_value(root, keyword, current, part, value, expr=expr)
                return
            if current.field_info is not None and not current.field_info.fullname.startswith("dorm."):
                return  # a third-party field class may register its own lookups
            if current.value_type is None and current.kind == "plain" and current.field_info is not None:
                return  # JSONField and other untyped fields take key paths
            valid = sorted(LOOKUPS | current.transforms())
            self.fail(
                f'Unsupported lookup "{part}" for "{model.name}.{current.name}"{suggest(part, valid)}', DJANORM_FIELD
            )
            return
        if current is not None:
            self._check_value(root, keyword, current, "exact", value)

    def _transform_type(self, part: str) -> Type | None:
        return self.named("datetime.date") if part == "date" else self.named("builtins.int")

    def check_assign(self, model: ModelInfo, keyword: str, value: Type | None, update: bool) -> None:
        """``create(name=...)``, ``Author(name=...)``, ``update(name=...)``: a field (or attname), no lookups."""
        found = self._field(model, keyword, allow_reverse=False)
        if found is None or isinstance(found, bool):
            return
        if found.kind == "m2m":
            return  # refused at runtime with its own message; not a typing question
        self._check_value(model.name, keyword, found, "assign", value)

    # -- values ----------------------------------------------------------

    def _check_value(
        self, model: str, keyword: str, f: FieldInfo, lookup: str, value: Type | None, expr: Expression | None = None
    ) -> None:
        if value is None or self._opaque_value(value):
            return
        bool_t = self.named("builtins.bool")
        if lookup == "isnull":
            expected = bool_t
        elif f.value_type is None and f.kind == "plain":
            return
        else:
            base = self._base_expected(f)
            if base is None:
                return
            if lookup in ("in", "range") and isinstance(expr, (ListExpr, TupleExpr, SetExpr)):
                # a literal's type was inferred against ``Any`` (list[Any]): check its items instead
                for item in expr.items:
                    item_type = self.type_of(item)
                    if item_type is not None:
                        self._check_value(model, keyword, f, "item", item_type)
                return
            if lookup in ("in", "range"):
                iterable = self._iterable_of(base)
                if iterable is None:
                    return
                expected = iterable
            elif lookup in _PATTERN or lookup in _TEXT_ONLY:
                str_t = self.named("builtins.str")
                if str_t is None or not is_subtype(base, str_t):
                    return  # patterns on non-text fields: the backend decides
                expected = str_t
            elif lookup == "exact" or (lookup == "assign" and f.nullable):
                expected = UnionType.make_union([base, NoneType()])
            else:
                expected = base
        if expected is None or is_subtype(value, expected) or self._lenient(value, expected):
            return
        if self._parent_model(value, f):
            return
        self.fail(
            f'Incompatible type for "{keyword}" of "{model}" (got {format_type(value, self._options())}, '
            f"expected {format_type(expected, self._options())})",
            DJANORM_VALUE,
        )

    def type_of(self, expr: Expression) -> Type | None:
        if isinstance(self.api, TypeChecker):
            return self.api.lookup_type_or_none(expr)
        return None

    def _options(self) -> Options:
        return self.api.options

    def _base_expected(self, f: FieldInfo) -> Type | None:
        if f.kind in ("fk", "m2m", "reverse"):
            if f.target is None:
                return None
            instance = Instance(f.target, [])
            if f.kind == "reverse":
                return instance
            pk = self._pk_type(f)
            return UnionType.make_union([instance, pk]) if pk is not None else None
        return f.value_type

    def _iterable_of(self, item: Type) -> Type | None:
        if not isinstance(self.api, TypeChecker):
            return None
        try:
            return self.api.named_generic_type("typing.Iterable", [item])
        except (KeyError, AssertionError):
            return None

    @staticmethod
    def _parent_model(value: Type, f: FieldInfo) -> bool:
        """A value typed with a parent of the related model (an abstract base's manager returns it): may fit."""
        if f.target is None:
            return False
        proper = get_proper_type(value)
        items = proper.items if isinstance(proper, UnionType) else [proper]
        for item in items:
            item = get_proper_type(item)
            if isinstance(item, NoneType):
                continue
            if not (isinstance(item, Instance) and f.target.has_base(item.type.fullname)):
                return False
        return True

    @staticmethod
    def _opaque_value(value: Type) -> bool:
        """Any, expressions (``F``, ``Q``, subqueries) and querysets: the runtime resolves them."""
        proper = get_proper_type(value)
        if isinstance(proper, AnyType):
            return True
        items = proper.items if isinstance(proper, UnionType) else [proper]
        for item in items:
            item = get_proper_type(item)
            if isinstance(item, AnyType):
                return True
            if isinstance(item, Instance) and any(
                b.fullname.startswith(
                    ("dorm.expressions.", "dorm.models.query.", "dorm.aggregates.", "dorm.functions.")
                )
                for b in item.type.mro
            ):
                return True
        return False

    @staticmethod
    def _lenient(value: Type, expected: Type) -> bool:
        """Strings for dates/times/uuids/decimals and numbers for decimals: the runtime coerces them."""
        names: set[str] = set()
        proper = get_proper_type(expected)
        for item in proper.items if isinstance(proper, UnionType) else [proper]:
            item = get_proper_type(item)
            if isinstance(item, Instance):
                names.add(item.type.fullname)
                if item.type.fullname == "typing.Iterable" and item.args:
                    inner = get_proper_type(item.args[0])
                    if isinstance(inner, Instance):
                        names.add(inner.type.fullname)
        if not any(n.startswith(_LENIENT_FULLNAMES) for n in names):
            return False
        got = get_proper_type(value)
        got_items = got.items if isinstance(got, UnionType) else [got]
        allowed = ("builtins.str", "builtins.int", "builtins.float", "datetime.", "decimal.Decimal", "uuid.UUID")
        for item in got_items:
            item = get_proper_type(item)
            if isinstance(item, NoneType):
                continue
            if isinstance(item, Instance):
                if item.type.fullname.startswith(allowed):
                    continue
                if item.type.has_base("typing.Iterable") and item.args:
                    inner = get_proper_type(item.args[0])
                    if isinstance(inner, Instance) and inner.type.fullname.startswith(allowed):
                        continue
            return False
        return True
