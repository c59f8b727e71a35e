"""SQL dialect details a backend may override: quoting, placeholders, type casts,
lookup operators, date extraction, value adaptation to and from the driver.

The compiler (``dorm.sql.compiler``) asks this object instead of hard-coding
any vendor's syntax.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["BaseDatabaseOperations"]


class BaseDatabaseOperations:
    #: The driver's placeholder for one parameter in compiled SQL.
    param_placeholder: ClassVar[str] = "%s"

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self.wrapper = wrapper
        self._quote_cache: dict[str, str] = {}

    def quote_name(self, name: str) -> str:
        """Quote an identifier (table, column, alias, savepoint).  Embedded quotes are doubled."""
        quoted = self._quote_cache.get(name)
        if quoted is None:
            if name.startswith('"') and name.endswith('"') and len(name) > 1:
                quoted = name
            else:
                quoted = '"' + name.replace('"', '""') + '"'
            self._quote_cache[name] = quoted
        return quoted

    def convert_raw_placeholders(self, sql: str, params: Any) -> str:
        """Raw SQL uses ``%s`` placeholders on every backend (``%%`` for a literal ``%``).

        Backends whose driver wants another style translate here.
        """
        return sql
