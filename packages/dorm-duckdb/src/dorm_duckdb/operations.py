"""DuckDB's dialect details on top of the core's ``BaseDatabaseOperations``."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from dorm.backends.base.operations import BaseDatabaseOperations

__all__ = ["DatabaseOperations"]


class DatabaseOperations(BaseDatabaseOperations):
    #: The duckdb driver uses the ``qmark`` paramstyle (raw SQL's ``%s`` is converted by the base class).
    param_placeholder: ClassVar[str] = "?"

    #: DuckDB has ILIKE (with ESCAPE); LIKE is case-sensitive.
    lookup_templates: ClassVar[dict[str, str]] = {
        **BaseDatabaseOperations.lookup_templates,
        "icontains": "{lhs} ILIKE {rhs} ESCAPE '\\'",
        "istartswith": "{lhs} ILIKE {rhs} ESCAPE '\\'",
        "iendswith": "{lhs} ILIKE {rhs} ESCAPE '\\'",
    }

    def regex_lookup(self, lookup_type: str) -> str:
        if lookup_type == "iregex":
            return "regexp_matches(%s, %s, 'i')"
        return "regexp_matches(%s, %s)"

    _DATE_PARTS: Final = {"week_day": "(dayofweek({sql}) + 1)", "iso_week_day": "isodow({sql})", "week": "week({sql})"}

    def date_extract_sql(self, lookup_type: str, sql: str) -> str:
        template = self._DATE_PARTS.get(lookup_type)
        if template is not None:
            return template.format(sql=sql)
        if lookup_type == "second":
            return f"CAST(second({sql}) AS INTEGER)"
        return f"CAST(EXTRACT({lookup_type.upper()} FROM {sql}) AS INTEGER)"

    def explain_prefix(self, format: str | None = None, **options: Any) -> str:
        return "EXPLAIN ANALYZE" if options.get("analyze") else "EXPLAIN"

    def limit_offset_sql(self, low: int, high: int | None) -> tuple[str, list[Any]]:
        if high is None and low:
            return "OFFSET ?", [low]
        return super().limit_offset_sql(low, high)

    # -- JSON (json_extract with path parameters; no containment) ----------------

    def json_extract_text_sql(self, lhs: str, path: str) -> str:
        return f"json_extract_string({lhs}, {path})"

    def json_bool_exact_sql(self, lhs: str, path: str, value: str, placeholder: str) -> str:
        # JSON values compare by their text here, so true is not 1 already
        return f"{self.json_extract_sql(lhs, path)} = {value}"

    def json_is_null_sql(self, lhs: str, path: str) -> str:
        return f"json_type({lhs}, {path}) = 'NULL'"

    _JSON_OPERATORS: Final = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

    def json_compare_sql(self, lookup_name: str, lhs: str, values: list[str]) -> str:
        # JSON values compare as text in DuckDB ('100' < '30'): numbers are compared as
        # numbers, anything else as JSON text.  The scalar subquery names each operand
        # once, so every parameter appears once.
        if lookup_name == "range":
            numeric = "TRY_CAST(l AS DOUBLE) BETWEEN TRY_CAST(a AS DOUBLE) AND TRY_CAST(b AS DOUBLE)"
            text = "l::VARCHAR BETWEEN a::VARCHAR AND b::VARCHAR"
            operands = f"{lhs} AS l, {values[0]} AS a, {values[1]} AS b"
        else:
            op = self._JSON_OPERATORS[lookup_name]
            numeric = f"TRY_CAST(l AS DOUBLE) {op} TRY_CAST(a AS DOUBLE)"
            text = f"l::VARCHAR {op} a::VARCHAR"
            operands = f"{lhs} AS l, {values[0]} AS a"
        return f"(SELECT COALESCE({numeric}, {text}) FROM (SELECT {operands}))"
