"""The ``tenancy`` entry of the ``djanorm.plugins`` group.

Only the public names live here: the per-query hooks (:mod:`dorm_tenancy.scope`)
are registered when the first ``TenantModel`` subclass is defined, so an
application without tenant models pays nothing per query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dorm import hookimpl


@hookimpl
def dorm_public_names() -> Mapping[str, Any]:
    import dorm_tenancy

    return {
        "TenantModel": dorm_tenancy.TenantModel,
        "current_tenant": dorm_tenancy.current_tenant,
        "get_current_tenant": dorm_tenancy.get_current_tenant,
    }
