"""SQLite's dialect details on top of the core's ``BaseDatabaseOperations``.

Sections: placeholders (owned by the backend), then lookup operators and
date functions (SQLite overrides of what the core's base class defines;
the query engine adds to this section).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from dorm.backends.base.operations import BaseDatabaseOperations

__all__ = ["DatabaseOperations"]

_FORMAT_TOKEN: Final = re.compile(r"%[s%]")
_CONVERTED_CACHE_LIMIT: Final = 512


def _token_to_qmark(match: re.Match[str]) -> str:
    return "?" if match.group() == "%s" else "%"


class DatabaseOperations(BaseDatabaseOperations):
    # -- placeholders -----------------------------------------------------------

    #: sqlite3 uses the ``qmark`` paramstyle.
    param_placeholder: ClassVar[str] = "?"

    def __init__(self, wrapper: Any) -> None:
        super().__init__(wrapper)
        self._converted: dict[str, str] = {}

    def convert_raw_placeholders(self, sql: str, params: Any) -> str:
        """``%s`` -> ``?`` and ``%%`` -> ``%`` (DB-API ``format`` style).

        Like the ``format`` paramstyle drivers, SQL run without parameters
        (``params is None``) is left untouched, so ``LIKE 'a%'`` needs no
        doubling there.
        """
        if params is None or "%" not in sql:
            return sql
        converted = self._converted.get(sql)
        if converted is None:
            converted = _FORMAT_TOKEN.sub(_token_to_qmark, sql)
            if len(self._converted) >= _CONVERTED_CACHE_LIMIT:
                self._converted.clear()
            self._converted[sql] = converted
        return converted

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
