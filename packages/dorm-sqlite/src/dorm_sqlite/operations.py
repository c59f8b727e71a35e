"""SQLite's dialect details on top of the core's ``BaseDatabaseOperations``.

Sections: placeholders (owned by the backend), then lookup operators and
date functions (SQLite overrides of what the core's base class defines;
the query engine adds to this section).
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from dorm.backends.base.operations import BaseDatabaseOperations

__all__ = ["DatabaseOperations"]


class DatabaseOperations(BaseDatabaseOperations):
    # -- placeholders -----------------------------------------------------------

    #: sqlite3 uses the ``qmark`` paramstyle (raw SQL's ``%s`` is converted by the base class).
    param_placeholder: ClassVar[str] = "?"

    # -- lookups and date functions ---------------------------------------------
    # (SQLite-specific overrides of the base class's lookup operators and date
    # extraction go here; REGEXP is provided by a function registered on every
    # connection, see ``dorm_sqlite.functions``.)

    #: SQLite's LIKE ignores ASCII case, so the case-sensitive pattern lookups use GLOB
    #: (its wildcards are escaped by :meth:`pattern_value`); the i-variants keep LIKE.
    lookup_templates: ClassVar[dict[str, str]] = {
        **BaseDatabaseOperations.lookup_templates,
        "contains": "{lhs} GLOB {rhs}",
        "startswith": "{lhs} GLOB {rhs}",
        "endswith": "{lhs} GLOB {rhs}",
    }

    _GLOB_SPECIAL: Final = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})
    _DATE_FORMATS: Final = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}

    def pattern_value(self, lookup_name: str, value: Any) -> str:
        if lookup_name.startswith("i"):
            return super().pattern_value(lookup_name, value)
        escaped = str(value).translate(self._GLOB_SPECIAL)
        if lookup_name == "contains":
            return f"*{escaped}*"
        if lookup_name == "startswith":
            return f"{escaped}*"
        return f"*{escaped}"

    def date_extract_sql(self, lookup_type: str, sql: str) -> str:
        fmt = self._DATE_FORMATS.get(lookup_type)
        if fmt is None:
            return super().date_extract_sql(lookup_type, sql)
        return f"CAST(strftime('{fmt}', {sql}) AS INTEGER)"

    def date_cast_sql(self, sql: str) -> str:
        return f"date({sql})"
