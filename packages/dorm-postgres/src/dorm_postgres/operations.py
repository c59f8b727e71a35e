"""PostgreSQL's dialect details on top of the core's ``BaseDatabaseOperations``.

Sections: placeholders and quoting (owned by the backend), lookup
operators (case-insensitive ``ILIKE``, ``~`` / ``~*`` regexes), date
extraction (``EXTRACT`` / ``date_trunc``), JSON operators (``jsonb``).
The core's base class defines the generic versions; only what differs is
overridden here.
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
    "week_day": "DOW",  # adjusted below to 1=Sunday..7=Saturday
    "iso_week_day": "ISODOW",
    "hour": "HOUR",
    "minute": "MINUTE",
    "second": "SECOND",
    "epoch": "EPOCH",
}
_TRUNC_KINDS: Final = frozenset({"year", "quarter", "month", "week", "day", "hour", "minute", "second"})


class DatabaseOperations(BaseDatabaseOperations):
    # -- placeholders and quoting -------------------------------------------------

    #: psycopg uses the DB-API ``format`` style, which is also raw SQL's style:
    #: raw SQL reaches the driver unchanged (``%%`` is a literal ``%`` when
    #: parameters are given; without parameters SQL is sent as written).
    param_placeholder: ClassVar[str] = "%s"

    def convert_raw_placeholders(self, sql: str, params: Any) -> str:
        return sql

    # -- lookup operators -----------------------------------------------------------
    # ``%s`` stands for the right-hand side; LIKE patterns are built by the
    # core (escaped with ``\``), PostgreSQL's default escape character.

    lookup_operators: ClassVar[dict[str, str]] = {
        "exact": "= %s",
        "iexact": "ILIKE %s",
        "contains": "LIKE %s",
        "icontains": "ILIKE %s",
        "startswith": "LIKE %s",
        "istartswith": "ILIKE %s",
        "endswith": "LIKE %s",
        "iendswith": "ILIKE %s",
        "regex": "~ %s",
        "iregex": "~* %s",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
    }

    def regex_lookup(self, lookup_type: str) -> str:
        """``%s ~ %s`` or ``%s ~* %s`` (left-hand side, pattern)."""
        return "%s ~* %s" if lookup_type == "iregex" else "%s ~ %s"

    # -- date extraction --------------------------------------------------------------

    def date_extract_sql(self, lookup_type: str, sql: str) -> str:
        """``EXTRACT(<field> FROM sql)``; ``week_day`` is 1 (Sunday) .. 7 (Saturday)."""
        field = _EXTRACT_FIELDS.get(lookup_type)
        if field is None:
            raise ValueError(f"Unknown date part {lookup_type!r}; expected one of {sorted(_EXTRACT_FIELDS)}.")
        if lookup_type == "week_day":
            return f"(EXTRACT(DOW FROM {sql}) + 1)"
        return f"EXTRACT({field} FROM {sql})"

    def date_trunc_sql(self, kind: str, sql: str) -> str:
        """``date_trunc('<kind>', sql)``; ``kind`` is validated, never user text."""
        if kind not in _TRUNC_KINDS:
            raise ValueError(f"Unknown truncation {kind!r}; expected one of {sorted(_TRUNC_KINDS)}.")
        return f"date_trunc('{kind}', {sql})"

    # -- JSON (jsonb) -------------------------------------------------------------------

    #: ``__has_key``, ``__has_keys``, ``__has_any_keys``, ``__contains``, ``__contained_by``.
    json_operators: ClassVar[dict[str, str]] = {
        "has_key": "? %s",
        "has_keys": "?& %s",
        "has_any_keys": "?| %s",
        "contains": "@> %s",
        "contained_by": "<@ %s",
    }

    def json_key_transform_sql(self, sql: str, *, as_text: bool) -> str:
        """Key path access: ``sql #> %s`` (jsonb) or ``sql #>> %s`` (text); the path is a text[] parameter."""
        return f"({sql} {'#>>' if as_text else '#>'} %s)"

    # -- misc --------------------------------------------------------------------------

    def distinct_on_sql(self, columns: list[str]) -> str:
        return f"DISTINCT ON ({', '.join(columns)})"

    def for_update_sql(self, *, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()) -> str:
        sql = "FOR UPDATE"
        if of:
            sql += " OF " + ", ".join(self.quote_name(t) for t in of)
        if nowait:
            sql += " NOWAIT"
        elif skip_locked:
            sql += " SKIP LOCKED"
        return sql
