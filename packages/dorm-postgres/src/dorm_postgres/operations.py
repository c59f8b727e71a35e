"""PostgreSQL's dialect details on top of the core's ``BaseDatabaseOperations``.

Sections: placeholders (owned by the backend), then the query engine's
hooks that differ on PostgreSQL: case-insensitive patterns with ``ILIKE``,
regexes with ``~`` / ``~*``, ``EXTRACT`` as integers.  Everything else
(``DISTINCT ON``, ``FOR UPDATE ... OF/NOWAIT/SKIP LOCKED``, ``RETURNING``,
``ON CONFLICT``, ``FILTER``) is the base class's standard SQL.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from dorm.backends.base.operations import BaseDatabaseOperations

__all__ = ["DatabaseOperations"]

# EXTRACT field names by lookup name (``created__year`` -> ``EXTRACT(YEAR FROM ...)``).
_EXTRACT_FIELDS: Final[dict[str, str]] = {
    "year": "YEAR",
    "iso_year": "ISOYEAR",
    "quarter": "QUARTER",
    "month": "MONTH",
    "week": "WEEK",
    "day": "DAY",
    "iso_week_day": "ISODOW",
    "hour": "HOUR",
    "minute": "MINUTE",
    "second": "SECOND",
}


class DatabaseOperations(BaseDatabaseOperations):
    # -- placeholders ---------------------------------------------------------------

    #: psycopg uses the DB-API ``format`` style, which is also raw SQL's style, so raw
    #: SQL reaches the driver unchanged: with parameters ``%%`` is a literal ``%``;
    #: without parameters SQL is sent as written (the base class's no-op conversion).
    param_placeholder: ClassVar[str] = "%s"

    # -- lookups --------------------------------------------------------------------------
    # Case-insensitive patterns use ILIKE (a trigram or citext index can serve it);
    # ``::text`` lets them apply to non-text columns as on the other backends.

    lookup_templates: ClassVar[dict[str, str]] = {
        **BaseDatabaseOperations.lookup_templates,
        "icontains": "{lhs}::text ILIKE {rhs} ESCAPE '\\'",
        "istartswith": "{lhs}::text ILIKE {rhs} ESCAPE '\\'",
        "iendswith": "{lhs}::text ILIKE {rhs} ESCAPE '\\'",
    }

    def regex_lookup(self, lookup_type: str) -> str:
        """POSIX regular expressions: ``~`` (case-sensitive) and ``~*``."""
        return "%s::text ~* %s" if lookup_type == "iregex" else "%s::text ~ %s"

    # -- dates ------------------------------------------------------------------------------

    def date_extract_sql(self, lookup_type: str, sql: str) -> str:
        """``EXTRACT(...)::integer`` (PostgreSQL 14+ returns numeric); ``week_day`` is 1 (Sunday) .. 7."""
        if lookup_type == "week_day":
            return f"(EXTRACT(DOW FROM {sql})::integer + 1)"
        field = _EXTRACT_FIELDS.get(lookup_type)
        if field is None:
            return super().date_extract_sql(lookup_type, sql)
        return f"EXTRACT({field} FROM {sql})::integer"

    # -- JSON (jsonb operators; key paths are text[] parameters) -------------------

    def json_path_param(self, keys: tuple[str, ...]) -> Any:
        """A ``text[]`` path for ``#>``: ``{tags,0}`` indexes arrays and names object keys alike."""
        return list(keys)

    def json_key_param(self, key: str) -> Any:
        return key

    def json_extract_sql(self, lhs: str, path: str) -> str:
        return f"({lhs} #> {path}::text[])"

    def json_extract_text_sql(self, lhs: str, path: str) -> str:
        return f"({lhs} #>> {path}::text[])"

    def json_select_sql(self, lhs: str, path: str) -> str:
        return f"({lhs} #> {path}::text[])"

    def json_value_sql(self, placeholder: str) -> str:
        return f"{placeholder}::jsonb"

    def json_bool_exact_sql(self, lhs: str, path: str, value: str, placeholder: str) -> str:
        return f"{self.json_extract_sql(lhs, path)} = {value}"

    def json_is_null_sql(self, lhs: str, path: str) -> str:
        return f"({lhs} #> {path}::text[]) = 'null'::jsonb"

    def json_has_path_sql(self, lhs: str, path: str, present: bool = True) -> str:
        # #> gives SQL NULL only for a missing path (JSON null is 'null'::jsonb)
        return f"({lhs} #> {path}::text[]) IS {'NOT ' if present else ''}NULL"

    def json_has_keys_sql(self, lhs: str, placeholders: list[str], any_key: bool) -> str:
        if len(placeholders) == 1:
            return f"{lhs} ? {placeholders[0]}"
        operator = "?|" if any_key else "?&"
        return f"{lhs} {operator} ARRAY[{', '.join(placeholders)}]::text[]"

    def json_contains_sql(self, lookup_name: str, lhs: str, rhs: str) -> str:
        operator = "@>" if lookup_name == "contains" else "<@"
        return f"{lhs} {operator} {rhs}::jsonb"
