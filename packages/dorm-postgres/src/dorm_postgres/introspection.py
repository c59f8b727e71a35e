"""Live-schema introspection for PostgreSQL (``dbcheck`` / ``inspectdb``), from ``pg_catalog``.

Only the tables of the connection's ``current_schema()`` are reported.
Types are spelt as the schema editor's ``data_types`` spell them
(``varchar(100)``, ``timestamp with time zone``, ``numeric(10,2)``,
``integer`` for an identity column), so both sides of ``dbcheck`` compare
as plain strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dorm.backends.base.introspection import BaseDatabaseIntrospection, ColumnInfo

if TYPE_CHECKING:
    from dorm.backends.base.connection import BaseConnection

__all__ = ["DatabaseIntrospection"]

_SPELLINGS: dict[str, str] = {
    "character varying": "varchar",
    "character": "char",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
}


class DatabaseIntrospection(BaseDatabaseIntrospection):
    data_types_reverse: ClassVar[dict[str, str]] = {  # type: ignore[misc]
        **BaseDatabaseIntrospection.data_types_reverse,
        "interval": "DurationField",
        "inet": "GenericIPAddressField",
        "cidr": "GenericIPAddressField",
        "timestamp with time zone": "DateTimeField",
        "time with time zone": "TimeField",
    }

    def normalize_type(self, sql_type: str) -> str:
        normalized = super().normalize_type(sql_type)
        base, paren, rest = normalized.partition("(")
        base = _SPELLINGS.get(base.strip(), base.strip())
        return base + paren + rest

    def table_names(self, connection: BaseConnection | None = None) -> list[str]:
        rows = self.query(
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname",
            None,
            connection,
        )
        return [str(r[0]) for r in rows]

    def get_table_description(self, table: str, connection: BaseConnection | None = None) -> list[ColumnInfo]:
        rows = self.query(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_catalog.pg_get_expr(d.adbin, d.adrelid), "
            "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary "
            "        AND a.attnum = ANY(i.indkey)) "
            "FROM pg_catalog.pg_attribute a "
            "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [self.wrapper.ops.quote_name(table)],
            connection,
        )
        return [
            ColumnInfo(
                name=str(name),
                type=self.normalize_type(str(sql_type)),
                null=not notnull,
                default=default,
                primary_key=bool(pk),
            )
            for name, sql_type, notnull, default, pk in rows
        ]

    def get_constraints(self, table: str, connection: BaseConnection | None = None) -> dict[str, dict[str, Any]]:
        regclass = self.wrapper.ops.quote_name(table)
        constraints: dict[str, dict[str, Any]] = {}
        rows = self.query(
            "SELECT con.conname, con.contype, "
            "ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) "
            "      JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), "
            "fc.relname, "
            "ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) "
            "      JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), "
            "pg_catalog.pg_get_constraintdef(con.oid), con.convalidated "
            "FROM pg_catalog.pg_constraint con "
            "LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid "
            "WHERE con.conrelid = to_regclass(%s)",
            [regclass],
            connection,
        )
        for name, kind, columns, ftable, fcolumns, definition, validated in rows:
            constraints[str(name)] = {
                "columns": list(columns),
                "primary_key": kind == "p",
                "unique": kind in ("p", "u"),
                "index": False,
                "check": kind == "c",
                "foreign_key": (str(ftable), str(fcolumns[0])) if kind == "f" and fcolumns else None,
                "definition": definition,
                "validated": bool(validated),
            }
        rows = self.query(
            "SELECT ic.relname, i.indisunique, "
            "ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k.ord::int, true) "
            "      FROM generate_subscripts(i.indkey, 1) WITH ORDINALITY k(sub, ord) ORDER BY k.ord), "
            "am.amname, pg_catalog.pg_get_expr(i.indpred, i.indrelid), i.indisvalid "
            "FROM pg_catalog.pg_index i "
            "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
            "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
            "WHERE i.indrelid = to_regclass(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))",
            [regclass],
            connection,
        )
        for name, unique, columns, method, predicate, valid in rows:
            constraints[str(name)] = {
                "columns": [str(c).strip('"') for c in columns],
                "primary_key": False,
                "unique": bool(unique),
                "index": True,
                "check": False,
                "foreign_key": None,
                "type": str(method),
                "condition": predicate,
                "valid": bool(valid),
            }
        return constraints
