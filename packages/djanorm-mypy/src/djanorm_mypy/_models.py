"""What the plugin knows about one model: its fields, primary key and reverse relations.

Facts mypy's types do not carry (``primary_key=True``, ``related_name=...``,
string targets like ``"Author"``) are read from the class body while mypy
analyses it and stored in ``TypeInfo.metadata["djanorm"]``, which mypy keeps
in its incremental cache.  Everything here answers ``None`` ("unknown") when
unsure; callers then skip the check instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    ClassDef,
    MemberExpr,
    MypyFile,
    NameExpr,
    RefExpr,
    StrExpr,
    TypeInfo,
    Var,
)
from mypy.types import AnyType, Instance, NoneType, Type, TypeOfAny, UnionType, get_proper_type

MODEL: Final = "dorm.models.base.Model"
_SKIPPED_MODULES: Final = ("dorm.", "builtins", "typing", "mypy", "_typeshed", "_", "collections", "asyncio")
FIELD: Final = "dorm.fields.base.Field"
RELATED: Final = "dorm.fields.related.RelatedField"
FOREIGN_KEY: Final = "dorm.fields.related.ForeignKey"
MANY_TO_MANY: Final = "dorm.fields.related.ManyToManyField"
META_KEY: Final = "djanorm"
_RELATION_CALLEES: Final = ("ForeignKey", "OneToOneField", "ManyToManyField")
_DATE_FIELDS: Final = frozenset({"dorm.fields.temporal.DateField", "dorm.fields.temporal.DateTimeField"})
_TIME_FIELD: Final = "dorm.fields.temporal.TimeField"


@dataclass
class FieldInfo:
    """One field of a model as the plugin sees it."""

    name: str
    value_type: Type | None  # T of Field[T]; None when unknown (then nothing is checked)
    kind: str  # "plain", "fk" (ForeignKey/OneToOne), "m2m", "reverse", "unknown"
    field_info: TypeInfo | None = None  # the field class
    target: TypeInfo | None = None  # the related model for relations, when resolved
    nullable: bool = False

    def transforms(self) -> frozenset[str]:
        """Transforms the field class supports (``year``, ``date``...)."""
        if self.field_info is None:
            return frozenset()
        names = {base.fullname for base in self.field_info.mro}
        if names & _DATE_FIELDS:
            if "dorm.fields.temporal.DateTimeField" in names:
                return frozenset({"year", "month", "day", "hour", "minute", "date"})
            return frozenset({"year", "month", "day"})
        if _TIME_FIELD in names:
            return frozenset({"hour", "minute"})
        return frozenset()


@dataclass
class ModelInfo:
    """A model's fields by name (plus ``pk`` and attnames) and whether the list is complete."""

    info: TypeInfo
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    attnames: dict[str, FieldInfo] = field(default_factory=dict)
    pk: FieldInfo | None = None
    #: names that may be fields the plugin cannot type (plain annotations, unknown descriptors)
    opaque: set[str] = field(default_factory=set)
    complete: bool = True

    @property
    def name(self) -> str:
        return self.info.name


def is_model(info: TypeInfo) -> bool:
    return info.has_base(MODEL) and info.fullname != MODEL


def is_abstract(info: TypeInfo) -> bool:
    """An abstract model (``Meta.abstract = True``): a manager typed with it may serve any subclass."""
    return bool(info.metadata.get(META_KEY, {}).get("abstract", False))


# -- semantic analysis: record what the types do not say --------------------


def _const(expr: Any) -> Any:
    if isinstance(expr, StrExpr):
        return expr.value
    if isinstance(expr, NameExpr) and expr.name in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.name]
    return _NOT_CONST


_NOT_CONST: Final = object()
#: a reverse name the plugin cannot know (computed ``related_name``): every name is accepted
WILDCARD: Final = "*"


def _reverse_names(given: list[Any], source: str) -> set[str]:
    """The query names a relation declares on its target, from ``related_query_name``/``related_name``."""
    names: set[str] = set()
    for value in given:
        if value is _NOT_CONST or value == WILDCARD:
            return {WILDCARD}
        if isinstance(value, str):
            if "%(app_label)" in value:
                return {WILDCARD}
            expanded = value.replace("%(class)s", source.lower()).replace("%(model_name)s", source.lower())
            if not expanded.endswith("+"):
                names.add(expanded)
            return names  # the first given one wins (related_query_name before related_name)
    return {source.lower()}


def _callee_name(call: CallExpr) -> str:
    callee = call.callee
    if isinstance(callee, RefExpr) and callee.fullname:
        return callee.fullname
    if isinstance(callee, (NameExpr, MemberExpr)):
        return callee.name
    return ""


def _target_name(expr: Any) -> str | None:
    """``Author``, ``models.Author`` or ``"app.Author"`` -> ``"Author"`` (``"self"`` stays)."""
    if isinstance(expr, StrExpr):
        return expr.value.rpartition(".")[2]
    if isinstance(expr, (NameExpr, MemberExpr)):
        return expr.name
    return None


def record_class(defn: ClassDef) -> None:
    """Store the per-field facts of a model's body in ``defn.info.metadata``."""
    data: dict[str, Any] = {"fields": {}, "default_related_name": None}
    for stmt in defn.defs.body:
        if isinstance(stmt, ClassDef) and stmt.name == "Meta":
            for inner in stmt.defs.body:
                if isinstance(inner, AssignmentStmt) and len(inner.lvalues) == 1:
                    lv = inner.lvalues[0]
                    if isinstance(lv, NameExpr) and lv.name == "default_related_name":
                        value = _const(inner.rvalue)
                        if isinstance(value, str):
                            data["default_related_name"] = value
                    if isinstance(lv, NameExpr) and lv.name == "abstract":
                        data["abstract"] = _const(inner.rvalue) is not False
            continue
        if not (isinstance(stmt, AssignmentStmt) and len(stmt.lvalues) == 1 and isinstance(stmt.rvalue, CallExpr)):
            continue
        lv = stmt.lvalues[0]
        if not isinstance(lv, NameExpr):
            continue
        call = stmt.rvalue
        facts: dict[str, Any] = {}
        for name, arg in zip(call.arg_names, call.args, strict=False):
            if name in ("primary_key", "null", "related_name", "related_query_name", "to"):
                value = _const(arg)
                if name == "to":
                    value = _target_name(arg)
                elif name.startswith("related") and value is _NOT_CONST:
                    value = WILDCARD  # computed at runtime: any reverse name may exist
                if value is not _NOT_CONST and value is not None:
                    facts[name] = value
        callee = _callee_name(call).rpartition(".")[2]
        if callee in _RELATION_CALLEES and "to" not in facts and call.args and call.arg_names[0] is None:
            target = _target_name(call.args[0])
            if target is not None:
                facts["to"] = target
        if callee in _RELATION_CALLEES:
            facts["relation"] = callee
        data["fields"][lv.name] = facts
    defn.info.metadata[META_KEY] = data


# -- type checking: build ModelInfo ----------------------------------------


def _strip_none(typ: Type) -> tuple[Type, bool]:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        items = [i for i in proper.items if not isinstance(get_proper_type(i), NoneType)]
        if len(items) != len(proper.items):
            return (UnionType.make_union(items), True)
    return (typ, False)


class ModelIndex:
    """Builds :class:`ModelInfo` for a model TypeInfo, looking at every module mypy loaded."""

    def __init__(self, modules: dict[str, MypyFile]) -> None:
        self.modules = modules
        self._field_info: TypeInfo | None = None

    def field_base(self) -> TypeInfo | None:
        if self._field_info is None:
            module = self.modules.get("dorm.fields.base")
            node = module.names.get("Field") if module is not None else None
            if node is not None and isinstance(node.node, TypeInfo):
                self._field_info = node.node
        return self._field_info

    def models_named(self, name: str) -> list[TypeInfo]:
        found: list[TypeInfo] = []
        for module_name, module in self.modules.items():
            if module_name.startswith(_SKIPPED_MODULES):
                continue
            node = module.names.get(name)
            if node is not None and isinstance(node.node, TypeInfo) and is_model(node.node):
                found.append(node.node)
        return found

    def build(self, info: TypeInfo) -> ModelInfo:
        model = ModelInfo(info)
        base = self.field_base()
        if base is None:
            model.complete = False
            return model
        for klass in info.mro:
            if klass.fullname == MODEL or not klass.has_base(MODEL):
                if klass.fullname != "builtins.object" and not klass.has_base(MODEL) and klass.fullname != MODEL:
                    # a mixin: its attributes may be anything
                    model.opaque.update(n for n in klass.names if not n.startswith("__"))
                continue
            if klass.fallback_to_any:
                model.complete = False
            meta = klass.metadata.get(META_KEY, {}).get("fields", {})
            for name, node in klass.names.items():
                if name in model.fields or name.startswith("_") or name == "objects":
                    continue
                var = node.node
                if not isinstance(var, Var) or var.is_classvar:
                    continue
                typ = get_proper_type(var.type) if var.type is not None else None
                if isinstance(typ, Instance) and typ.type.has_base(FIELD):
                    model.fields[name] = self._field(name, typ, meta.get(name, {}), info, base)
                else:
                    model.opaque.add(name)
            for name, facts in meta.items():
                if facts.get("primary_key") is True and model.pk is None and name in model.fields:
                    model.pk = model.fields[name]
        if model.pk is None and "id" not in model.fields:
            model.pk = FieldInfo("id", self._int_type(), "plain", nullable=True)
            model.fields["id"] = model.pk
        elif model.pk is None:
            model.pk = model.fields["id"]
        for f in model.fields.values():
            if f.kind == "fk":
                model.attnames[f"{f.name}_id"] = f
        return model

    def _int_type(self) -> Type | None:
        module = self.modules.get("builtins")
        node = module.names.get("int") if module is not None else None
        if node is not None and isinstance(node.node, TypeInfo):
            return Instance(node.node, [])
        return None

    def _field(self, name: str, typ: Instance, facts: dict[str, Any], owner: TypeInfo, base: TypeInfo) -> FieldInfo:
        try:
            value: Type | None = map_instance_to_supertype(typ, base).args[0]
        except (IndexError, AssertionError):
            value = None
        if value is not None and isinstance(get_proper_type(value), AnyType):
            value = None
        stripped, nullable = _strip_none(value) if value is not None else (None, False)
        if typ.type.has_base(MANY_TO_MANY) or typ.type.has_base(RELATED):
            kind = "m2m" if typ.type.has_base(MANY_TO_MANY) else "fk"
            target = None
            proper = get_proper_type(stripped) if stripped is not None else None
            if isinstance(proper, Instance) and is_model(proper.type):
                target = proper.type
            elif isinstance(facts.get("to"), str):
                wanted = facts["to"]
                if wanted == "self":
                    target = owner
                else:
                    candidates = self.models_named(wanted)
                    target = candidates[0] if len(candidates) == 1 else None
            info = FieldInfo(name, Instance(target, []) if target is not None else None, kind, typ.type, target)
            info.nullable = nullable or facts.get("null") is True
            return info
        auto = typ.type.has_base("dorm.fields.numeric.AutoField")
        return FieldInfo(name, stripped, "plain", typ.type, nullable=nullable or auto)

    # -- reverse relations --------------------------------------------------

    def reverse_names(self, model: TypeInfo) -> dict[str, FieldInfo | bool]:
        """Reverse relations of ``model`` by query name: a FieldInfo when the source model is known, else ``True``."""
        found: dict[str, FieldInfo | bool] = {}
        for module_name, module in self.modules.items():
            if module.is_stub or module_name.startswith(_SKIPPED_MODULES):
                continue  # models live in .py files; stubs (typeshed...) hold none
            for node in list(module.names.values()):
                source = node.node
                if isinstance(source, TypeInfo) and is_model(source) and META_KEY in source.metadata:
                    for name in self._reverse_from_info(source, model):
                        found[name] = FieldInfo(name, Instance(source, []), "reverse", None, source, nullable=True)
            for stmt in module.defs:
                if isinstance(stmt, ClassDef):
                    for name in self._reverse_from_ast(stmt, model.name):
                        found.setdefault(name, True)
        return found

    def _reverse_from_info(self, source: TypeInfo, model: TypeInfo) -> set[str]:
        data = source.metadata[META_KEY]
        built: ModelInfo | None = None
        names: set[str] = set()
        for field_name, facts in data.get("fields", {}).items():
            if "relation" not in facts:
                continue
            if built is None:
                built = self.build(source)
            f = built.fields.get(field_name)
            if f is None:
                continue
            points_here = f.target is model or (
                f.target is None and facts.get("to") in (model.name, "self" if source is model else None)
            )
            if not points_here:
                continue
            names |= _reverse_names([facts.get("related_query_name"), facts.get("related_name")], source.name)
            default = data.get("default_related_name")
            if isinstance(default, str):
                names.add(default)
        return names

    @staticmethod
    def _reverse_from_ast(defn: ClassDef, target: str) -> set[str]:
        """Reverse names a (possibly not yet analysed) class body declares towards a model named ``target``."""
        names: set[str] = set()
        for stmt in defn.defs.body:
            if not (isinstance(stmt, AssignmentStmt) and isinstance(stmt.rvalue, CallExpr)):
                continue
            call = stmt.rvalue
            if _callee_name(call).rpartition(".")[2] not in _RELATION_CALLEES:
                continue
            points_to = None
            given: dict[str, Any] = {}
            for arg_name, arg in zip(call.arg_names, call.args, strict=False):
                if (arg_name is None and points_to is None) or arg_name == "to":
                    points_to = _target_name(arg)
                elif arg_name in ("related_name", "related_query_name"):
                    given[arg_name] = _const(arg)
            if points_to == "self":
                points_to = defn.name
            if points_to != target:
                continue
            names |= _reverse_names([given.get("related_query_name"), given.get("related_name")], defn.name)
        return names


def any_type() -> AnyType:
    return AnyType(TypeOfAny.special_form)
