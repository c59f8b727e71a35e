"""Error messages of the tenancy plugin (people read these: cause and fix)."""

from __future__ import annotations

from typing import Any

from dorm.exceptions import DormError, NoActiveTenantError

__all__ = ["CrossTenantWriteError", "NoActiveTenantError", "no_active_tenant"]


class CrossTenantWriteError(DormError):
    """A write would touch (or move a row into) a tenant other than the active one."""


def no_active_tenant(model: Any, what: str) -> NoActiveTenantError:
    name = model.__name__
    return NoActiveTenantError(
        f"{what} on {name} ran without an active tenant: {name} is a TenantModel and no "
        f"`with current_tenant(<id>):` block is active. Wrap the handler / job with "
        f"`with current_tenant(request.user.tenant_id):` (or `async with` in async code). If the query is "
        f"deliberately cross-tenant (admin / report), use {name}.unscoped.all() to bypass the filter "
        f'explicitly. The error is by design: silently falling back to "every tenant" would be a data leak.'
    )
