"""The active tenant: a context variable set by :func:`current_tenant`.

A ``contextvars.ContextVar`` follows threads and asyncio tasks the way a
request does: each ``asyncio.gather`` task sees the tenant that was active
when it was created, or the one it sets itself.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

__all__ = ["current_tenant", "get_current_tenant"]

_TENANT: ContextVar[Any] = ContextVar("dorm_tenancy_current_tenant", default=None)


def get_current_tenant() -> Any:
    """The tenant id of the innermost active ``current_tenant(...)`` block, or ``None``."""
    return _TENANT.get()


class current_tenant:  # noqa: N801 - used as a function-like context manager
    """Scope every query on a ``TenantModel`` to tenant ``tid`` inside the block.

    Works as ``with current_tenant(tid):`` and ``async with current_tenant(tid):``;
    blocks nest (the inner tenant wins until it exits).  ``None`` is not a
    tenant: it raises ``ValueError`` instead of silently meaning "no tenant".
    """

    __slots__ = ("tenant_id", "_tokens")

    def __init__(self, tid: Any) -> None:
        if tid is None:
            raise ValueError(
                "current_tenant(None): None is not a tenant. Pass the tenant id "
                "(e.g. current_tenant(request.user.tenant_id)); for deliberate cross-tenant "
                "reads use MyModel.unscoped instead."
            )
        self.tenant_id = tid
        self._tokens: list[Token[Any]] = []

    def __enter__(self) -> Any:
        self._tokens.append(_TENANT.set(self.tenant_id))
        return self.tenant_id

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _TENANT.reset(self._tokens.pop())

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"current_tenant({self.tenant_id!r})"
