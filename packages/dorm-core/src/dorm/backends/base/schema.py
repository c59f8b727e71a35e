"""The schema editor: DDL for migrations, generated through the backend.

Each backend subclasses :class:`BaseDatabaseSchemaEditor` and overrides only
what differs (SQLite rebuilds tables where it cannot ALTER; PostgreSQL adds
online operations).

What the editor reads from a model (duck-typed, so migration state renders
light stand-ins instead of real model classes): ``model._meta`` with
``db_table``, ``fields`` (concrete fields, in order), ``local_many_to_many``,
``unique_together``, ``indexes``, ``constraints``, ``model_name``; and from a
field: ``name``, ``column``, ``null``, ``unique``, ``primary_key``,
``db_index``, ``default`` / ``has_default()`` / ``get_default()``,
``db_default``, ``get_internal_type()``, ``max_length`` & co. (via
``db_type_parameters()``), ``remote_field`` (``model``, ``through``) for
relations.

The backend SPI a subclass may override, grouped:

* types: :attr:`data_types`, :attr:`data_types_suffix`,
  :attr:`data_type_check_constraints`, :meth:`column_type`, :meth:`quote_value`;
* DDL templates: the ``sql_*`` class attributes;
* whole operations: :meth:`create_model`, :meth:`delete_model`,
  :meth:`add_field`, :meth:`remove_field`, :meth:`alter_field`,
  :meth:`rename_field`, :meth:`alter_db_table`, :meth:`add_index`,
  :meth:`remove_index`, :meth:`add_constraint`, :meth:`remove_constraint`,
  :meth:`alter_unique_together`;
* online operations (``dorm.migrations.AddFieldOnline`` & co.):
  :meth:`add_field_online`, :meth:`backfill_range`, :meth:`set_not_null_online`,
  :meth:`add_index_concurrently` (defaults are the plain, blocking versions);
* concurrency: :meth:`lock_migrations` / :meth:`unlock_migrations` (serialise
  concurrent ``dorm migrate`` runs; PostgreSQL takes an advisory lock).
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.connection import BaseConnection

__all__ = ["BaseDatabaseSchemaEditor", "TableView", "column_of", "index_name"]

_NOT_PROVIDED_NAMES = ("NOT_PROVIDED", "NotProvided")


def _provided(value: Any) -> bool:
    return type(value).__name__ not in _NOT_PROVIDED_NAMES


def column_of(field: Any) -> str:
    """The column name of a (possibly unbound) field."""
    column = getattr(field, "column", None)
    if column:
        return str(column)
    if field.db_column:
        return str(field.db_column)
    if getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False):
        return f"{field.name}_id"
    return str(field.name)


def index_name(table: str, columns: Sequence[str], suffix: str) -> str:
    """A deterministic, length-bounded index/constraint name: ``<table>_<cols>_<hash>_<suffix>``."""
    digest = hashlib.md5((table + "|" + ",".join(columns) + "|" + suffix).encode(), usedforsecurity=False).hexdigest()[
        :8
    ]
    head = f"{table}_{'_'.join(columns)}"[:40]
    return f"{head}_{digest}_{suffix}"


@dataclass
class TableView:
    """What DDL needs to know about one table, read once from ``model._meta``.

    The SQLite table rebuild edits a copy of it (:func:`dataclasses.replace`).
    """

    model: Any
    db_table: str
    fields: list[Any]
    many_to_many: list[Any] = field(default_factory=list)
    unique_together: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[Any] = field(default_factory=list)
    constraints: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, model: Any) -> TableView:
        meta = model._meta
        return cls(
            model=model,
            db_table=meta.db_table,
            fields=[f for f in meta.fields if getattr(f, "concrete", True) and not getattr(f, "many_to_many", False)],
            many_to_many=list(getattr(meta, "local_many_to_many", ()) or ()),
            unique_together=[tuple(ut) for ut in (getattr(meta, "unique_together", ()) or ())],
            indexes=list(getattr(meta, "indexes", ()) or ()),
            constraints=list(getattr(meta, "constraints", ()) or ()),
        )

    def field_by_name(self, name: str) -> Any:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def column_for(self, name: str) -> str:
        try:
            return column_of(self.field_by_name(name))
        except KeyError:
            return name

    @property
    def pk(self) -> Any:
        for f in self.fields:
            if f.primary_key:
                return f
        return None


class BaseDatabaseSchemaEditor:
    """Builds and runs DDL.  With ``collect_sql=True`` statements are only collected
    (``sqlmigrate``, ``--plan``) in :attr:`collected_sql`."""

    #: ``field.get_internal_type()`` -> SQL type template (``%(max_length)s`` ...) or a callable(field).
    data_types: ClassVar[dict[str, Any]] = {
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "SmallAutoField": "smallint",
        "BigIntegerField": "bigint",
        "BinaryField": "blob",
        "BooleanField": "boolean",
        "CharField": "varchar(%(max_length)s)",
        "SlugField": "varchar(%(max_length)s)",
        "EmailField": "varchar(%(max_length)s)",
        "URLField": "varchar(%(max_length)s)",
        "DateField": "date",
        "DateTimeField": "timestamp",
        "DecimalField": "decimal(%(max_digits)s, %(decimal_places)s)",
        "DurationField": "bigint",
        "FloatField": "double precision",
        "IntegerField": "integer",
        "GenericIPAddressField": "varchar(39)",
        "JSONField": "text",
        "PositiveBigIntegerField": "bigint",
        "PositiveIntegerField": "integer",
        "PositiveSmallIntegerField": "smallint",
        "SmallIntegerField": "smallint",
        "TextField": "text",
        "TimeField": "time",
        "UUIDField": "char(32)",
    }
    #: Appended after ``PRIMARY KEY`` for auto fields (``AUTOINCREMENT``) or after the type.
    data_types_suffix: ClassVar[dict[str, str]] = {}
    #: The type a foreign key pointing at a field of this internal type gets (auto fields lose their magic).
    rel_data_types: ClassVar[dict[str, str]] = {
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "SmallAutoField": "smallint",
    }
    #: Column CHECK constraints per internal type (``%(column)s`` is the quoted column).
    data_type_check_constraints: ClassVar[dict[str, str]] = {
        "PositiveBigIntegerField": "%(column)s >= 0",
        "PositiveIntegerField": "%(column)s >= 0",
        "PositiveSmallIntegerField": "%(column)s >= 0",
    }
    auto_field_types: ClassVar[frozenset[str]] = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})

    sql_create_table = "CREATE TABLE %(table)s (%(definition)s)"
    sql_delete_table = "DROP TABLE %(table)s"
    sql_rename_table = "ALTER TABLE %(old_table)s RENAME TO %(new_table)s"
    sql_create_column = "ALTER TABLE %(table)s ADD COLUMN %(definition)s"
    sql_delete_column = "ALTER TABLE %(table)s DROP COLUMN %(column)s"
    sql_rename_column = "ALTER TABLE %(table)s RENAME COLUMN %(old_column)s TO %(new_column)s"
    sql_alter_column = "ALTER TABLE %(table)s %(changes)s"
    sql_alter_column_type = "ALTER COLUMN %(column)s TYPE %(type)s"
    sql_alter_column_null = "ALTER COLUMN %(column)s DROP NOT NULL"
    sql_alter_column_not_null = "ALTER COLUMN %(column)s SET NOT NULL"
    sql_alter_column_default = "ALTER COLUMN %(column)s SET DEFAULT %(default)s"
    sql_alter_column_no_default = "ALTER COLUMN %(column)s DROP DEFAULT"
    sql_create_index = "CREATE%(unique)s INDEX %(name)s ON %(table)s (%(columns)s)%(condition)s"
    sql_create_index_concurrently = (
        "CREATE%(unique)s INDEX CONCURRENTLY %(name)s ON %(table)s (%(columns)s)%(condition)s"
    )
    sql_delete_index = "DROP INDEX %(name)s"
    sql_delete_index_concurrently = "DROP INDEX CONCURRENTLY %(name)s"
    sql_create_check_not_valid = (
        "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s CHECK (%(column)s IS NOT NULL) NOT VALID"
    )
    sql_validate_constraint = "ALTER TABLE %(table)s VALIDATE CONSTRAINT %(name)s"
    #: ``lock_migrations`` / ``unlock_migrations`` statements (``%(key)s``: a per-project integer), when
    #: ``features.supports_migration_lock``; e.g. ``SELECT pg_advisory_lock(%(key)s)``.
    sql_migration_lock: ClassVar[str | None] = None
    sql_migration_unlock: ClassVar[str | None] = None
    #: The advisory-lock key of ``dorm migrate`` (any constant integer works; all runners must agree).
    migration_lock_key: ClassVar[int] = 71_640_112
    sql_create_constraint = "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s %(constraint)s"
    sql_delete_constraint = "ALTER TABLE %(table)s DROP CONSTRAINT %(name)s"
    sql_inline_fk = "REFERENCES %(to_table)s (%(to_column)s)"
    sql_create_fk = (
        "ALTER TABLE %(table)s ADD CONSTRAINT %(name)s FOREIGN KEY (%(column)s) REFERENCES %(to_table)s (%(to_column)s)"
    )
    sql_backfill = (
        "UPDATE %(table)s SET %(column)s = %(value)s WHERE %(pk)s >= %%s AND %(pk)s < %%s AND %(column)s IS NULL"
    )

    def __init__(
        self, wrapper: BaseDatabaseWrapper, connection: BaseConnection | None, *, collect_sql: bool = False
    ) -> None:
        self.wrapper = wrapper
        self.connection = connection
        self.collect_sql = collect_sql
        self.collected_sql: list[str] = []
        self.quote_name = wrapper.ops.quote_name
        #: Statements to run once the current operation's table work is done (indexes after CREATE TABLE).
        self.deferred_sql: list[str] = []

    # -- context manager: run deferred statements at the end ----------------------

    def __enter__(self) -> BaseDatabaseSchemaEditor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.flush_deferred()

    def flush_deferred(self) -> None:
        """Run statements queued in :attr:`deferred_sql`."""
        pending, self.deferred_sql = self.deferred_sql, []
        for sql in pending:
            self.execute(sql)

    # -- execution ------------------------------------------------------------------

    def execute(self, sql: str, params: Any = None) -> None:
        """Run (or collect) one DDL statement."""
        if self.collect_sql or self.connection is None:
            if params:
                sql = sql % tuple(self.quote_value(p) for p in params)
            self.collected_sql.append(sql + ";")
            return
        from dorm.backends.base.statement import FETCH_NONE, Statement
        from dorm.db.executor import run_on

        run_on(self.connection, Statement(self.wrapper.alias, sql, params, fetch=FETCH_NONE))

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run a query on the editor's connection and return its rows (never collected)."""
        from dorm.backends.base.statement import FETCH_ALL, Statement
        from dorm.db.executor import run, run_on

        stmt = Statement(self.wrapper.alias, sql, params, fetch=FETCH_ALL)
        if self.connection is None:
            run(stmt, "migrate")
        else:
            run_on(self.connection, stmt)
        return list(stmt.rows or [])

    # -- values and types -------------------------------------------------------------

    def quote_value(self, value: Any) -> str:
        """A literal for DDL (defaults, CHECK constraints): DDL takes no parameters."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float, decimal.Decimal)):
            return str(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return "X'" + bytes(value).hex() + "'"
        if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
            value = value.isoformat()
        elif isinstance(value, uuid.UUID):
            value = value.hex
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        return "'" + str(value).replace("'", "''") + "'"

    def _type_template(self, internal: str, field: Any) -> str | None:
        template = self.data_types.get(internal)
        if template is None:
            return None
        if callable(template):
            return str(template(field))
        params: dict[str, Any] = {}
        getter = getattr(field, "db_type_parameters", None)
        if getter is not None:
            params.update(getter())
        for key in ("max_length", "max_digits", "decimal_places"):
            params.setdefault(key, getattr(field, key, None))
        return str(template % params)

    def related_target(self, field: Any) -> tuple[Any, Any] | None:
        """``(target_model, target_field)`` of a forward relation, or ``None``."""
        remote = getattr(field, "remote_field", None)
        if remote is None or getattr(field, "many_to_many", False):
            return None
        target = getattr(remote, "model", None)
        if target is None or isinstance(target, str):
            return None
        to_field_name = getattr(remote, "field_name", None) or getattr(field, "to_field", None)
        meta = target._meta
        if to_field_name:
            for f in meta.fields:
                if f.name == to_field_name:
                    return target, f
        for f in meta.fields:
            if f.primary_key:
                return target, f
        return target, meta.pk

    def column_type(self, field: Any) -> str | None:
        """The SQL type of ``field``'s column (``None`` for fields without one, e.g. M2M)."""
        if getattr(field, "many_to_many", False):
            return None
        related = self.related_target(field)
        remote = getattr(field, "remote_field", None)
        if related is None and remote is not None and isinstance(getattr(remote, "model", None), str):
            from dorm.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"Field {getattr(field, 'name', field)!r} points at {remote.model!r}, which is not in the migration state here. "
                "The migration needs a dependency on the migration that creates that model: add it to `dependencies`."
            )
        if related is not None:
            target_field = related[1]
            internal = target_field.get_internal_type()
            rel = self.rel_data_types.get(internal)
            return rel if rel is not None else self.column_type(target_field)
        internal = field.get_internal_type()
        found = self._type_template(internal, field)
        if found is not None:
            return found
        db_type = getattr(field, "db_type", None)
        return db_type(self.wrapper) if db_type is not None else None

    def effective_default(self, field: Any) -> Any:
        """The driver value of ``field``'s Python default (for filling existing rows)."""
        if field.has_default():
            value = field.get_default()
        elif not field.null and getattr(field, "empty_strings_allowed", False) and not field.primary_key:
            value = ""
        else:
            return None
        prep = getattr(field, "get_db_prep_value", None)
        if prep is not None and value is not None:
            try:
                value = prep(value, self.wrapper)
            except Exception:  # noqa: BLE001 - an odd default is written as-is
                pass
        return value

    def db_default_sql(self, field: Any) -> str | None:
        """The ``DEFAULT`` expression of ``db_default`` (a literal, or an expression with ``as_sql``)."""
        db_default = getattr(field, "db_default", None)
        if db_default is None or not _provided(db_default):
            return None
        as_ddl = getattr(db_default, "as_ddl", None)
        if as_ddl is not None:
            return str(as_ddl(self))
        prep = getattr(field, "get_db_prep_value", None)
        if prep is not None:
            try:
                db_default = prep(db_default, self.wrapper)
            except Exception:  # noqa: BLE001
                pass
        return self.quote_value(db_default)

    # -- column definitions --------------------------------------------------------------

    def column_sql(
        self, model: Any, field: Any, *, include_default: bool = False, inline_fk: bool = True
    ) -> str | None:
        """``"col" type [NOT NULL] [PRIMARY KEY] [UNIQUE] [DEFAULT ..] [CHECK ..] [REFERENCES ..]``.

        ``include_default`` adds the Python default as a DEFAULT literal (used when
        adding a NOT NULL column to a table with rows).  ``db_default`` is always a
        DEFAULT.
        """
        col_type = self.column_type(field)
        if col_type is None:
            return None
        column = self.quote_name(column_of(field))
        parts = [column, col_type]
        internal = field.get_internal_type()
        default_sql = self.db_default_sql(field)
        if default_sql is None and include_default and not field.primary_key:
            value = self.effective_default(field)
            if value is not None:
                default_sql = self.quote_value(value)
        if default_sql is not None:
            parts.append("DEFAULT " + default_sql)
        if field.primary_key:
            parts.append("NOT NULL PRIMARY KEY")
        elif not field.null:
            parts.append("NOT NULL")
        if field.unique and not field.primary_key:
            parts.append("UNIQUE")
        suffix = self.data_types_suffix.get(internal)
        if suffix and (field.primary_key or internal not in self.auto_field_types):
            parts.append(suffix)
        check = self.data_type_check_constraints.get(internal)
        if check:
            parts.append("CHECK (" + check % {"column": column} + ")")
        if inline_fk and self.wrapper.features.supports_foreign_keys:
            related = self.related_target(field)
            if related is not None and getattr(field, "db_constraint", True):
                target, target_field = related
                parts.append(
                    self.sql_inline_fk
                    % {
                        "to_table": self.quote_name(target._meta.db_table),
                        "to_column": self.quote_name(column_of(target_field)),
                    }
                )
        return " ".join(parts)

    # -- constraints and indexes ------------------------------------------------------------

    def _columns(self, view: TableView, names: Iterable[str]) -> list[str]:
        return [view.column_for(n) for n in names]

    def _index_parts(self, view: TableView, index: Any) -> tuple[str, list[str], str]:
        fields = list(getattr(index, "fields", ()) or ())
        columns: list[str] = []
        for name in fields:
            desc = name.startswith("-")
            col = self.quote_name(view.column_for(name.lstrip("-")))
            columns.append(col + (" DESC" if desc else ""))
        name = getattr(index, "name", None) or index_name(view.db_table, [c.lstrip("-") for c in fields], "idx")
        return name, columns, self._condition_sql(view, getattr(index, "condition", None))

    def index_sql(self, view: TableView, index: Any, *, concurrently: bool = False, unique: bool = False) -> str:
        name, columns, condition = self._index_parts(view, index)
        template = self.sql_create_index_concurrently if concurrently else self.sql_create_index
        return template % {
            "unique": " UNIQUE" if unique else "",
            "name": self.quote_name(name),
            "table": self.quote_name(view.db_table),
            "columns": ", ".join(columns),
            "condition": condition,
        }

    def _condition_sql(self, view: TableView, condition: Any) -> str:
        if condition is None:
            return ""
        return " WHERE " + self.q_to_sql(view, condition)

    def q_to_sql(self, view: TableView, q: Any) -> str:
        """Render a ``Q`` (or a raw SQL string) as a literal SQL predicate for a CHECK or a partial index.

        Supports ``exact, iexact, gt, gte, lt, lte, in, isnull, range, startswith, contains``
        with constant values, and ``F()`` on the right-hand side.
        """
        if isinstance(q, str):
            return q
        children = getattr(q, "children", None)
        if children is None:
            raise TypeError(f"Cannot render {q!r} as a constraint condition; use a Q object or an SQL string.")
        connector = " OR " if getattr(q, "connector", "AND") == "OR" else " AND "
        parts: list[str] = []
        for child in children:
            if isinstance(child, tuple):
                parts.append(self._lookup_sql(view, child[0], child[1]))
            else:
                parts.append("(" + self.q_to_sql(view, child) + ")")
        sql = connector.join(parts) if parts else "1=1"
        if getattr(q, "negated", False):
            sql = "NOT (" + sql + ")"
        return sql

    def _lookup_sql(self, view: TableView, key: str, value: Any) -> str:
        name, _, lookup = key.partition("__")
        lookup = lookup or "exact"
        column = self.quote_name(view.column_for(name))

        def rhs(v: Any) -> str:
            ref = getattr(v, "name", None)
            if type(v).__name__ == "F" and isinstance(ref, str):
                return self.quote_name(view.column_for(ref))
            return self.quote_value(v)

        ops = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        if lookup in ops:
            if value is None and lookup == "exact":
                return f"{column} IS NULL"
            return f"{column} {ops[lookup]} {rhs(value)}"
        if lookup == "iexact":
            return f"LOWER({column}) = LOWER({rhs(value)})"
        if lookup == "in":
            return f"{column} IN (" + ", ".join(rhs(v) for v in value) + ")"
        if lookup == "isnull":
            return f"{column} IS {'NULL' if value else 'NOT NULL'}"
        if lookup == "range":
            return f"{column} BETWEEN {rhs(value[0])} AND {rhs(value[1])}"
        if lookup == "startswith":
            return f"{column} LIKE {self.quote_value(str(value) + '%')}"
        if lookup == "contains":
            return f"{column} LIKE {self.quote_value('%' + str(value) + '%')}"
        raise ValueError(f"Lookup {lookup!r} is not supported in constraint conditions; write the condition as SQL.")

    def constraint_kind(self, constraint: Any) -> str:
        """``"unique"`` or ``"check"``."""
        if hasattr(constraint, "fields") and getattr(constraint, "fields", None):
            return "unique"
        return "check"

    def constraint_body(self, view: TableView, constraint: Any) -> str | None:
        """``UNIQUE (..)`` / ``CHECK (..)``; ``None`` when it must be a unique index (a condition)."""
        if self.constraint_kind(constraint) == "unique":
            if getattr(constraint, "condition", None) is not None:
                return None
            cols = ", ".join(self.quote_name(c) for c in self._columns(view, constraint.fields))
            return f"UNIQUE ({cols})"
        check = getattr(constraint, "check", None)
        if check is None:
            check = getattr(constraint, "condition", None)
        return "CHECK (" + self.q_to_sql(view, check) + ")"

    def unique_together_name(self, view: TableView, names: Sequence[str]) -> str:
        return index_name(view.db_table, self._columns(view, names), "uniq")

    def fk_index_name(self, view: TableView, field: Any) -> str:
        return index_name(view.db_table, [column_of(field)], "idx")

    def field_indexes_sql(self, view: TableView, field: Any) -> list[str]:
        """Indexes a field implies: ``db_index=True`` and foreign keys (unless unique)."""
        if field.primary_key or field.unique:
            return []
        if not (field.db_index or self.related_target(field) is not None):
            return []
        return [
            self.sql_create_index
            % {
                "unique": "",
                "name": self.quote_name(self.fk_index_name(view, field)),
                "table": self.quote_name(view.db_table),
                "columns": self.quote_name(column_of(field)),
                "condition": "",
            }
        ]

    def model_indexes_sql(self, view: TableView) -> list[str]:
        """Every index of a table apart from the table definition itself."""
        statements: list[str] = []
        for f in view.fields:
            statements.extend(self.field_indexes_sql(view, f))
        for index in view.indexes:
            statements.append(self.index_sql(view, index))
        for constraint in view.constraints:
            if self.constraint_kind(constraint) == "unique" and self.constraint_body(view, constraint) is None:
                statements.append(self.index_sql(view, constraint, unique=True))
        return statements

    # -- tables --------------------------------------------------------------------------

    def table_sql(self, view: TableView) -> str:
        """``CREATE TABLE`` with columns, inline FKs, unique_together and table constraints."""
        definitions: list[str] = []
        for f in view.fields:
            definition = self.column_sql(view.model, f)
            if definition is not None:
                definitions.append(definition)
        for names in view.unique_together:
            cols = ", ".join(self.quote_name(c) for c in self._columns(view, names))
            definitions.append(f"CONSTRAINT {self.quote_name(self.unique_together_name(view, names))} UNIQUE ({cols})")
        for constraint in view.constraints:
            body = self.constraint_body(view, constraint)
            if body is not None:
                definitions.append(f"CONSTRAINT {self.quote_name(constraint.name)} {body}")
        return self.sql_create_table % {"table": self.quote_name(view.db_table), "definition": ", ".join(definitions)}

    def create_model(self, model: Any) -> None:
        """Create the table, its indexes and the tables of its auto-created M2M relations."""
        view = TableView.of(model)
        self.execute(self.table_sql(view))
        for sql in self.model_indexes_sql(view):
            self.execute(sql)
        for m2m in view.many_to_many:
            through = self.auto_through(model, m2m)
            if through is not None:
                self.create_model(through)

    def delete_model(self, model: Any) -> None:
        """Drop the table (and the tables of its auto-created M2M relations)."""
        view = TableView.of(model)
        for m2m in view.many_to_many:
            through = self.auto_through(model, m2m)
            if through is not None:
                self.delete_model(through)
        self.execute(self.sql_delete_table % {"table": self.quote_name(view.db_table)})

    def alter_db_table(self, model: Any, old_db_table: str, new_db_table: str) -> None:
        """Rename a table."""
        if old_db_table == new_db_table:
            return
        self.execute(
            self.sql_rename_table
            % {"old_table": self.quote_name(old_db_table), "new_table": self.quote_name(new_db_table)}
        )

    # -- many-to-many --------------------------------------------------------------------------

    def auto_through(self, model: Any, m2m: Any) -> Any:
        """The auto-created through model of an M2M field, or ``None`` for an explicit ``through``."""
        remote = getattr(m2m, "remote_field", None)
        through = getattr(remote, "through", None) if remote is not None else None
        if through is not None and not isinstance(through, str):
            return through if getattr(through._meta, "auto_created", False) else None
        if through is not None:  # an explicit through model named by string
            return None
        from dorm.backends.base._through import synthesize_through

        return synthesize_through(model, m2m)

    # -- fields -------------------------------------------------------------------------------

    def add_field(self, model: Any, field: Any) -> None:
        """Add a column (or an M2M table).  A NOT NULL column is filled with the Python default."""
        if getattr(field, "many_to_many", False):
            through = self.auto_through(model, field)
            if through is not None:
                self.create_model(through)
            return
        view = TableView.of(model)
        definition = self.column_sql(model, field, include_default=not field.null)
        if definition is None:
            return
        self.execute(self.sql_create_column % {"table": self.quote_name(view.db_table), "definition": definition})
        if not field.null and self.db_default_sql(field) is None and self.effective_default(field) is not None:
            self._drop_default(view, field)
        for sql in self.field_indexes_sql(view, field):
            self.execute(sql)

    def _drop_default(self, view: TableView, field: Any) -> None:
        change = self.sql_alter_column_no_default % {"column": self.quote_name(column_of(field))}
        self.execute(self.sql_alter_column % {"table": self.quote_name(view.db_table), "changes": change})

    def remove_field(self, model: Any, field: Any) -> None:
        """Drop a column (or an M2M table)."""
        if getattr(field, "many_to_many", False):
            through = self.auto_through(model, field)
            if through is not None:
                self.delete_model(through)
            return
        view = TableView.of(model)
        self.execute(
            self.sql_delete_column
            % {"table": self.quote_name(view.db_table), "column": self.quote_name(column_of(field))}
        )

    def rename_field(self, model: Any, old_field: Any, new_field: Any) -> None:
        """Rename a column (a no-op when the column name does not change)."""
        old_col, new_col = column_of(old_field), column_of(new_field)
        if old_col == new_col:
            return
        view = TableView.of(model)
        self.execute(
            self.sql_rename_column
            % {
                "table": self.quote_name(view.db_table),
                "old_column": self.quote_name(old_col),
                "new_column": self.quote_name(new_col),
            }
        )

    def alter_field(self, model: Any, old_field: Any, new_field: Any) -> None:
        """Change a column in place: name, type, nullability, default, uniqueness, index."""
        if getattr(old_field, "many_to_many", False) or getattr(new_field, "many_to_many", False):
            return
        view = TableView.of(model)
        table = self.quote_name(view.db_table)
        self.rename_field(model, old_field, new_field)
        column = self.quote_name(column_of(new_field))
        changes: list[str] = []
        old_type, new_type = self.column_type(old_field), self.column_type(new_field)
        if old_type != new_type and new_type is not None:
            changes.append(self.sql_alter_column_type % {"column": column, "type": new_type})
        if old_field.null != new_field.null:
            if new_field.null:
                changes.append(self.sql_alter_column_null % {"column": column})
            else:
                default = self.effective_default(new_field)
                if default is not None:
                    self.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {column} IS NULL".replace(
                            "%s", self.wrapper.ops.param_placeholder
                        ),
                        [default],
                    )
                changes.append(self.sql_alter_column_not_null % {"column": column})
        old_default, new_default = self.db_default_sql(old_field), self.db_default_sql(new_field)
        if old_default != new_default:
            if new_default is None:
                changes.append(self.sql_alter_column_no_default % {"column": column})
            else:
                changes.append(self.sql_alter_column_default % {"column": column, "default": new_default})
        for change in changes:
            self.execute(self.sql_alter_column % {"table": table, "changes": change})
        if old_field.unique != new_field.unique and not new_field.primary_key:
            name = index_name(view.db_table, [column_of(new_field)], "uniq")
            if new_field.unique:
                self.execute(
                    self.sql_create_constraint
                    % {"table": table, "name": self.quote_name(name), "constraint": f"UNIQUE ({column})"}
                )
            else:
                self._drop_unique_column(view, old_field)
        old_indexed = bool(self.field_indexes_sql(view, old_field))
        new_indexed = bool(self.field_indexes_sql(view, new_field))
        if old_indexed and not new_indexed:
            self.execute(self.sql_delete_index % {"name": self.quote_name(self.fk_index_name(view, old_field))})
        elif new_indexed and not old_indexed:
            for sql in self.field_indexes_sql(view, new_field):
                self.execute(sql)

    def _drop_unique_column(self, view: TableView, field: Any) -> None:
        """Drop the UNIQUE constraint of one column, whatever the database named it."""
        introspection = self.wrapper.introspection
        names = [
            name
            for name, info in introspection.get_constraints(view.db_table, connection=self.connection).items()
            if info.get("unique") and not info.get("primary_key") and info.get("columns") == [column_of(field)]
        ]
        for name in names:
            self.execute(
                self.sql_delete_constraint % {"table": self.quote_name(view.db_table), "name": self.quote_name(name)}
            )

    # -- indexes and constraints ----------------------------------------------------------------

    def add_index(self, model: Any, index: Any) -> None:
        self.execute(self.index_sql(TableView.of(model), index))

    def remove_index(self, model: Any, index: Any) -> None:
        name, _, _ = self._index_parts(TableView.of(model), index)
        self.execute(self.sql_delete_index % {"name": self.quote_name(name)})

    def add_constraint(self, model: Any, constraint: Any) -> None:
        view = TableView.of(model)
        body = self.constraint_body(view, constraint)
        if body is None:
            self.execute(self.index_sql(view, constraint, unique=True))
            return
        self.execute(
            self.sql_create_constraint
            % {"table": self.quote_name(view.db_table), "name": self.quote_name(constraint.name), "constraint": body}
        )

    def remove_constraint(self, model: Any, constraint: Any) -> None:
        view = TableView.of(model)
        if self.constraint_body(view, constraint) is None:
            self.execute(self.sql_delete_index % {"name": self.quote_name(constraint.name)})
            return
        self.execute(
            self.sql_delete_constraint
            % {"table": self.quote_name(view.db_table), "name": self.quote_name(constraint.name)}
        )

    def alter_unique_together(self, model: Any, old: Iterable[Sequence[str]], new: Iterable[Sequence[str]]) -> None:
        view = TableView.of(model)
        old_set = {tuple(x) for x in old}
        new_set = {tuple(x) for x in new}
        table = self.quote_name(view.db_table)
        for names in sorted(old_set - new_set):
            self.execute(
                self.sql_delete_constraint
                % {"table": table, "name": self.quote_name(self.unique_together_name(view, names))}
            )
        for names in sorted(new_set - old_set):
            cols = ", ".join(self.quote_name(c) for c in self._columns(view, names))
            self.execute(
                self.sql_create_constraint
                % {
                    "table": table,
                    "name": self.quote_name(self.unique_together_name(view, names)),
                    "constraint": f"UNIQUE ({cols})",
                }
            )

    # -- online operations (backends override; defaults are the blocking versions) -------------

    def add_field_online(self, model: Any, field: Any) -> None:
        """Add ``field`` as a nullable column without a default: no rewrite, no long lock."""
        nullable = _as_nullable(field)
        self.add_field(model, nullable)

    def backfill_range(
        self, model: Any, field: Any, value_sql: str, value_params: Sequence[Any], lo: Any, hi: Any
    ) -> int:
        """``UPDATE`` rows with ``lo <= pk < hi`` whose column is NULL; returns the rows changed."""
        from dorm.backends.base.statement import FETCH_NONE, Statement
        from dorm.db.executor import run, run_on

        view = TableView.of(model)
        pk = view.pk
        sql = self.sql_backfill % {
            "table": self.quote_name(view.db_table),
            "column": self.quote_name(column_of(field)),
            "value": value_sql,
            "pk": self.quote_name(column_of(pk)),
        }
        sql = sql.replace("%s", self.wrapper.ops.param_placeholder)
        if self.collect_sql:
            self.collected_sql.append(sql + ";")
            return 0
        stmt = Statement(self.wrapper.alias, sql, [*value_params, lo, hi], fetch=FETCH_NONE)
        if self.connection is None:
            run(stmt, "migrate")
        else:
            run_on(self.connection, stmt)
        return max(stmt.rowcount, 0)

    def set_not_null_online(self, model: Any, field: Any) -> None:
        """Make a backfilled column NOT NULL without a long exclusive lock.

        With ``features.supports_not_valid_constraints`` (PostgreSQL): ``CHECK (col IS NOT NULL)
        NOT VALID`` (instant), ``VALIDATE CONSTRAINT`` (scans without blocking writes), ``SET NOT
        NULL`` (PostgreSQL 12+ trusts the valid check and skips its own scan), drop the check.
        Otherwise the plain ``alter_field``.
        """
        if not self.wrapper.features.supports_not_valid_constraints:
            self.alter_field(model, _as_nullable(field), field)
            return
        view = TableView.of(model)
        table = self.quote_name(view.db_table)
        column = self.quote_name(column_of(field))
        name = self.quote_name(index_name(view.db_table, [column_of(field)], "notnull"))
        self.execute(self.sql_create_check_not_valid % {"table": table, "name": name, "column": column})
        self.execute(self.sql_validate_constraint % {"table": table, "name": name})
        self.execute(
            self.sql_alter_column % {"table": table, "changes": self.sql_alter_column_not_null % {"column": column}}
        )
        self.execute(self.sql_delete_constraint % {"table": table, "name": name})

    def add_index_concurrently(self, model: Any, index: Any) -> None:
        """Build an index without blocking writes where the backend can (outside a transaction)."""
        view = TableView.of(model)
        self.execute(self.index_sql(view, index, concurrently=self.wrapper.features.supports_concurrent_index))

    def remove_index_concurrently(self, model: Any, index: Any) -> None:
        if not self.wrapper.features.supports_concurrent_index:
            self.remove_index(model, index)
            return
        name, _, _ = self._index_parts(TableView.of(model), index)
        self.execute(self.sql_delete_index_concurrently % {"name": self.quote_name(name)})

    # -- concurrency --------------------------------------------------------------------------

    def lock_migrations(self) -> None:
        """Serialise concurrent ``dorm migrate`` runs on this alias (held until :meth:`unlock_migrations`).

        Called on a dedicated connection outside any transaction, only when
        ``features.supports_migration_lock``.  Runs :attr:`sql_migration_lock`
        (PostgreSQL: ``SELECT pg_advisory_lock(%(key)s)``).  Without a lock, on
        SQLite, each migration runs under ``BEGIN IMMEDIATE`` and the executor
        re-checks the recorder inside it, which serialises runs as well.
        """
        if self.sql_migration_lock:
            self.query(self.sql_migration_lock % {"key": self.migration_lock_key})

    def unlock_migrations(self) -> None:
        """Release what :meth:`lock_migrations` took."""
        if self.sql_migration_unlock:
            self.query(self.sql_migration_unlock % {"key": self.migration_lock_key})

    # -- table rebuild hooks ---------------------------------------------------------------------

    def prepare_default(self, value: Any) -> str:
        return self.quote_value(value)


def _as_nullable(field: Any) -> Any:
    """A copy of ``field`` that is nullable and has no default (cheap to add)."""
    import copy

    clone = copy.copy(field)
    clone.null = True
    return clone
