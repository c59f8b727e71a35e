"""Introspection of a live DuckDB schema through ``duckdb_tables()``, ``duckdb_columns()``,
``duckdb_constraints()`` and ``duckdb_indexes()`` (the ``main`` schema of the current database)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from dorm.backends.base.introspection import BaseDatabaseIntrospection, ColumnInfo

if TYPE_CHECKING:
    from dorm.backends.base.connection import BaseConnection

__all__ = ["DatabaseIntrospection"]

#: DuckDB's spelling of a type -> the schema editor's.
_TYPE_ALIASES: Final = {
    "timestamp with time zone": "timestamptz",
    "timestamp_s": "timestamp",
    "timestamp_ms": "timestamp",
    "timestamp_ns": "timestamp",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "float8": "double",
    "float": "real",
    "text": "varchar",
    "string": "varchar",
    "bool": "boolean",
    "bytea": "blob",
}


class DatabaseIntrospection(BaseDatabaseIntrospection):
    data_types_reverse: dict[str, str] = {
        **BaseDatabaseIntrospection.data_types_reverse,
        "varchar": "TextField",
        "double": "FloatField",
        "timestamptz": "DateTimeField",
        "interval": "DurationField",
        "hugeint": "DecimalField",
        "tinyint": "SmallIntegerField",
    }

    def normalize_type(self, sql_type: str) -> str:
        normalized = super().normalize_type(sql_type)
        return _TYPE_ALIASES.get(normalized, normalized)

    def table_names(self, connection: BaseConnection | None = None) -> list[str]:
        rows = self.query(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database() "
            "AND NOT temporary ORDER BY table_name",
            connection=connection,
        )
        return [str(r[0]) for r in rows]

    def get_table_description(self, table: str, connection: BaseConnection | None = None) -> list[ColumnInfo]:
        pk_columns = {
            name
            for info in self.get_constraints(table, connection).values()
            if info["primary_key"]
            for name in info["columns"]
        }
        rows = self.query(
            "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
            "WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database() ORDER BY column_index",
            [table],
            connection=connection,
        )
        return [
            ColumnInfo(
                name=name,
                type=self.normalize_type(data_type),
                null=bool(nullable),
                default=None if default is None else str(default),
                primary_key=name in pk_columns,
            )
            for name, data_type, nullable, default in rows
        ]

    def get_constraints(self, table: str, connection: BaseConnection | None = None) -> dict[str, dict[str, Any]]:
        constraints: dict[str, dict[str, Any]] = {}
        rows = self.query(
            "SELECT constraint_type, constraint_name, constraint_column_names, referenced_table, referenced_column_names "
            "FROM duckdb_constraints() WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database() "
            "AND constraint_type <> 'NOT NULL' ORDER BY constraint_index",
            [table],
            connection=connection,
        )
        for kind, name, columns, ref_table, ref_columns in rows:
            constraints[name] = {
                "columns": list(columns or []),
                "primary_key": kind == "PRIMARY KEY",
                "unique": kind in ("PRIMARY KEY", "UNIQUE"),
                "index": False,
                "check": kind == "CHECK",
                "foreign_key": (ref_table, ref_columns[0]) if kind == "FOREIGN KEY" and ref_columns else None,
            }
        for name, unique, expressions in self.query(
            "SELECT index_name, is_unique, expressions FROM duckdb_indexes() "
            "WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database()",
            [table],
            connection=connection,
        ):
            constraints[name] = {
                "columns": _index_columns(expressions),
                "primary_key": False,
                "unique": bool(unique),
                "index": True,
                "check": False,
                "foreign_key": None,
            }
        return constraints


def _index_columns(expressions: Any) -> list[str]:
    """``duckdb_indexes().expressions`` (a list, or its text ``[a, '"b c"']``) as column names."""
    items = expressions if isinstance(expressions, list) else str(expressions or "").strip().strip("[]").split(",")
    columns: list[str] = []
    for item in items:
        text = str(item).strip().strip("'").strip()
        if text.startswith('"') and text.endswith('"') and len(text) > 1:
            text = text[1:-1].replace('""', '"')
        if text:
            columns.append(text)
    return columns
