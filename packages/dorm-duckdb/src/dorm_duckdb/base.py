"""The DuckDB backend's ``DatabaseWrapper`` (a placeholder until the backend lands).

Constructing it raises :class:`dorm.ImproperlyConfigured`, so
``ENGINE: "duckdb"`` fails at the first connection with a message that says
what is missing, rather than with an import error from inside the core.
"""

from __future__ import annotations

from typing import Any, NoReturn

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.exceptions import ImproperlyConfigured

__all__ = ["NOT_IMPLEMENTED_MESSAGE", "DatabaseWrapper"]

NOT_IMPLEMENTED_MESSAGE = (
    "the DuckDB backend is not implemented yet in this version of dorm-duckdb (2.0.0 ships it as an "
    "installable placeholder). Use ENGINE 'sqlite' or 'postgresql' for alias {alias!r} for now."
)


class DatabaseWrapper(BaseDatabaseWrapper):
    """Placeholder registered as ``duckdb``; refuses to be constructed."""

    vendor = "duckdb"
    display_name = "DuckDB"

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        raise ImproperlyConfigured(NOT_IMPLEMENTED_MESSAGE.format(alias=alias))

    def acquire(self) -> NoReturn:
        raise ImproperlyConfigured(NOT_IMPLEMENTED_MESSAGE.format(alias=self.alias))

    def release(self, connection: Any, *, broken: bool = False) -> NoReturn:
        raise ImproperlyConfigured(NOT_IMPLEMENTED_MESSAGE.format(alias=self.alias))

    async def aacquire(self) -> NoReturn:
        raise ImproperlyConfigured(NOT_IMPLEMENTED_MESSAGE.format(alias=self.alias))

    async def arelease(self, connection: Any, *, broken: bool = False) -> NoReturn:
        raise ImproperlyConfigured(NOT_IMPLEMENTED_MESSAGE.format(alias=self.alias))

    def close(self) -> None:
        return None
