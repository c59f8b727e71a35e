"""mypy plugin for djanorm: ``plugins = ["djanorm_mypy"]`` in your mypy config.

Without it mypy sees ``filter(**kwargs: Any)`` and has nothing to check.  With
it, the keywords of ``filter``/``exclude``/``get``/``get_or_none``/``create``/
``update``/``get_or_create``/``update_or_create`` (and their ``a*`` twins, on
managers and querysets) and of model constructors are checked against the
model: field names (with a "did you mean" suggestion), lookups, relation paths
and value types.  Anything the plugin cannot resolve is accepted: it never
reports what it is not sure of, and never stops mypy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    AwaitExpr,
    CallExpr,
    Context,
    DictExpr,
    Expression,
    MemberExpr,
    OpExpr,
    RefExpr,
    StrExpr,
    TypeInfo,
    UnaryExpr,
)
from mypy.plugin import ClassDefContext, FunctionContext, MethodContext, Plugin
from mypy.types import AnyType, ExtraAttrs, Instance, Type, TypeOfAny, get_proper_type

from djanorm_mypy._checks import DJANORM_FIELD, DJANORM_VALUE, Checker
from djanorm_mypy._models import MODEL, WILDCARD, ModelIndex, ModelInfo, is_abstract, is_model, record_class

__all__ = ["DJANORM_FIELD", "DJANORM_VALUE", "DjanormPlugin", "plugin"]

_LOOKUP_METHODS: Final = frozenset({"filter", "exclude", "get", "get_or_none", "afilter", "aget", "aget_or_none"})
_LOOKUP_WITH_DEFAULTS: Final = frozenset({"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"})
_CREATE_METHODS: Final = frozenset({"create", "acreate"})
_UPDATE_METHODS: Final = frozenset({"update", "aupdate"})
_ANNOTATING: Final = frozenset({"annotate", "alias"})
#: queryset-returning methods that keep the names annotate()/alias() added
_CHAINING: Final = frozenset(
    {
        "all", "filter", "exclude", "afilter", "order_by", "distinct", "reverse", "select_related",
        "prefetch_related", "annotate", "alias", "using", "none", "only", "defer", "limit", "select_for_update",
        "union",
    }
)  # fmt: skip
_ALL_METHODS: Final = _LOOKUP_METHODS | _LOOKUP_WITH_DEFAULTS | _CREATE_METHODS | _UPDATE_METHODS
_HOOKED: Final = _ALL_METHODS | _CHAINING
#: key prefix of the annotation names carried on a queryset type (not a valid attribute name on purpose)
_ANNOTATION_KEY: Final = "djanorm:"
_QUERYSET_BASES: Final = ("dorm.models.query.QuerySet", "dorm.models.manager.BaseManager")


class DjanormPlugin(Plugin):
    """The djanorm mypy plugin (see the module docstring for what it checks)."""

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        node = self.lookup_fully_qualified(fullname)
        if node is not None and isinstance(node.node, TypeInfo) and (fullname == MODEL or is_model(node.node)):
            return _record
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname.rpartition(".")[2] in _HOOKED:
            return self._check_method
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        node = self.lookup_fully_qualified(fullname)
        if node is not None and isinstance(node.node, TypeInfo) and is_model(node.node):
            return self._check_constructor
        return None

    # -- hooks -------------------------------------------------------------

    def _index(self) -> ModelIndex:
        return ModelIndex(self._modules or {})

    def _check_method(self, ctx: MethodContext) -> Type:
        try:
            return self._check_method_unsafe(ctx)
        except Exception:  # noqa: BLE001 - never crash mypy on code we did not foresee
            return ctx.default_return_type

    def _check_method_unsafe(self, ctx: MethodContext) -> Type:
        model_info = _model_of(ctx.type)
        method = _method_name(ctx)
        if model_info is None or method is None:
            return ctx.default_return_type
        root = _root_model(ctx.context)
        if root is not None and root.has_base(model_info.fullname):
            model_info = root  # Invoice.objects where the manager is typed with an abstract parent
        elif is_abstract(model_info):
            return ctx.default_return_type  # which concrete model this queryset serves is not known here
        annotations = _annotations(ctx.type)
        if method in _CHAINING:
            returned = _carry_annotations(ctx, method, annotations)
            if method not in _ALL_METHODS:
                return returned
        else:
            returned = ctx.default_return_type
        checker = Checker(self._index(), ctx.api, ctx.context, annotations)
        model = checker.model(model_info)
        formals = ctx.callee_arg_names
        for index, (names, kinds, types, args) in enumerate(
            zip(ctx.arg_names, ctx.arg_kinds, ctx.arg_types, ctx.args, strict=False)
        ):
            for name, kind, typ, arg in zip(names, kinds, types, args, strict=False):
                if kind == ARG_POS and method in _LOOKUP_METHODS:
                    _check_q(checker, model, arg)
                if kind != ARG_NAMED or name is None:
                    continue
                if name == "defaults" and method in _LOOKUP_WITH_DEFAULTS:
                    if isinstance(arg, DictExpr) and not _own_init(model_info):
                        for key, value in arg.items:
                            if isinstance(key, StrExpr):
                                checker.check_assign(model, key.value, checker.type_of(value), update=False)
                    continue
                if index < len(formals) and formals[index] == name:
                    continue  # a parameter the method declares (a custom manager's), not a **kwargs field
                if method in _LOOKUP_METHODS or method in _LOOKUP_WITH_DEFAULTS:
                    checker.check_lookup(model, name, typ, arg)
                elif method in _CREATE_METHODS:
                    if not _own_init(model_info):  # create() calls the model's own __init__
                        checker.check_assign(model, name, typ, update=False)
                else:
                    checker.check_assign(model, name, typ, update=True)
        return returned

    def _check_constructor(self, ctx: FunctionContext) -> Type:
        try:
            ret = get_proper_type(ctx.default_return_type)
            if isinstance(ret, Instance) and is_model(ret.type) and not _own_init(ret.type):
                checker = Checker(self._index(), ctx.api, ctx.context)
                model = checker.model(ret.type)
                for names, kinds, types in zip(ctx.arg_names, ctx.arg_kinds, ctx.arg_types, strict=False):
                    for name, kind, typ in zip(names, kinds, types, strict=False):
                        if kind == ARG_NAMED and name is not None:
                            checker.check_assign(model, name, typ, update=False)
        except Exception:  # noqa: BLE001 - never crash mypy on code we did not foresee
            pass
        return ctx.default_return_type


def _record(ctx: ClassDefContext) -> None:
    try:
        record_class(ctx.cls)
    except Exception:  # noqa: BLE001 - a class we cannot read is simply not recorded
        pass


_Q: Final = "dorm.expressions.Q"


def _check_q(checker: Checker, model: ModelInfo, expr: Expression, depth: int = 0) -> None:
    """``filter(Q(name="x") | ~Q(age__lt=18))``: the keywords of literal ``Q(...)`` trees are lookups too."""
    if depth > 32:
        return
    if isinstance(expr, OpExpr) and expr.op in ("|", "&", "^"):
        _check_q(checker, model, expr.left, depth + 1)
        _check_q(checker, model, expr.right, depth + 1)
    elif isinstance(expr, UnaryExpr) and expr.op == "~":
        _check_q(checker, model, expr.expr, depth + 1)
    elif isinstance(expr, CallExpr) and isinstance(expr.callee, RefExpr) and expr.callee.fullname == _Q:
        for name, kind, arg in zip(expr.arg_names, expr.arg_kinds, expr.args, strict=False):
            if kind == ARG_NAMED and name is not None:
                checker.check_lookup(model, name, checker.type_of(arg), arg)
            elif kind == ARG_POS:
                _check_q(checker, model, arg, depth + 1)


def _annotations(receiver: Type) -> set[str]:
    """Names ``annotate()``/``alias()`` added to this queryset type (``"*"``: unknown names were added)."""
    proper = get_proper_type(receiver)
    if isinstance(proper, Instance) and proper.extra_attrs is not None:
        return {k[len(_ANNOTATION_KEY) :] for k in proper.extra_attrs.attrs if k.startswith(_ANNOTATION_KEY)}
    return set()


def _carry_annotations(ctx: MethodContext, method: str, names: set[str]) -> Type:
    """The return type, carrying the receiver's annotation names plus those this call adds."""
    names = set(names)
    if method in _ANNOTATING:
        for arg_names, kinds in zip(ctx.arg_names, ctx.arg_kinds, strict=False):
            for name, kind in zip(arg_names, kinds, strict=False):
                names.add(name if kind == ARG_NAMED and name is not None else WILDCARD)
    returned = get_proper_type(ctx.default_return_type)
    if not names or not isinstance(returned, Instance):
        return ctx.default_return_type
    attrs: dict[str, Type] = {f"{_ANNOTATION_KEY}{n}": AnyType(TypeOfAny.special_form) for n in sorted(names)}
    if returned.extra_attrs is not None:
        attrs = {**returned.extra_attrs.attrs, **attrs}
    copy = returned.copy_modified()
    copy.extra_attrs = ExtraAttrs(attrs, set(), None)
    return copy


def _model_of(receiver: Type) -> TypeInfo | None:
    """``Manager[Author]`` / ``QuerySet[Author]`` / a custom subclass -> ``Author``'s TypeInfo."""
    from mypy.maptype import map_instance_to_supertype

    proper = get_proper_type(receiver)
    if not isinstance(proper, Instance):
        return None
    for base in proper.type.mro:
        if base.fullname in _QUERYSET_BASES:
            mapped = map_instance_to_supertype(proper, base)
            if not mapped.args:
                return None
            arg = get_proper_type(mapped.args[0])
            if isinstance(arg, Instance) and is_model(arg.type):
                return arg.type
            return None
    return None


def _own_init(info: TypeInfo) -> bool:
    """Whether the model (or a parent below ``Model``) defines ``__init__``: its keywords are its own then."""
    for base in info.mro:
        if base.fullname == MODEL:
            return False
        if "__init__" in base.names:
            return True
    return False


def _root_model(call: Context) -> TypeInfo | None:
    """The model class a call chain starts from: ``Invoice.objects.filter(...).get(...)`` -> ``Invoice``."""
    expr: Expression | None = call.callee if isinstance(call, CallExpr) else None
    for _ in range(64):
        if isinstance(expr, MemberExpr):
            if isinstance(expr.expr, RefExpr) and isinstance(expr.expr.node, TypeInfo):
                return expr.expr.node if is_model(expr.expr.node) else None
            expr = expr.expr
        elif isinstance(expr, CallExpr):
            expr = expr.callee
        elif isinstance(expr, AwaitExpr):
            expr = expr.expr
        else:
            return None
    return None


def _method_name(ctx: MethodContext) -> str | None:
    """The method being called, from the callee expression (``Author.objects.filter`` -> ``"filter"``)."""
    call = ctx.context
    if isinstance(call, CallExpr) and isinstance(call.callee, MemberExpr):
        name = call.callee.name
        return name if name in _HOOKED else None
    return None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: the plugin class for this mypy ``version``."""
    return DjanormPlugin
