"""The ``djanorm.plugins`` entry point of dorm-resilience.

Kept light: the kernel imports this module when plugins load, so the
feature modules are imported only when a name is first used or a
``CIRCUIT_BREAKER`` setting asks for them.  Nothing here wraps statements:
each feature registers its own ``dorm_statement`` wrapper only while it is
active, so an installed but idle dorm-resilience costs no time per query.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dorm.plugins import hookimpl

if TYPE_CHECKING:
    from dorm.conf import Settings

__all__ = ["dorm_configure", "dorm_public_names"]


@hookimpl
def dorm_public_names() -> Mapping[str, Any]:
    """``dorm.budget``, ``dorm.Budget``, ``dorm.circuit_breaker``, ``dorm.CircuitBreaker``."""
    from dorm_resilience.budget import Budget, budget
    from dorm_resilience.circuit import CircuitBreaker, circuit_breaker

    return {"budget": budget, "Budget": Budget, "circuit_breaker": circuit_breaker, "CircuitBreaker": CircuitBreaker}


@hookimpl
def dorm_configure(settings: Settings) -> None:
    """Build the per-alias ``"db:<alias>"`` breakers from ``DATABASES[alias]["CIRCUIT_BREAKER"]``."""
    databases: Mapping[str, Mapping[str, Any]] = settings.get("DATABASES") or {}
    wanted = any(config.get("CIRCUIT_BREAKER") not in (None, False) for config in databases.values())
    if not wanted and "dorm_resilience.circuit" not in sys.modules:
        return  # nothing configured now or before: stay unimported
    from dorm_resilience.circuit import configure_alias_breakers

    configure_alias_breakers(settings)
