"""Row-level multi-tenancy for djanorm.

Not implemented yet in this version: the distribution is installable and
registers its (still empty) plugin in the ``djanorm.plugins`` entry point
group.  Coming: ``TenantModel`` (a tenant column on every row),
``current_tenant(tid)`` (sync and async context manager), the per-query
tenant filter and insert stamping through the ``dorm_query_pre_compile``
hook, ``NoActiveTenantError`` when no tenant is active, and the explicit
cross-tenant manager ``Model.unscoped``.  Until then ``dorm.TenantModel``
raises :class:`dorm.MissingPluginError`.
"""

from __future__ import annotations

__all__: list[str] = []
