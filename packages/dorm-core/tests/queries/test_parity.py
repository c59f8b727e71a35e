"""Every public sync method that touches the database has an ``a*`` twin with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from dorm.models import Manager, Model, QuerySet

# Methods that only build a queryset (no I/O) need no twin.
BUILDERS = {
    "all",
    "filter",
    "afilter",
    "exclude",
    "order_by",
    "reverse",
    "distinct",
    "values",
    "values_list",
    "annotate",
    "select_related",
    "prefetch_related",
    "only",
    "defer",
    "select_for_update",
    "union",
    "using",
    "none",
    "limit",
    "raw",
    "get_queryset",
    "contribute_to_class",
    "db_manager",
    "from_queryset",
    "check",
    "clean",
    "clean_fields",
    "full_clean",
    "validate_unique",
    "validate_constraints",
    "serializable_value",
    "get_deferred_fields",
    "from_db",
}
DUNDER_TWINS = {"__iter__": "__aiter__", "__len__": "__await__", "__bool__": "__await__", "__getitem__": "__await__"}


def _public_sync(cls: type) -> list[str]:
    out = []
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or name in BUILDERS or name.startswith("a") and hasattr(cls, name[1:]):
            continue
        if callable(member) and not inspect.iscoroutinefunction(member) and not isinstance(member, type):
            if inspect.isfunction(member) or inspect.ismethod(member):
                out.append(name)
    return out


def _params(fn: object) -> list[tuple[str, object, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("cls", [QuerySet, Manager, Model], ids=lambda c: c.__name__)
def test_every_sync_method_has_an_async_twin(cls: type) -> None:
    missing = []
    different = []
    for name in _public_sync(cls):
        twin = getattr(cls, "a" + name, None)
        if twin is None:
            missing.append(name)
            continue
        assert inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin), (
            f"{cls.__name__}.a{name} is not async"
        )
        if _params(getattr(cls, name)) != _params(twin):
            different.append(name)
    assert not missing, f"{cls.__name__} lacks a* twins for: {missing}"
    assert not different, f"{cls.__name__} twins with different parameters: {different}"


def test_dunder_twins() -> None:
    for sync, twin in DUNDER_TWINS.items():
        assert hasattr(QuerySet, sync) and hasattr(QuerySet, twin)
