"""Plugin names on ``dorm`` and ``dorm.contrib.<name>``: served by plugins, or MissingPluginError with the hint."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import dorm
import dorm.exceptions
from dorm import plugins

RESILIENCE_HINT = "pip install 'djanorm[resilience]'"

# SPEC §3: every exception class the seed names, importable from dorm and dorm.exceptions.
SPEC_EXCEPTIONS = [
    "ImproperlyConfigured",
    "ValidationError",
    "ObjectDoesNotExist",
    "MultipleObjectsReturned",
    "IntegrityError",
    "OperationalError",
    "PoolTimeout",
    "ReadOnlyModelError",
    "AsyncOnlyError",
    "BudgetExceeded",
    "CircuitOpenError",
    "NoActiveTenantError",
    "NPlusOneError",
    # and the rest of the error surface SPEC §4 and §8 name
    "ProgrammingError",
    "DataError",
    "DatabaseError",
    "MissingPluginError",
]


@pytest.mark.parametrize("name", SPEC_EXCEPTIONS)
def test_exception_importable_from_dorm_and_dorm_exceptions(name: str) -> None:
    from_exceptions = getattr(dorm.exceptions, name)
    assert isinstance(from_exceptions, type) and issubclass(from_exceptions, BaseException)
    assert getattr(dorm, name) is from_exceptions
    namespace: dict[str, object] = {}
    exec(f"from dorm import {name}", namespace)
    assert namespace[name] is from_exceptions
    assert name in dorm.exceptions.__all__


def test_exception_hierarchy_the_seed_relies_on() -> None:
    assert issubclass(dorm.MissingPluginError, ImportError)
    assert not issubclass(dorm.MissingPluginError, AttributeError)
    assert issubclass(dorm.PoolTimeout, dorm.OperationalError)
    assert issubclass(dorm.BudgetExceeded, dorm.OperationalError)
    assert issubclass(dorm.NPlusOneError, AssertionError)
    assert issubclass(dorm.ValidationError, ValueError)
    for name in ("IntegrityError", "OperationalError", "ProgrammingError", "DataError"):
        assert issubclass(getattr(dorm, name), dorm.DatabaseError)


# --------------------------------------------------------------------------
# names on dorm
# --------------------------------------------------------------------------


def test_budget_without_the_plugin_names_the_extra(kernel: plugins.Kernel) -> None:
    with pytest.raises(dorm.MissingPluginError) as info:
        dorm.budget  # noqa: B018
    message = str(info.value)
    assert RESILIENCE_HINT in message and "dorm-resilience" in message and "'budget'" in message
    assert isinstance(info.value, ImportError)
    # the unrelated 'djanorm' on PyPI is not this project: say how to install from the checkout
    assert "./packages/dorm-resilience" in message and "unrelated 'djanorm' on PyPI" in message


def test_from_dorm_import_budget_keeps_the_message(kernel: plugins.Kernel) -> None:
    with pytest.raises(ImportError) as info:
        exec("from dorm import budget", {})
    assert type(info.value) is dorm.MissingPluginError
    assert RESILIENCE_HINT in str(info.value)


@pytest.mark.parametrize(
    ("name", "extra"), [("circuit_breaker", "resilience"), ("TenantModel", "tenancy"), ("current_tenant", "tenancy")]
)
def test_other_plugin_names_name_their_extra(kernel: plugins.Kernel, name: str, extra: str) -> None:
    with pytest.raises(dorm.MissingPluginError, match=rf"pip install 'djanorm\[{extra}\]'"):
        getattr(dorm, name)


def test_unknown_name_is_a_plain_attribute_error(kernel: plugins.Kernel) -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'") as info:
        dorm.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    assert not isinstance(info.value, ImportError)
    assert not hasattr(dorm, "no_such_name")


def test_import_dorm_stays_lazy_for_core_names() -> None:
    assert dorm.configure is importlib.import_module("dorm.conf").configure
    assert dorm.reset_backend_cache is plugins.reset_backend_cache
    assert dorm.transaction is importlib.import_module("dorm.transaction")


# --------------------------------------------------------------------------
# dorm.contrib.<name>
# --------------------------------------------------------------------------


@pytest.fixture
def no_contrib_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("dorm.contrib.")]:
        monkeypatch.delitem(sys.modules, name)


def test_contrib_nplusone_without_the_plugin(entry_points: dict[str, list[EntryPoint]], no_contrib_cache: None) -> None:
    with pytest.raises(dorm.MissingPluginError) as info:
        importlib.import_module("dorm.contrib.nplusone")
    assert RESILIENCE_HINT in str(info.value)
    with pytest.raises(ImportError, match=r"djanorm\[resilience\]"):
        exec("from dorm.contrib.nplusone import NPlusOneDetector", {})


def test_contrib_unknown_module_is_module_not_found(
    entry_points: dict[str, list[EntryPoint]], no_contrib_cache: None
) -> None:
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("dorm.contrib.no_such_contrib")
    assert not isinstance(info.value, dorm.MissingPluginError)


def test_contrib_module_served_from_an_entry_point(
    entry_points: dict[str, list[EntryPoint]],
    no_contrib_cache: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "dorm_contrib_probe.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "dorm_contrib_probe", raising=False)
    entry_points[plugins.CONTRIB_GROUP].append(
        EntryPoint(name="probe", value="dorm_contrib_probe", group=plugins.CONTRIB_GROUP)
    )
    import dorm.contrib.probe  # type: ignore[import-not-found]

    assert dorm.contrib.probe is sys.modules["dorm_contrib_probe"]
    assert sys.modules["dorm.contrib.probe"] is sys.modules["dorm_contrib_probe"]
    assert dorm.contrib.probe.VALUE == 7
    assert dorm.contrib.probe.__name__ == "dorm_contrib_probe"  # one module, its own name
