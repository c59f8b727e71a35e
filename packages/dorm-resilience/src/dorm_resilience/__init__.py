"""dorm-resilience: query budgets, circuit breakers and the N+1 detector for djanorm.

The same objects are reachable as ``dorm.budget``, ``dorm.Budget``,
``dorm.circuit_breaker``, ``dorm.CircuitBreaker`` and
``dorm.contrib.nplusone``; import them from here for precise static types.
"""

from __future__ import annotations

from dorm.exceptions import BudgetExceeded, CircuitOpenError, NPlusOneError, QueryCanceledError

from dorm_resilience.budget import Budget, budget
from dorm_resilience.circuit import CircuitBreaker, CircuitState, circuit_breaker
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
