"""SQL dialect details a backend may override: quoting, placeholders, type casts,
lookup operators, date extraction, value adaptation to and from the driver.

The compiler (``dorm.sql.compiler``) asks this object instead of hard-coding
any vendor's syntax.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dorm.backends.base.placeholders import to_qmark

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

        A backend whose :attr:`param_placeholder` is ``?`` (the ``qmark``
        paramstyle) gets ``%s`` -> ``?`` and ``%%`` -> ``%``, cached per text
        (:mod:`dorm.backends.base.placeholders`); SQL run without parameters
        is left as written.  Other styles override this.
        """
        if params is None or self.param_placeholder != "?" or "%" not in sql:
            return sql
        return to_qmark(sql)

    # ------------------------------------------------------------------
    # Query-engine hooks (generic SQL; backends override only what differs).
    # The compiler in ``dorm.sql.compiler`` calls every method below.
    # ------------------------------------------------------------------

    #: Lookup name -> SQL template over ``{lhs}`` and ``{rhs}`` (already compiled SQL).
    #: ``rhs`` of pattern lookups is a parameter already escaped by :meth:`prep_for_like_query`.
    lookup_templates: ClassVar[dict[str, str]] = {
        "exact": "{lhs} = {rhs}",
        "iexact": "UPPER({lhs}) = UPPER({rhs})",
        "gt": "{lhs} > {rhs}",
        "gte": "{lhs} >= {rhs}",
        "lt": "{lhs} < {rhs}",
        "lte": "{lhs} <= {rhs}",
        "contains": "{lhs} LIKE {rhs} ESCAPE '\\'",
        "icontains": "UPPER({lhs}) LIKE UPPER({rhs}) ESCAPE '\\'",
        "startswith": "{lhs} LIKE {rhs} ESCAPE '\\'",
        "istartswith": "UPPER({lhs}) LIKE UPPER({rhs}) ESCAPE '\\'",
        "endswith": "{lhs} LIKE {rhs} ESCAPE '\\'",
        "iendswith": "UPPER({lhs}) LIKE UPPER({rhs}) ESCAPE '\\'",
    }

    def lookup_sql(self, lookup_name: str, lhs: str, rhs: str) -> str:
        """SQL for ``lhs <lookup> rhs`` (both already compiled)."""
        if lookup_name in ("regex", "iregex"):
            return self.regex_lookup(lookup_name) % (lhs, rhs)
        return self.lookup_templates[lookup_name].format(lhs=lhs, rhs=rhs)

    def regex_lookup(self, lookup_type: str) -> str:
        """``%s``-template over (left-hand side, pattern) for ``regex`` / ``iregex``.

        The default is SQL's ``REGEXP`` operator (SQLite calls a registered function);
        a case-insensitive match prefixes the pattern with ``(?i)``.
        """
        if lookup_type == "iregex":
            return "%s REGEXP ('(?i)' || %s)"
        return "%s REGEXP %s"

    def prep_for_like_query(self, value: Any) -> str:
        """Escape ``\\``, ``%`` and ``_`` so a user's text matches literally inside LIKE."""
        return str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def pattern_value(self, lookup_name: str, value: Any) -> str:
        """The LIKE parameter for ``contains``/``startswith``/``endswith`` (and i-variants)."""
        escaped = self.prep_for_like_query(value)
        if lookup_name.endswith("contains"):
            return f"%{escaped}%"
        if lookup_name.endswith("startswith"):
            return f"{escaped}%"
        return f"%{escaped}"

    def date_extract_sql(self, lookup_type: str, sql: str) -> str:
        """Extract ``year``/``month``/``day``/``hour``/``minute``/``second``/``week_day`` as an integer."""
        return f"EXTRACT({lookup_type.upper()} FROM {sql})"

    def date_cast_sql(self, sql: str) -> str:
        """The date part of a datetime expression (the ``__date`` transform)."""
        return f"CAST({sql} AS DATE)"

    def cast_sql(self, sql: str, db_type: str) -> str:
        return f"CAST({sql} AS {db_type})"

    #: Arithmetic operators as SQL; ``%`` must be doubled where the driver uses ``%s`` placeholders.
    def combine_operator(self, connector: str) -> str:
        if connector == "%":
            return "%%" if self.param_placeholder == "%s" else "%"
        if connector == "^":
            return "^"
        return connector

    def random_function_sql(self) -> str:
        return "RANDOM()"

    def concat_sql(self, parts: list[str]) -> str:
        """String concatenation that treats NULL as ''."""
        return "(" + " || ".join(f"COALESCE({p}, '')" for p in parts) + ")"

    def now_sql(self) -> str:
        return "CURRENT_TIMESTAMP"

    def length_function(self) -> str:
        return "LENGTH"

    def limit_offset_sql(self, low: int, high: int | None) -> tuple[str, list[Any]]:
        """``LIMIT``/``OFFSET`` with parameters (so every page shares one compiled shape).

        An offset without a limit uses the largest 64-bit integer as limit:
        SQLite requires a LIMIT before OFFSET, and PostgreSQL accepts it.
        """
        ph = self.param_placeholder
        if high is not None:
            if low:
                return f"LIMIT {ph} OFFSET {ph}", [high - low, low]
            return f"LIMIT {ph}", [high]
        if low:
            return f"LIMIT {ph} OFFSET {ph}", [9223372036854775807, low]
        return "", []

    def distinct_sql(self, fields: list[str]) -> str:
        """``DISTINCT`` or ``DISTINCT ON (...)`` (only with ``features.supports_distinct_on``)."""
        if fields:
            from dorm.exceptions import NotSupportedError

            if not self.wrapper.features.supports_distinct_on:
                raise NotSupportedError(
                    f"distinct(*fields) needs DISTINCT ON, which the {self.wrapper.vendor} backend does not support. "
                    "Call distinct() without field names."
                )
            return "DISTINCT ON (" + ", ".join(fields) + ")"
        return "DISTINCT"

    def for_update_sql(self, *, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()) -> str:
        """``FOR UPDATE [OF alias, ...] [NOWAIT | SKIP LOCKED]`` (``of``: unquoted table aliases)."""
        sql = "FOR UPDATE"
        if of:
            sql += " OF " + ", ".join(self.quote_name(t) for t in of)
        if nowait:
            sql += " NOWAIT"
        elif skip_locked:
            sql += " SKIP LOCKED"
        return sql

    def explain_prefix(self, format: str | None = None, **options: Any) -> str:
        """The keyword(s) put before a SELECT by ``QuerySet.explain()``."""
        parts = [f"{name.upper()}" for name, value in options.items() if value]
        if format:
            parts.append(f"FORMAT {format.upper()}")
        return "EXPLAIN" + (f" ({', '.join(parts)})" if parts else "")

    def returning_sql(self, columns: list[str]) -> str:
        return "RETURNING " + ", ".join(columns)

    def insert_default_values_sql(self, table: str) -> str:
        """An INSERT of a row with only default values."""
        return f"INSERT INTO {table} DEFAULT VALUES"

    def on_conflict_sql(
        self,
        ignore_conflicts: bool,
        update_columns: list[str] | None = None,
        unique_columns: list[str] | None = None,
    ) -> str:
        """``ON CONFLICT ...`` for ``bulk_create(ignore_conflicts=/update_conflicts=)``."""
        if ignore_conflicts:
            return "ON CONFLICT DO NOTHING"
        if update_columns:
            target = f"({', '.join(unique_columns)}) " if unique_columns else ""
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update_columns)
            return f"ON CONFLICT {target}DO UPDATE SET {sets}"
        return ""

    def bulk_batch_size(self, num_fields: int, num_objs: int) -> int:
        """How many rows one multi-row INSERT (or CASE WHEN UPDATE) may carry."""
        max_params = self.wrapper.features.max_query_params
        if not max_params or num_fields <= 0:
            return max(num_objs, 1)
        return max(1, min(num_objs, max_params // num_fields))

    def aggregate_filter_sql(self, aggregate_sql: str, condition_sql: str) -> str:
        """``Count(..., filter=Q(...))``: the standard FILTER clause (SQLite >= 3.30, PostgreSQL)."""
        return f"{aggregate_sql} FILTER (WHERE {condition_sql})"

    # -- JSON ------------------------------------------------------------------
    # The defaults are SQL/JSON-path style (SQLite's JSON1, DuckDB); PostgreSQL
    # overrides them with jsonb operators.  Key paths are always parameters.

    def json_path_param(self, keys: tuple[str, ...]) -> Any:
        """The one parameter naming a key path: ``$."owner"."name"``, ``$."tags"[0]`` for digits.

        Key names are JSON-quoted inside the path string, which travels as a
        driver parameter, so no key text ever reaches the SQL.
        """
        import json

        parts = ["$"]
        for key in keys:
            parts.append(f"[{key}]" if key.isdigit() else "." + json.dumps(key))
        return "".join(parts)

    def json_key_param(self, key: str) -> Any:
        """The parameter for one top-level key of ``has_key``/``has_keys``/``has_any_keys``."""
        return self.json_path_param((key,))

    def json_extract_sql(self, lhs: str, path: str) -> str:
        """The value at ``path`` (a placeholder) in a form comparable to :meth:`json_value_sql`."""
        return f"json_extract({lhs}, {path})"

    def json_extract_text_sql(self, lhs: str, path: str) -> str:
        """The value at ``path`` as text (strings unquoted), for ``icontains`` and friends."""
        return f"json_extract({lhs}, {path})"

    def json_select_sql(self, lhs: str, path: str) -> str:
        """The value at ``path`` as JSON text (what ``values("data__owner")`` reads back)."""
        return f"({lhs} -> {path})"

    def json_value_sql(self, placeholder: str) -> str:
        """A JSON-encoded parameter turned into a value comparable to :meth:`json_extract_sql`."""
        return f"json_extract({placeholder}, '$')"

    def json_compare_sql(self, lookup_name: str, lhs: str, values: list[str]) -> str:
        """``gt``/``gte``/``lt``/``lte`` (one value) or ``range`` (two) between JSON values."""
        if lookup_name == "range":
            return f"{lhs} BETWEEN {values[0]} AND {values[1]}"
        return self.lookup_sql(lookup_name, lhs, values[0])

    def json_bool_exact_sql(self, lhs: str, path: str, value: str, placeholder: str) -> str:
        """``data__k=True``: ``placeholder`` is ``'true'``/``'false'``; ``value`` is :meth:`json_value_sql` of it.

        The default asks ``json_type`` (SQLite reads JSON booleans back as 1/0, so
        an equality would also match the number 1).
        """
        return f"json_type({lhs}, {path}) = {placeholder}"

    def json_is_null_sql(self, lhs: str, path: str) -> str:
        """Whether the value at ``path`` is JSON null (``data__k=None``; a missing key is not)."""
        return f"json_type({lhs}, {path}) = 'null'"

    def json_has_path_sql(self, lhs: str, path: str, present: bool = True) -> str:
        """Whether ``path`` exists in ``lhs`` (a JSON null value counts as present)."""
        return f"json_type({lhs}, {path}) IS {'NOT ' if present else ''}NULL"

    def json_has_keys_sql(self, lhs: str, placeholders: list[str], any_key: bool) -> str:
        """``has_key``/``has_keys`` (all) or ``has_any_keys`` (``any_key``): one parameter per key."""
        joiner = " OR " if any_key else " AND "
        return joiner.join(self.json_has_path_sql(lhs, ph) for ph in placeholders)

    def json_contains_sql(self, lookup_name: str, lhs: str, rhs: str) -> str:
        """``contains`` / ``contained_by`` (JSON containment); only with ``supports_json_field_contains``."""
        from dorm.exceptions import NotSupportedError

        raise NotSupportedError(
            f"The {lookup_name!r} lookup on a JSONField needs JSON containment, which the "
            f"{self.wrapper.vendor} backend does not support (features.supports_json_field_contains is False). "
            "Filter on keys instead, e.g. data__owner='x' or data__has_key='owner'."
        )
