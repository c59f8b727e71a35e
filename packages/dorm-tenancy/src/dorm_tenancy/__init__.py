"""Row-level multi-tenancy for djanorm.

``class Invoice(TenantModel)`` gets a ``tenant_id`` column; inside
``with current_tenant(tid):`` (or ``async with``) every query on it is
filtered to ``tid`` and every insert stamped with it; without an active
tenant any query raises :class:`NoActiveTenantError`; ``Invoice.unscoped``
is the explicit cross-tenant manager.  See ``docs/tenancy.md``.
"""

from __future__ import annotations

from dorm.exceptions import NoActiveTenantError
from dorm_tenancy.context import current_tenant, get_current_tenant
from dorm_tenancy.errors import CrossTenantWriteError
from dorm_tenancy.models import TenantModel, UnscopedManager

__all__ = [
    "CrossTenantWriteError",
    "NoActiveTenantError",
    "TenantModel",
    "UnscopedManager",
    "current_tenant",
    "get_current_tenant",
]
