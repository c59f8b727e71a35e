"""Introspection of the live schema, used by ``dorm dbcheck`` and ``dorm inspectdb``.

A backend implements :meth:`table_names`, :meth:`get_table_description`,
:meth:`get_constraints` and :meth:`get_relations`; the rest derive from
them.  Every method takes an optional ``connection`` (a backend connection,
e.g. the schema editor's inside a migration); without one a connection is
checked out per query.

Shapes (plain data, so ``dbcheck`` compares backends alike):

* :class:`ColumnInfo`: ``name``, ``type`` (lower-case, as the backend's
  ``schema_editor_class.data_types`` spells it after :meth:`normalize_type`),
  ``null``, ``default`` (the SQL text or ``None``), ``primary_key``.
* constraints: ``{name: {"columns": [...], "primary_key": bool, "unique": bool,
  "index": bool, "check": bool, "foreign_key": (table, column) | None}}``.
  ``index`` is True only for indexes created with ``CREATE INDEX`` (not for the
  index behind a UNIQUE constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseConnection

__all__ = ["BaseDatabaseIntrospection", "ColumnInfo"]


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    null: bool
    default: str | None = None
    primary_key: bool = False


class BaseDatabaseIntrospection:
    #: Tables that belong to the database or to dorm itself and are never reported.
    ignored_tables: frozenset[str] = frozenset({"dorm_migrations", "dorm_migration_progress", "dorm_migration_lock"})
    #: Live column type (normalised) -> field class name, for ``inspectdb``.
    data_types_reverse: dict[str, str] = {
        "integer": "IntegerField",
        "int": "IntegerField",
        "bigint": "BigIntegerField",
        "smallint": "SmallIntegerField",
        "boolean": "BooleanField",
        "bool": "BooleanField",
        "text": "TextField",
        "varchar": "CharField",
        "char": "CharField",
        "real": "FloatField",
        "double precision": "FloatField",
        "float": "FloatField",
        "decimal": "DecimalField",
        "numeric": "DecimalField",
        "date": "DateField",
        "datetime": "DateTimeField",
        "timestamp": "DateTimeField",
        "timestamp with time zone": "DateTimeField",
        "time": "TimeField",
        "blob": "BinaryField",
        "bytea": "BinaryField",
        "uuid": "UUIDField",
        "json": "JSONField",
        "jsonb": "JSONField",
    }

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self.wrapper = wrapper

    # -- running queries -------------------------------------------------------

    def query(self, sql: str, params: Any = None, connection: BaseConnection | None = None) -> list[tuple[Any, ...]]:
        """Rows of one query, on ``connection`` or a fresh checkout of this alias."""
        from dorm.backends.base.statement import FETCH_ALL, Statement
        from dorm.db.executor import run, run_on

        stmt = Statement(self.wrapper.alias, sql, params, fetch=FETCH_ALL)
        if connection is None:
            run(stmt, "introspect")
        else:
            run_on(connection, stmt)
        return list(stmt.rows or [])

    # -- the SPI -----------------------------------------------------------------

    def table_names(self, connection: BaseConnection | None = None) -> list[str]:
        """User tables, sorted (dorm's own recorder table included)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement table_names()")

    def get_table_description(self, table: str, connection: BaseConnection | None = None) -> list[ColumnInfo]:
        """Columns of ``table`` in table order."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_table_description()")

    def get_constraints(self, table: str, connection: BaseConnection | None = None) -> dict[str, dict[str, Any]]:
        """Primary key, unique and check constraints, foreign keys and indexes of ``table``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_constraints()")

    def get_relations(self, table: str, connection: BaseConnection | None = None) -> dict[str, tuple[str, str]]:
        """``{column: (referenced table, referenced column)}`` for every foreign key."""
        relations: dict[str, tuple[str, str]] = {}
        for info in self.get_constraints(table, connection).values():
            fk = info.get("foreign_key")
            if fk and len(info["columns"]) == 1:
                relations[info["columns"][0]] = (fk[0], fk[1])
        return relations

    def get_indexes(self, table: str, connection: BaseConnection | None = None) -> dict[str, dict[str, Any]]:
        """Indexes created with ``CREATE [UNIQUE] INDEX`` (not those behind constraints)."""
        return {name: info for name, info in self.get_constraints(table, connection).items() if info.get("index")}

    def get_primary_key(self, table: str, connection: BaseConnection | None = None) -> str | None:
        for column in self.get_table_description(table, connection):
            if column.primary_key:
                return column.name
        return None

    def normalize_type(self, sql_type: str) -> str:
        """A type spelling both sides of ``dbcheck`` agree on (lower case, single spaces)."""
        return " ".join(sql_type.lower().replace(" (", "(").replace(", ", ",").split())

    def field_class_for(self, sql_type: str) -> tuple[str, dict[str, Any]]:
        """``inspectdb``: the field class name and keyword arguments for a live column type."""
        normalized = self.normalize_type(sql_type)
        base, _, rest = normalized.partition("(")
        base = base.strip()
        kwargs: dict[str, Any] = {}
        args = [a for a in rest.rstrip(")").split(",") if a.strip()] if rest else []
        name = self.data_types_reverse.get(base)
        if name is None:
            if "char" in base or "clob" in base:
                name = "CharField" if args else "TextField"
            elif "int" in base:
                name = "IntegerField"
            else:
                name = "TextField"
        if name == "CharField":
            kwargs["max_length"] = int(args[0]) if args else 255
        if name == "DecimalField":
            kwargs["max_digits"] = int(args[0]) if args else 10
            kwargs["decimal_places"] = int(args[1]) if len(args) > 1 else 2
        return name, kwargs
