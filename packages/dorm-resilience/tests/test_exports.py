"""Public names, the entry points, a light plugin module, and no per-statement cost while idle."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import dorm
import dorm_resilience
from dorm import plugins


def test_names_on_dorm_are_the_packages_objects() -> None:
    from dorm_resilience import Budget, CircuitBreaker, budget, circuit_breaker

    assert dorm.budget is budget
    assert dorm.Budget is Budget
    assert dorm.circuit_breaker is circuit_breaker
    assert dorm.CircuitBreaker is CircuitBreaker
    from dorm import budget as imported

    assert imported is budget


def test_package_exports() -> None:
    for name in (
        "budget",
        "Budget",
        "circuit_breaker",
        "CircuitBreaker",
        "NPlusOneDetector",
        "assert_no_nplusone",
        "BudgetExceeded",
        "CircuitOpenError",
        "NPlusOneError",
        "QueryCanceledError",
    ):
        assert name in dorm_resilience.__all__
        assert getattr(dorm_resilience, name) is not None
    assert dorm_resilience.BudgetExceeded is dorm.BudgetExceeded
    assert dorm_resilience.CircuitOpenError is dorm.CircuitOpenError
    assert dorm_resilience.NPlusOneError is dorm.NPlusOneError
    assert issubclass(dorm.BudgetExceeded, dorm.OperationalError)
    assert issubclass(dorm.CircuitOpenError, dorm.OperationalError)
    assert issubclass(dorm.NPlusOneError, AssertionError)


def test_entry_points() -> None:
    (plugin,) = [ep for ep in entry_points(group="djanorm.plugins") if ep.name == "resilience"]
    assert plugin.value == "dorm_resilience.plugin"
    (contrib,) = [ep for ep in entry_points(group="djanorm.contrib") if ep.name == "nplusone"]
    assert contrib.value == "dorm_resilience.nplusone"


def test_plugin_is_loaded_by_the_kernel(kernel: plugins.Kernel) -> None:
    kernel.ensure_loaded()
    assert kernel.pm.get_plugin("resilience") is sys.modules["dorm_resilience.plugin"]


def test_idle_plugin_registers_no_statement_wrapper(kernel: plugins.Kernel, sqlite_db: None) -> None:
    kernel.ensure_loaded()
    dorm.get_connection().execute("SELECT 1")
    assert kernel.statement_wrappers() == ()
    assert kernel.public_names()["budget"] is dorm_resilience.budget


#: What loading the plugin imports: small stdlib-only modules; not the N+1 detector (regexes, dataclasses).
LIGHT = [
    "dorm_resilience",
    "dorm_resilience._slots",
    "dorm_resilience.budget",
    "dorm_resilience.circuit",
    "dorm_resilience.plugin",
]


def test_importing_the_plugin_module_is_light() -> None:
    code = (
        "import sys, json; import dorm_resilience.plugin; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('dorm_resilience'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == LIGHT


def test_configure_without_breakers_imports_nothing_more() -> None:
    code = (
        "import sys, json, dorm; "
        "dorm.configure(DATABASES={'default': {'ENGINE': 'sqlite', 'NAME': ':memory:'}}); "
        "dorm.get_connection().execute('SELECT 1'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('dorm_resilience'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == LIGHT


def test_registration_does_not_grow_the_kernel(kernel: plugins.Kernel, sqlite_db: None) -> None:
    history = kernel.pm.hook.dorm_addhooks._call_history
    before = len(history or [])
    for _ in range(200):
        with dorm.budget(max_rows=5):
            pass
    assert len(history or []) == before
    assert kernel.statement_wrappers() == ()


@pytest.mark.slow
def test_overhead_script_runs() -> None:
    """The measurement script (numbers are reported in docs/budgets.md, not asserted)."""
    import os
    from pathlib import Path

    script = Path(__file__).parent.parent / "scripts" / "overhead.py"
    env = dict(os.environ, DORM_OVERHEAD_N="2000")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, env=env).stdout
    assert "installed, idle" in out and "statement wrappers registered while idle: 0" in out
