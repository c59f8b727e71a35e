"""dorm-resilience: query budgets, circuit breakers and the N+1 detector for djanorm.

The same objects are reachable as ``dorm.budget``, ``dorm.Budget``,
``dorm.circuit_breaker``, ``dorm.CircuitBreaker`` and
``dorm.contrib.nplusone``; import them from here for precise static types.

Budgets and breakers (small, stdlib-only modules) are imported with the
package; the N+1 detector loads on first use (PEP 562).  A module and a
function share the names ``budget`` and ``circuit_breaker``'s module is
``circuit``: the package attribute ``budget`` is the function.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dorm.exceptions import BudgetExceeded, CircuitOpenError, NPlusOneError, QueryCanceledError
from dorm_resilience.budget import Budget, budget
from dorm_resilience.circuit import CircuitBreaker, CircuitState, circuit_breaker

if TYPE_CHECKING:
    from dorm_resilience.nplusone import Finding, NPlusOneDetector, assert_no_nplusone

__all__ = [
    "Budget",
    "BudgetExceeded",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Finding",
    "NPlusOneDetector",
    "NPlusOneError",
    "QueryCanceledError",
    "assert_no_nplusone",
    "budget",
    "circuit_breaker",
]

_WHERE = {
    "Finding": "dorm_resilience.nplusone",
    "NPlusOneDetector": "dorm_resilience.nplusone",
    "assert_no_nplusone": "dorm_resilience.nplusone",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dorm_resilience' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
