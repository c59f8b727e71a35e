"""Live-schema introspection for SQLite (``dbcheck`` / ``inspectdb``).

Reads ``sqlite_master`` and the ``table_info`` / ``index_list`` /
``index_info`` / ``foreign_key_list`` pragmas.  SQLite does not keep the
names of table-level UNIQUE and CHECK constraints anywhere but in the
``CREATE TABLE`` text, so those are parsed from it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dorm.backends.base.introspection import BaseDatabaseIntrospection, ColumnInfo

if TYPE_CHECKING:
    from dorm.backends.base.connection import BaseConnection

__all__ = ["DatabaseIntrospection"]

_NAMED = re.compile(r'CONSTRAINT\s+"((?:[^"]|"")+)"\s+(UNIQUE|CHECK)\s*\(', re.IGNORECASE)


def _balanced(text: str, start: int) -> str:
    """The text inside the parenthesis opened just before ``start``."""
    depth = 1
    i = start
    while i < len(text) and depth:
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            i = end if end != -1 else len(text)
        i += 1
    return text[start : i - 1]


def _unquote(name: str) -> str:
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


class DatabaseIntrospection(BaseDatabaseIntrospection):
    def _q(self, name: str) -> str:
        return self.wrapper.ops.quote_name(name)

    def table_names(self, connection: BaseConnection | None = None) -> list[str]:
        rows = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            None,
            connection,
        )
        return [str(r[0]) for r in rows]

    def get_table_description(self, table: str, connection: BaseConnection | None = None) -> list[ColumnInfo]:
        rows = self.query(f"PRAGMA table_info({self._q(table)})", None, connection)
        return [
            ColumnInfo(
                name=str(r[1]),
                type=self.normalize_type(str(r[2] or "")),
                null=not r[3] and not r[5],
                default=r[4],
                primary_key=bool(r[5]),
            )
            for r in rows
        ]

    def _table_sql(self, table: str, connection: BaseConnection | None) -> str:
        rows = self.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table], connection)
        return str(rows[0][0] or "") if rows else ""

    def get_constraints(self, table: str, connection: BaseConnection | None = None) -> dict[str, dict[str, Any]]:
        constraints: dict[str, dict[str, Any]] = {}
        sql = self._table_sql(table, connection)
        named_unique: dict[tuple[str, ...], str] = {}
        for match in _NAMED.finditer(sql):
            name = match.group(1).replace('""', '"')
            body = _balanced(sql, match.end())
            if match.group(2).upper() == "UNIQUE":
                named_unique[tuple(_unquote(c) for c in body.split(","))] = name
            else:
                constraints[name] = {
                    "columns": [],
                    "primary_key": False,
                    "unique": False,
                    "index": False,
                    "check": True,
                    "foreign_key": None,
                    "sql": body,
                }
        for row in self.query(f"PRAGMA index_list({self._q(table)})", None, connection):
            name, unique, origin = str(row[1]), bool(row[2]), str(row[3])
            columns = [str(r[2]) for r in self.query(f"PRAGMA index_info({self._q(name)})", None, connection)]
            if origin == "pk":
                continue
            if origin == "u":
                name = named_unique.get(tuple(columns), name)
            constraints[name] = {
                "columns": columns,
                "primary_key": False,
                "unique": unique,
                "index": origin == "c",
                "check": False,
                "foreign_key": None,
                "partial": bool(row[4]) if len(row) > 4 else False,
            }
        pk = [c.name for c in self.get_table_description(table, connection) if c.primary_key]
        if pk:
            constraints["__primary__"] = {
                "columns": pk,
                "primary_key": True,
                "unique": True,
                "index": False,
                "check": False,
                "foreign_key": None,
            }
        for row in self.query(f"PRAGMA foreign_key_list({self._q(table)})", None, connection):
            ref_table, column, ref_column = str(row[2]), str(row[3]), row[4]
            if ref_column is None:
                ref_column = self.get_primary_key(ref_table, connection) or "id"
            constraints[f"__fk_{column}"] = {
                "columns": [column],
                "primary_key": False,
                "unique": False,
                "index": False,
                "check": False,
                "foreign_key": (ref_table, str(ref_column)),
            }
        return constraints
