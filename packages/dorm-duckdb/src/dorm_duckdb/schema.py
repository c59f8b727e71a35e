"""Schema editor for DuckDB.

Types: ``bigint``/``integer`` keys, ``varchar`` text (DuckDB does not enforce
a length, so none is declared), ``boolean``, ``double``, ``decimal(p, s)``,
``date``, ``timestamptz``, ``time``, ``interval``, ``uuid``, ``json``,
``blob``.

Auto-increment primary keys: DuckDB has no SERIAL / IDENTITY; each auto key
gets a sequence ``<table>_<column>_seq`` created before its table and a
``DEFAULT nextval('<sequence>')``; the sequence is dropped with the table.

What DuckDB's ``ALTER TABLE`` cannot do, and what this editor does instead:

* ``ADD COLUMN`` takes no constraints: an added unique column gets a unique
  index instead of a ``UNIQUE`` constraint, an added foreign key column is
  not enforced (no ``REFERENCES``), and a ``NOT NULL`` added column is added
  nullable, filled, then set ``NOT NULL``.
* ``ADD CONSTRAINT`` does not exist: a unique constraint becomes a unique
  index of the same name; a check constraint on an existing table raises
  ``NotSupportedError`` (declare it when the table is created).
* A table with indexes (``CREATE INDEX``: ``db_index``, ``Meta.indexes``,
  unique columns added later) refuses every ``ALTER`` but ``ADD COLUMN`` and
  ``SET DEFAULT``.  So renaming, retyping, changing nullability, dropping a
  column and renaming the table drop the table's indexes first and create
  them again afterwards (on the renamed columns; an index on a dropped
  column goes with it; ``DESC`` order is not kept).
* Inside a transaction DuckDB refuses ``DROP COLUMN`` and ``ALTER ... TYPE``
  on a column used by an index or a ``UNIQUE`` / ``PRIMARY KEY`` constraint,
  even after ``DROP INDEX``: those changes (and dropping a column's
  ``UNIQUE``) copy the table (create, ``INSERT ... SELECT``, drop, rename,
  recreate the indexes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

from dorm.backends.base.schema import BaseDatabaseSchemaEditor, TableView, column_of
from dorm.exceptions import NotSupportedError
from dorm_duckdb.introspection import _index_columns

__all__ = ["DatabaseSchemaEditor", "sequence_name"]


def sequence_name(table: str, column: str) -> str:
    """The sequence behind an auto-increment key."""
    return f"{table}_{column}_seq"


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    data_types: ClassVar[dict[str, Any]] = {
        **BaseDatabaseSchemaEditor.data_types,
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "SmallAutoField": "smallint",
        "BinaryField": "blob",
        "BooleanField": "boolean",
        "CharField": "varchar",
        "SlugField": "varchar",
        "EmailField": "varchar",
        "URLField": "varchar",
        "TextField": "varchar",
        "GenericIPAddressField": "varchar",
        "DateTimeField": "timestamptz",
        "DurationField": "interval",
        "FloatField": "double",
        "JSONField": "json",
        "UUIDField": "uuid",
    }
    sql_delete_index = "DROP INDEX IF EXISTS %(name)s"
    sql_create_sequence = "CREATE SEQUENCE IF NOT EXISTS %(name)s"
    sql_delete_sequence = "DROP SEQUENCE IF EXISTS %(name)s"

    def quote_value(self, value: Any) -> str:
        import uuid

        if isinstance(value, uuid.UUID):
            return f"'{value}'"
        return super().quote_value(value)

    # -- auto-increment keys ------------------------------------------------------

    def _auto_pk(self, view: TableView) -> Any:
        pk = view.pk
        if pk is not None and pk.get_internal_type() in self.auto_field_types:
            return pk
        return None

    def column_sql(
        self, model: Any, field: Any, *, include_default: bool = False, inline_fk: bool = True
    ) -> str | None:
        sql = super().column_sql(model, field, include_default=include_default, inline_fk=inline_fk)
        if sql is not None and field.primary_key and field.get_internal_type() in self.auto_field_types:
            seq = sequence_name(model._meta.db_table, column_of(field)).replace("'", "''")
            sql = sql.replace(" NOT NULL PRIMARY KEY", f" DEFAULT nextval('{seq}') NOT NULL PRIMARY KEY", 1)
        return sql

    def create_model(self, model: Any) -> None:
        pk = self._auto_pk(TableView.of(model))
        if pk is not None:
            self.execute(
                self.sql_create_sequence % {"name": self.quote_name(sequence_name(model._meta.db_table, column_of(pk)))}
            )
        super().create_model(model)

    def delete_model(self, model: Any) -> None:
        super().delete_model(model)
        pk = self._auto_pk(TableView.of(model))
        if pk is not None:
            self.execute(
                self.sql_delete_sequence % {"name": self.quote_name(sequence_name(model._meta.db_table, column_of(pk)))}
            )

    # -- what DuckDB's ALTER TABLE cannot do --------------------------------------

    def add_field(self, model: Any, field: Any) -> None:
        if getattr(field, "many_to_many", False):
            super().add_field(model, field)
            return
        plain = copy.copy(field)
        plain.unique = False
        plain.null = True
        view = TableView.of(model)
        table = self.quote_name(view.db_table)
        column = self.quote_name(column_of(field))
        definition = self.column_sql(model, plain, inline_fk=False)
        if definition is None:
            return
        default = self.db_default_sql(field)
        if default is None and not field.null:
            value = self.effective_default(field)
            if value is not None:
                default = self.quote_value(value)
        if default is not None and "DEFAULT" not in definition:
            definition += f" DEFAULT {default}"
        self.execute(self.sql_create_column % {"table": table, "definition": definition})
        if not field.null:
            self.execute(
                self.sql_alter_column % {"table": table, "changes": self.sql_alter_column_not_null % {"column": column}}
            )
            if self.db_default_sql(field) is None and default is not None:
                self._drop_default(view, field)
        if field.unique and not field.primary_key:
            self.execute(
                self.sql_create_index
                % {
                    "unique": " UNIQUE",
                    "name": self.quote_name(self._unique_index_name(view.db_table, column_of(field))),
                    "table": table,
                    "columns": column,
                    "condition": "",
                }
            )
        for sql in self.field_indexes_sql(view, field):
            self.execute(sql)

    def add_constraint(self, model: Any, constraint: Any) -> None:
        view = TableView.of(model)
        kind = self.constraint_kind(constraint)
        if kind == "unique":
            self.execute(self.index_sql(view, constraint, unique=True))
            return
        if self.constraint_body(view, constraint) is not None:
            raise NotSupportedError(
                f"DuckDB cannot add the constraint {constraint.name!r} to the existing table {view.db_table!r} "
                "(ALTER TABLE ... ADD CONSTRAINT is not supported). Declare it in the migration that creates "
                "the table, or recreate the table with it."
            )
        super().add_constraint(model, constraint)

    def remove_constraint(self, model: Any, constraint: Any) -> None:
        if self.constraint_kind(constraint) == "unique":
            self.execute(self.sql_delete_index % {"name": self.quote_name(constraint.name)})
            return
        super().remove_constraint(model, constraint)

    # -- ALTER on tables with indexes ------------------------------------------------

    @contextmanager
    def _indexes_set_aside(
        self,
        table: str,
        renames: dict[str, str] | None = None,
        dropped: str | None = None,
        new_table: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> Iterator[None]:
        """Drop ``table``'s indexes around an ALTER DuckDB refuses while they exist, then recreate them."""
        if self.collect_sql or self.connection is None:
            yield  # nothing to read the live indexes from: the plain ALTER is shown
            return
        indexes = self.query(
            "SELECT index_name, is_unique, expressions FROM duckdb_indexes() "
            "WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database()",
            [table],
        )
        for name, _, _ in indexes:
            self.execute(self.sql_delete_index % {"name": self.quote_name(name)})
        yield
        renames = renames or {}
        for name, unique, expressions in indexes:
            columns = _index_columns(expressions)
            if (dropped is not None and dropped in columns) or name in skip:
                continue
            self.execute(
                self.sql_create_index
                % {
                    "unique": " UNIQUE" if unique else "",
                    "name": self.quote_name(name),
                    "table": self.quote_name(new_table or table),
                    "columns": ", ".join(self.quote_name(renames.get(c, c)) for c in columns),
                    "condition": "",
                }
            )

    def rename_field(self, model: Any, old_field: Any, new_field: Any) -> None:
        old_col, new_col = column_of(old_field), column_of(new_field)
        if old_col == new_col:
            return
        with self._indexes_set_aside(model._meta.db_table, renames={old_col: new_col}):
            super().rename_field(model, old_field, new_field)

    def alter_field(self, model: Any, old_field: Any, new_field: Any) -> None:
        if getattr(old_field, "many_to_many", False) or getattr(new_field, "many_to_many", False):
            return
        view = TableView.of(model)
        skip: set[str] = set()
        if self.field_indexes_sql(view, old_field) and not self.field_indexes_sql(view, new_field):
            skip.add(self.fk_index_name(view, old_field))  # the change removes this index
        if old_field.unique and not new_field.unique:
            skip.add(self._unique_index_name(view.db_table, column_of(old_field)))
        renames = {column_of(old_field): column_of(new_field)}
        retyped = self.column_type(old_field) != self.column_type(new_field)
        if (retyped or (old_field.unique and not new_field.unique)) and self._is_tied(
            view.db_table, column_of(old_field)
        ):
            self._rebuild_alter(model, old_field, new_field, skip)
            return
        with self._indexes_set_aside(view.db_table, renames=renames, skip=frozenset(skip)):
            super().alter_field(model, old_field, new_field)

    def _unique_index_name(self, table: str, column: str) -> str:
        return f"{table}_{column}_uniq"

    def _drop_unique_column(self, view: TableView, field: Any) -> None:
        """A unique index (added by :meth:`add_field`) is dropped; a declared UNIQUE constraint cannot be."""
        constraints = self.wrapper.introspection.get_constraints(view.db_table, connection=self.connection)
        for name, info in constraints.items():
            if info.get("unique") and not info.get("primary_key") and info.get("columns") == [column_of(field)]:
                if info.get("index"):
                    self.execute(self.sql_delete_index % {"name": self.quote_name(name)})
                else:
                    raise NotSupportedError(
                        f"DuckDB cannot drop the UNIQUE constraint of {view.db_table}.{column_of(field)} "
                        "(ALTER TABLE ... DROP CONSTRAINT is not supported). Recreate the table without it "
                        "(a new model + data copy migration)."
                    )

    def remove_field(self, model: Any, field: Any) -> None:
        if getattr(field, "many_to_many", False):
            super().remove_field(model, field)
            return
        if self._is_tied(model._meta.db_table, column_of(field)):
            view = TableView.of(model)
            fields = [f for f in view.fields if column_of(f) != column_of(field)]
            mapping = {column_of(f): self.quote_name(column_of(f)) for f in fields}
            self._rebuild(model, fields, mapping, dropped=column_of(field))
            return
        with self._indexes_set_aside(model._meta.db_table, dropped=column_of(field)):
            super().remove_field(model, field)

    def alter_db_table(self, model: Any, old_db_table: str, new_db_table: str) -> None:
        with self._indexes_set_aside(old_db_table, new_table=new_db_table):
            super().alter_db_table(model, old_db_table, new_db_table)

    # -- table rebuild ------------------------------------------------------------------
    # Inside a transaction DuckDB refuses DROP COLUMN and ALTER ... TYPE on a column that
    # an index or a UNIQUE / PRIMARY KEY constraint uses, even after DROP INDEX in the
    # same transaction.  Such changes copy the table instead.

    def _is_tied(self, table: str, column: str) -> bool:
        """Whether an index or a UNIQUE / PRIMARY KEY constraint uses ``column``."""
        if self.collect_sql or self.connection is None:
            return False
        for info in self.wrapper.introspection.get_constraints(table, connection=self.connection).values():
            if (info["unique"] or info["index"]) and column in info["columns"]:
                return True
        return False

    def _rebuild_alter(self, model: Any, old_field: Any, new_field: Any, skip: set[str]) -> None:
        view = TableView.of(model)
        names = {old_field.name, new_field.name}
        fields = [new_field if f.name in names else f for f in view.fields]
        if new_field not in fields:
            fields.append(new_field)
        mapping = {column_of(f): self.quote_name(column_of(f)) for f in fields}
        source = self.quote_name(column_of(old_field))
        new_type = self.column_type(new_field)
        if new_type is not None and self.column_type(old_field) != new_type:
            source = f"CAST({source} AS {new_type})"
        if old_field.null and not new_field.null:
            default = self.effective_default(new_field)
            if default is not None:
                source = f"coalesce({source}, {self.quote_value(default)})"
        mapping[column_of(new_field)] = source
        extra = [] if self.field_indexes_sql(view, old_field) else self.field_indexes_sql(view, new_field)
        self._rebuild(
            model,
            fields,
            mapping,
            renames={column_of(old_field): column_of(new_field)},
            skip=frozenset(skip),
            extra_sql=extra,
        )

    def _rebuild(
        self,
        model: Any,
        fields: list[Any],
        mapping: dict[str, str],
        *,
        dropped: str | None = None,
        renames: dict[str, str] | None = None,
        skip: frozenset[str] = frozenset(),
        extra_sql: list[str] | None = None,
    ) -> None:
        """Copy ``model``'s table into one with ``fields`` (``mapping``: new column -> SQL over the old table)."""
        assert self.connection is not None
        view = TableView.of(model)
        table = view.db_table
        scratch = f"{table}__dorm_new"
        own_transaction = not self.connection.in_transaction
        if own_transaction:
            self.connection.begin()
        try:
            with self._indexes_set_aside(table, renames=renames, dropped=dropped, skip=skip):
                self.execute(self.table_sql(replace(view, fields=fields, db_table=scratch)))
                columns = [column_of(f) for f in fields if self.column_type(f) is not None and column_of(f) in mapping]
                self.execute(
                    f"INSERT INTO {self.quote_name(scratch)} ({', '.join(self.quote_name(c) for c in columns)}) "
                    f"SELECT {', '.join(mapping[c] for c in columns)} FROM {self.quote_name(table)}"
                )
                self.execute(self.sql_delete_table % {"table": self.quote_name(table)})
                self.execute(
                    self.sql_rename_table % {"old_table": self.quote_name(scratch), "new_table": self.quote_name(table)}
                )
            for sql in extra_sql or ():
                self.execute(sql)
        except BaseException:
            if own_transaction:
                self.connection.rollback()
            raise
        if own_transaction:
            self.connection.commit()
