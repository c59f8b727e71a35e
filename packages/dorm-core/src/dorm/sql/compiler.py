"""The SQL compiler: a visitor over the query's node tree.

Each ``visit_<node>`` method returns ``(sql, params)``.  A backend subclasses
:class:`SQLCompiler` (``DatabaseWrapper.compiler_class``) and overrides only
what differs; dialect details come from ``wrapper.ops``.

The parameter order of every method here is mirrored by the nodes' ``key``
methods (see ``dorm.sql.query``): the compile cache stores only the SQL and
takes the parameters from the key walk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dorm.exceptions import NotSupportedError

if TYPE_CHECKING:
    from dorm.expressions import Expression
    from dorm.sql.query import Query, WhereNode

__all__ = ["SQLCompiler", "compile_stats"]

#: How many full compilations ran (tests assert cache hits with it).
compile_stats: dict[str, int] = {"compiles": 0}

SQLResult = tuple[str, list[Any]]


class SQLCompiler:
    """Compiles ``Query`` objects for one backend wrapper."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper
        self.ops = wrapper.ops
        self.features = wrapper.features
        self.quote = wrapper.ops.quote_name
        self.ph = wrapper.ops.param_placeholder
        self._negation_depth = 0

    # -- dispatch -------------------------------------------------------------

    def compile(self, node: Expression) -> SQLResult:
        method = getattr(self, "visit_" + node.visit_name, None)
        if method is None:
            raise NotSupportedError(f"The {self.wrapper.vendor} backend cannot compile {type(node).__name__} nodes.")
        result: SQLResult = method(node)
        return result

    # -- leaves ---------------------------------------------------------------

    def visit_col(self, node: Any) -> SQLResult:
        q = self.quote
        return f"{q(node.alias)}.{q(node.column)}", []

    def visit_value(self, node: Any) -> SQLResult:
        return self.ph, [node.prepared(self.wrapper)]

    def visit_star(self, node: Any) -> SQLResult:
        return "*", []

    def visit_ref(self, node: Any) -> SQLResult:
        return self.quote(node.name), []

    def visit_raw(self, node: Any) -> SQLResult:
        sql = self.ops.convert_raw_placeholders(node.sql, node.params) if node.params else node.sql
        return f"({sql})", list(node.params)

    def visit_pending_outer_ref(self, node: Any) -> SQLResult:
        from dorm.exceptions import FieldError

        raise FieldError(f"OuterRef({node.name!r}) is only allowed inside Subquery() or Exists().")

    def visit_nothing(self, node: Any) -> SQLResult:
        return "1 = 0", []

    def visit_random(self, node: Any) -> SQLResult:
        return self.ops.random_function_sql(), []

    # -- composite expressions ------------------------------------------------

    def visit_combined(self, node: Any) -> SQLResult:
        lhs, lp = self.compile(node.lhs)
        rhs, rp = self.compile(node.rhs)
        return f"({lhs} {self.ops.combine_operator(node.connector)} {rhs})", lp + rp

    def visit_wrapper(self, node: Any) -> SQLResult:
        return self.compile(node.expression)

    def _compile_each(self, exprs: Any) -> tuple[list[str], list[Any]]:
        """The SQL of each expression, and their parameters in order."""
        parts: list[str] = []
        params: list[Any] = []
        for e in exprs:
            sql, p = self.compile(e)
            parts.append(sql)
            params.extend(p)
        return parts, params

    def visit_func(self, node: Any) -> SQLResult:
        parts, params = self._compile_each(node.source_expressions)
        return f"{node.function}({', '.join(parts)})", params

    def visit_length(self, node: Any) -> SQLResult:
        sql, params = self.compile(node.source_expressions[0])
        return f"{self.ops.length_function()}({sql})", params

    def visit_concat(self, node: Any) -> SQLResult:
        parts, params = self._compile_each(node.source_expressions)
        return self.ops.concat_sql(parts), params

    def visit_now(self, node: Any) -> SQLResult:
        return self.ops.now_sql(), []

    def visit_cast(self, node: Any) -> SQLResult:
        sql, params = self.compile(node.source_expressions[0])
        db_type = node.output_field.db_type(self.wrapper)
        return self.ops.cast_sql(sql, db_type), params

    def visit_aggregate(self, node: Any) -> SQLResult:
        parts, params = self._compile_each(node.source_expressions)
        distinct = "DISTINCT " if node.distinct else ""
        sql = f"{node.function}({distinct}{', '.join(parts)})"
        if node.filter is not None:
            cond, cp = self.compile(node.filter)
            sql = self.ops.aggregate_filter_sql(sql, cond)
            params.extend(cp)
        return sql, params

    def visit_extract(self, node: Any) -> SQLResult:
        sql, params = self.compile(node.lhs)
        return self.ops.date_extract_sql(node.lookup_name, sql), params

    def visit_date_cast(self, node: Any) -> SQLResult:
        sql, params = self.compile(node.lhs)
        return self.ops.date_cast_sql(sql), params

    def visit_when(self, node: Any) -> SQLResult:
        cond, cp = self.compile(node.condition)
        result, rp = self.compile(node.result)
        return f"WHEN {cond} THEN {result}", cp + rp

    def visit_case(self, node: Any) -> SQLResult:
        parts: list[str] = []
        params: list[Any] = []
        for case in node.cases:
            sql, p = self.compile(case)
            parts.append(sql)
            params.extend(p)
        default, dp = self.compile(node.default)
        return f"CASE {' '.join(parts)} ELSE {default} END", params + dp

    def visit_subquery(self, node: Any) -> SQLResult:
        sql, params = self.compile_select(node.query)
        return f"({sql})", params

    def visit_exists(self, node: Any) -> SQLResult:
        sql, params = self.compile_select(node.query)
        return f"EXISTS ({sql})", params

    def visit_order_by(self, node: Any) -> SQLResult:
        sql, params = self.compile(node.expression)
        sql += " DESC" if node.descending else " ASC"
        if node.nulls_first or node.nulls_last:
            if not self.features.supports_order_by_nulls_modifier:
                raise NotSupportedError(f"The {self.wrapper.vendor} backend does not support NULLS FIRST/LAST.")
            sql += " NULLS FIRST" if node.nulls_first else " NULLS LAST"
        return sql, params

    # -- conditions -----------------------------------------------------------

    def visit_where(self, node: WhereNode) -> SQLResult:
        if node.negated:
            self._negation_depth += 1
        try:
            parts: list[str] = []
            params: list[Any] = []
            for child in node.nodes:
                sql, p = self.compile(child)
                if sql:
                    parts.append(sql)
                    params.extend(p)
        finally:
            if node.negated:
                self._negation_depth -= 1
        if not parts:
            sql = ""
        elif len(parts) == 1:
            sql = parts[0]
        else:
            sql = f" {node.connector} ".join(f"({p})" for p in parts)
        if node.negated:
            return (f"NOT ({sql})" if sql else "1 = 0"), params
        return sql, params

    def visit_lookup(self, node: Any) -> SQLResult:
        lhs, params = self.compile(node.lhs)
        name = node.lookup_name
        rhs = node.rhs
        from dorm.expressions import Expression

        if name == "isnull":
            return (f"{lhs} IS NULL" if rhs else f"{lhs} IS NOT NULL"), params
        if isinstance(rhs, Expression):
            rhs_sql, rp = self.compile(rhs)
            params = params + rp
            if name == "in":
                sql = f"{lhs} IN {rhs_sql}"
            else:
                sql = self.ops.lookup_sql(name, lhs, rhs_sql)
        else:
            values = node.rhs_params(self.wrapper)
            params = params + values
            ph = self.ph
            if name == "in":
                sql = f"{lhs} IN ({', '.join([ph] * len(values))})"
            elif name == "range":
                sql = f"{lhs} BETWEEN {ph} AND {ph}"
            elif name in ("regex", "iregex"):
                if not self.features.supports_regex:
                    raise NotSupportedError(f"The {self.wrapper.vendor} backend does not support regex lookups.")
                sql = self.ops.lookup_sql(name, lhs, ph)
            else:
                sql = self.ops.lookup_sql(name, lhs, ph)
        if self._negation_depth and _nullable(node.lhs):
            # Under NOT, a NULL column must make the condition false (not unknown), so
            # exclude(x=1) keeps rows where x IS NULL, as a Python reader expects.
            sql = f"({sql} AND {lhs} IS NOT NULL)"
        return sql, params

    # -- JSON (see dorm.lookups_json) -------------------------------------------

    def _json_path(self, node: Any) -> tuple[str, list[Any]]:
        """(compiled JSON expression under a key-transform chain, params + the path parameter)."""
        base, keys = node.path()
        sql, params = self.compile(base)
        return sql, [*params, self.ops.json_path_param(keys)]

    def visit_json_key(self, node: Any) -> SQLResult:
        sql, params = self._json_path(node)
        return self.ops.json_select_sql(sql, self.ph), params

    def visit_json_key_lookup(self, node: Any) -> SQLResult:
        from dorm.lookups_json import TEXT_KEY_LOOKUPS

        name = node.lookup_name
        base, params = self._json_path(node.lhs)
        ops = self.ops
        ph = self.ph
        if name == "isnull":
            return ops.json_has_path_sql(base, ph, present=not node.rhs), params
        if name == "exact" and node.rhs is None:
            sql = ops.json_is_null_sql(base, ph)
            return (f"COALESCE({sql}, FALSE)" if self._negation_depth else sql), params
        values = node.rhs_params(self.wrapper)
        params = params + values
        if name in TEXT_KEY_LOOKUPS:
            if name in ("regex", "iregex") and not self.features.supports_regex:
                raise NotSupportedError(f"The {self.wrapper.vendor} backend does not support regex lookups.")
            sql = ops.lookup_sql(name, ops.json_extract_text_sql(base, ph), ph)
        else:
            lhs = ops.json_extract_sql(base, ph)
            value = ops.json_value_sql(ph)
            if name == "in":
                sql = f"{lhs} IN ({', '.join([value] * len(values))})" if values else "1 = 0"
            elif name == "exact" and isinstance(node.rhs, bool):
                sql = ops.json_bool_exact_sql(base, ph, value, ph)
            elif name == "exact":
                sql = ops.lookup_sql(name, lhs, value)
            else:
                sql = ops.json_compare_sql(name, lhs, [value] * len(values))
        if self._negation_depth:
            # a missing key makes the comparison NULL; under NOT it must count as "no match"
            sql = f"COALESCE({sql}, FALSE)"
        return sql, params

    def visit_json_lookup(self, node: Any) -> SQLResult:
        lhs, params = self.compile(node.lhs)
        name = node.lookup_name
        values = node.rhs_params(self.wrapper)
        if name in ("contains", "contained_by"):
            if not self.features.supports_json_field_contains:
                raise NotSupportedError(
                    f"The {name!r} lookup on a JSONField needs JSON containment, which the "
                    f"{self.wrapper.vendor} backend does not support. Filter on keys instead "
                    "(data__owner='x', data__has_key='owner')."
                )
            sql = self.ops.json_contains_sql(name, lhs, self.ph)
        else:
            sql = self.ops.json_has_keys_sql(lhs, [self.ph] * len(values), name == "has_any_keys")
        if self._negation_depth:
            # a NULL document makes the test NULL; under NOT it must count as "no match"
            sql = f"COALESCE({sql}, FALSE)"
        elif len(values) > 1:
            sql = f"({sql})"
        return sql, params + values

    # -- statements -----------------------------------------------------------

    def compile_query(self, query: Query) -> tuple[str, list[Any], Any]:
        """``(sql, params, row_plan)`` for any query kind."""
        compile_stats["compiles"] += 1
        kind = query.kind
        if kind == "select":
            from dorm.sql.hydration import build_plan

            sql, params, columns = self._select(query)
            return sql, params, build_plan(query, columns, self.wrapper)
        if kind == "update":
            sql, params = self.compile_update(query)
            return sql, params, None
        if kind == "delete":
            sql, params = self.compile_delete(query)
            return sql, params, None
        raise NotSupportedError(f"Unknown query kind {kind!r}")

    def compile_select(self, query: Query) -> SQLResult:
        sql, params, _columns = self._select(query)
        return sql, params

    def _select_list(self, query: Query) -> tuple[list[str], list[Any], list[Any]]:
        """(column SQL, params, column descriptors) in select order."""
        q = self.quote
        cols: list[str] = []
        params: list[Any] = []
        described: list[Any] = []
        if query.is_exists:
            return ["1"], [], []
        if query.values_select is not None:
            for name in query.values_select:
                expr = query.select_exprs[name]
                sql, p = self.compile(expr)
                if name in query.annotations:
                    sql = f"{sql} AS {q(name)}"
                cols.append(sql)
                params.extend(p)
                described.append(("value", name, expr.output_field))
            return cols, params, described
        base = query.base_alias
        for f in query.loaded_fields(query.model):
            cols.append(f"{q(base)}.{q(f.column)}")
            described.append(("field", (), f))
        if query.select_related:
            self._related_columns(query.select_related, (), cols, described)
        for name, expr in query.selected_annotations():
            sql, p = self.compile(expr)
            cols.append(f"{sql} AS {q(name)}")
            params.extend(p)
            described.append(("annotation", name, expr.output_field))
        return cols, params, described

    def _related_columns(self, tree: Any, path: tuple[str, ...], cols: list[str], described: list[Any]) -> None:
        q = self.quote
        for name, sel in tree.items():
            sub = (*path, name)
            for f in sel.model._meta.concrete_fields:
                cols.append(f"{q(sel.alias)}.{q(f.column)}")
                described.append(("field", sub, f))
            self._related_columns(sel.children, sub, cols, described)

    def _from(self, query: Query) -> str:
        q = self.quote
        parts: list[str] = []
        for alias, join in query.alias_map.items():
            if join is None:
                table = query.model._meta.db_table
                parts.append(q(table) if alias == table else f"{q(table)} {q(alias)}")
                continue
            kind = "LEFT OUTER JOIN" if join.nullable else "INNER JOIN"
            table = q(join.table) if join.alias == join.table else f"{q(join.table)} {q(join.alias)}"
            parts.append(
                f"{kind} {table} ON ({q(join.parent_alias)}.{q(join.parent_column)} = {q(join.alias)}.{q(join.column)})"
            )
        return " ".join(parts)

    def _select(self, query: Query) -> tuple[str, list[Any], list[Any]]:
        if query.combinator:
            return self._combined(query)
        if query.is_empty:
            raise NotSupportedError("empty queries are not compiled")
        cols, params, described = self._select_list(query)
        sql = ["SELECT"]
        if query.distinct:
            fields: list[str] = []
            for c in query.distinct_fields:
                s, p = self.compile(c)
                fields.append(s)
                params.extend(p)
            sql.append(self.ops.distinct_sql(fields))
            if not fields and not query.is_exists:
                # SELECT DISTINCT needs its ORDER BY terms selected (PostgreSQL insists):
                # parameterless ones are added at the end, where hydration ignores them.
                for term in query.effective_ordering():
                    expr = term.expression
                    if expr.visit_name == "ref":
                        continue
                    extra, extra_params = self.compile(expr)
                    if not extra_params and extra not in cols:
                        cols.append(extra)
                        described.append(("extra", "", None))
        sql.append(", ".join(cols))
        sql.append("FROM " + self._from(query))
        where, having = (None, None) if query.where is None else query.where.split_having()
        if where is not None:
            wsql, wp = self.compile(where)
            if wsql:
                sql.append("WHERE " + wsql)
                params.extend(wp)
        group = self._group_by(query, described, cols)
        if group:
            sql.append("GROUP BY " + ", ".join(group))
        if having is not None:
            hsql, hp = self.compile(having)
            if hsql:
                sql.append("HAVING " + hsql)
                params.extend(hp)
        order = query.effective_ordering()
        if order:
            items: list[str] = []
            for o in order:
                s, p = self.compile(o)
                items.append(s)
                params.extend(p)
            sql.append("ORDER BY " + ", ".join(items))
        if query.low or query.high is not None:
            lsql, lp = self.ops.limit_offset_sql(query.low, query.high)
            sql.append(lsql)
            params.extend(lp)
        if query.for_update is not None:
            if not self.features.supports_select_for_update:
                raise NotSupportedError(
                    f"select_for_update() is not supported by the {self.wrapper.vendor} backend "
                    "(writers already serialise on the database lock)."
                )
            nowait, skip_locked, of = query.for_update
            sql.append(
                self.ops.for_update_sql(nowait=nowait, skip_locked=skip_locked, of=tuple(self._of_aliases(query, of)))
            )
        return " ".join(sql), params, described

    def _of_aliases(self, query: Query, of: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for name in of:
            if name == "self":
                out.append(query.base_alias)
            elif query.select_related and name in query.select_related:
                out.append(query.select_related[name].alias)
            else:
                from dorm.exceptions import FieldError

                raise FieldError(
                    f"select_for_update(of=...) names {name!r}, which is not 'self' or a select_related path."
                )
        return out

    def _group_by(self, query: Query, described: list[Any], cols: list[str]) -> list[str]:
        if query.group_by is not None:
            out: list[str] = []
            for e in query.group_by:
                s, _p = self.compile(e)
                out.append(s)
            return out
        if query.values_select is None and query.has_aggregates() and not query.is_exists:
            return [c for c, d in zip(cols, described, strict=True) if d[0] == "field"]
        return []

    def _combined(self, query: Query) -> tuple[str, list[Any], list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        described: list[Any] = []
        op = " " + query.combinator.upper() + " "  # type: ignore[union-attr]
        for i, sub in enumerate(query.combined):
            s, p, d = self._select(sub)
            parts.append(s)
            params.extend(p)
            if i == 0:
                described = d
        sql = op.join(parts)
        order = query.effective_ordering()
        if order:
            items: list[str] = []
            for o in order:
                s, p = self._order_by_position(o, query.combined[0], described)
                items.append(s)
                params.extend(p)
            sql += " ORDER BY " + ", ".join(items)
        if query.low or query.high is not None:
            lsql, lp = self.ops.limit_offset_sql(query.low, query.high)
            sql += " " + lsql
            params.extend(lp)
        return sql, params, described

    def _order_by_position(self, order: Any, first: Query, described: list[Any]) -> SQLResult:
        """ORDER BY of a UNION names result columns by position."""
        from dorm.exceptions import FieldError
        from dorm.expressions import Col, Ref

        expr = order.expression
        position = 0
        for i, d in enumerate(described, start=1):
            if isinstance(expr, Col) and d[0] == "field" and not d[1] and d[2].column == expr.column:
                position = i
            elif isinstance(expr, Col) and d[0] == "value" and getattr(d[2], "column", None) == expr.column:
                position = i
            elif isinstance(expr, Ref) and d[1] == expr.name:
                position = i
            if position:
                break
        else:
            raise FieldError(f"ORDER BY term {expr!r} of a union must be one of the selected columns.")
        sql = f"{position} {'DESC' if order.descending else 'ASC'}"
        return sql, []

    def _pk_subquery(self, query: Query) -> SQLResult:
        from dorm.sql.query import pk_subquery

        return self.compile_select(pk_subquery(query))

    def _needs_pk_subquery(self, query: Query) -> bool:
        return query.needs_pk_subquery()

    def compile_update(self, query: Query) -> SQLResult:
        q = self.quote
        table = q(query.model._meta.db_table)
        sets: list[str] = []
        params: list[Any] = []
        for field, expr in query.update_values:
            s, p = self.compile(expr)
            sets.append(f"{q(field.column)} = {s}")
            params.extend(p)
        sql = f"UPDATE {table} SET {', '.join(sets)}"
        return self._dml_where(query, sql, params)

    def compile_delete(self, query: Query) -> SQLResult:
        table = self.quote(query.model._meta.db_table)
        return self._dml_where(query, f"DELETE FROM {table}", [])

    def _dml_where(self, query: Query, sql: str, params: list[Any]) -> SQLResult:
        q = self.quote
        if self._needs_pk_subquery(query):
            sub, sp = self._pk_subquery(query)
            pk = query.model._meta.pk
            return f"{sql} WHERE {q(query.model._meta.db_table)}.{q(pk.column)} IN ({sub})", params + sp
        if query.where is not None:
            wsql, wp = self.compile(query.where)
            if wsql:
                return f"{sql} WHERE {wsql}", params + wp
        return sql, params

    # -- INSERT -----------------------------------------------------------------

    def compile_insert(
        self,
        model: Any,
        fields: list[Any],
        num_rows: int,
        *,
        returning: list[Any] | None = None,
        ignore_conflicts: bool = False,
        update_fields: list[Any] | None = None,
        unique_fields: list[Any] | None = None,
    ) -> str:
        """``INSERT INTO t (cols) VALUES (...), (...) [ON CONFLICT ...] [RETURNING ...]`` (SQL only)."""
        compile_stats["compiles"] += 1
        q = self.quote
        table = q(model._meta.db_table)
        if not fields:
            sql = self.ops.insert_default_values_sql(table)
        else:
            row = "(" + ", ".join([self.ph] * len(fields)) + ")"
            sql = f"INSERT INTO {table} ({', '.join(q(f.column) for f in fields)}) VALUES " + ", ".join(
                [row] * num_rows
            )
        conflict = self.ops.on_conflict_sql(
            ignore_conflicts,
            [q(f.column) for f in update_fields] if update_fields else None,
            [q(f.column) for f in unique_fields] if unique_fields else None,
        )
        if conflict:
            sql += " " + conflict
        if returning:
            sql += " " + self.ops.returning_sql([q(f.column) for f in returning])
        return str(sql)


def _nullable(expr: Any) -> bool:
    from dorm.expressions import Col

    while not isinstance(expr, Col):
        lhs = getattr(expr, "lhs", None)
        if lhs is None:
            return True
        expr = lhs
    return bool(getattr(expr.field, "null", True))
