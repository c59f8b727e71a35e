"""Schema editor for SQLite.

SQLite's ``ALTER TABLE`` can add, rename and (3.35+) drop a column, but not
change one.  So everything beyond a plain nullable ``ADD COLUMN`` and a
``RENAME COLUMN`` rebuilds the table, inside the migration's transaction:

1. copy the rows into a scratch table (``CREATE TABLE .. AS SELECT``);
2. ``DROP`` the table; 3. ``CREATE`` it with the new definition;
4. ``INSERT .. SELECT`` the rows back (mapping columns); 5. drop the scratch
   table; 6. recreate the indexes.

Foreign keys stay enforced: the rebuild runs with ``PRAGMA defer_foreign_keys``
so rows referencing the table are checked again at commit, once every row is
back.  dorm never emits ``ON DELETE`` actions in DDL (``on_delete`` is done by
the ORM), so dropping the table cannot cascade.

Online operations fall back to what SQLite has: ``AddFieldOnline`` is a plain
``ADD COLUMN`` (metadata-only in SQLite too), ``SetNotNullOnline`` is a table
rebuild, ``AddIndexConcurrently`` is a plain ``CREATE INDEX`` (SQLite has one
writer at a time anyway).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, ClassVar

from dorm.backends.base.schema import BaseDatabaseSchemaEditor, TableView, column_of

__all__ = ["DatabaseSchemaEditor"]


class DatabaseSchemaEditor(BaseDatabaseSchemaEditor):
    data_types: ClassVar[dict[str, Any]] = {
        **BaseDatabaseSchemaEditor.data_types,
        # An INTEGER PRIMARY KEY is the rowid; only the spelling "integer" gets that.
        "AutoField": "integer",
        "BigAutoField": "integer",
        "SmallAutoField": "integer",
        "BooleanField": "bool",
        "DateTimeField": "datetime",
        "DecimalField": "decimal",
        "FloatField": "real",
        "DurationField": "bigint",
        "JSONField": "text",
        "UUIDField": "char(32)",
    }
    data_types_suffix: ClassVar[dict[str, str]] = {
        "AutoField": "AUTOINCREMENT",
        "BigAutoField": "AUTOINCREMENT",
        "SmallAutoField": "AUTOINCREMENT",
    }
    sql_delete_table = "DROP TABLE %(table)s"
    sql_delete_index = "DROP INDEX IF EXISTS %(name)s"

    def quote_value(self, value: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        return super().quote_value(value)

    # -- what plain ALTER TABLE can do -----------------------------------------------

    def add_field(self, model: Any, field: Any) -> None:
        if getattr(field, "many_to_many", False):
            super().add_field(model, field)
            return
        plain = not field.primary_key and not field.unique and (field.null or self.db_default_sql(field) is not None)
        if not plain or (self.related_target(field) is not None and not field.null):
            self._remake_table(model, create_field=field)
            return
        view = TableView.of(model)
        definition = self.column_sql(model, field)
        assert definition is not None
        self.execute(self.sql_create_column % {"table": self.quote_name(view.db_table), "definition": definition})
        for sql in self.field_indexes_sql(view, field):
            self.execute(sql)

    def remove_field(self, model: Any, field: Any) -> None:
        if getattr(field, "many_to_many", False):
            super().remove_field(model, field)
            return
        self._remake_table(model, delete_field=field)

    def alter_field(self, model: Any, old_field: Any, new_field: Any) -> None:
        if getattr(old_field, "many_to_many", False) or getattr(new_field, "many_to_many", False):
            return
        old_sql = self.column_sql(model, old_field)
        new_sql = self.column_sql(model, new_field)
        only_rename = (
            old_sql is not None
            and new_sql is not None
            and old_sql.replace(self.quote_name(column_of(old_field)), self.quote_name(column_of(new_field)), 1)
            == new_sql
            and old_field.db_index == new_field.db_index
        )
        if only_rename:
            self.rename_field(model, old_field, new_field)
            return
        self._remake_table(model, alter=(old_field, new_field))

    def add_constraint(self, model: Any, constraint: Any) -> None:
        view = TableView.of(model)
        if self.constraint_body(view, constraint) is None:
            super().add_constraint(model, constraint)
            return
        self._remake_table(
            model,
            constraints=[*view.constraints, constraint] if constraint not in view.constraints else view.constraints,
        )

    def remove_constraint(self, model: Any, constraint: Any) -> None:
        view = TableView.of(model)
        if self.constraint_body(view, constraint) is None:
            super().remove_constraint(model, constraint)
            return
        self._remake_table(
            model, constraints=[c for c in view.constraints if getattr(c, "name", None) != constraint.name]
        )

    def alter_unique_together(self, model: Any, old: Any, new: Any) -> None:
        self._remake_table(model, unique_together=[tuple(x) for x in new])

    def set_not_null_online(self, model: Any, field: Any) -> None:
        nullable = copy.copy(field)
        nullable.null = True
        self._remake_table(model, alter=(nullable, field))

    # -- the rebuild ---------------------------------------------------------------

    def _remake_table(
        self,
        model: Any,
        *,
        create_field: Any = None,
        delete_field: Any = None,
        alter: tuple[Any, Any] | None = None,
        constraints: list[Any] | None = None,
        unique_together: list[tuple[str, ...]] | None = None,
    ) -> None:
        old = TableView.of(model)
        fields = list(old.fields)
        # new column -> SQL expression over the old table's columns
        mapping: dict[str, str] = {column_of(f): self.quote_name(column_of(f)) for f in fields}
        if delete_field is not None:
            fields = [f for f in fields if f.name != delete_field.name]
            mapping.pop(column_of(delete_field), None)
        if create_field is not None and not getattr(create_field, "many_to_many", False):
            fields.append(create_field)
            default = self.effective_default(create_field)
            if default is not None or not create_field.null:
                mapping[column_of(create_field)] = self.quote_value(default)
        if alter is not None:
            old_field, new_field = alter
            fields = [new_field if f.name == old_field.name else f for f in fields]
            source = self.quote_name(column_of(old_field))
            mapping.pop(column_of(old_field), None)
            if old_field.null and not new_field.null:
                default = self.effective_default(new_field)
                if default is not None:
                    source = f"coalesce({source}, {self.quote_value(default)})"
            mapping[column_of(new_field)] = source
        new = replace(
            old,
            fields=fields,
            constraints=constraints if constraints is not None else old.constraints,
            unique_together=unique_together if unique_together is not None else old.unique_together,
        )
        if delete_field is not None:
            new.indexes = [
                i for i in new.indexes if delete_field.name not in [n.lstrip("-") for n in getattr(i, "fields", ())]
            ]
        table = self.quote_name(old.db_table)
        scratch = self.quote_name(f"dorm__old__{old.db_table}")
        columns = [column_of(f) for f in fields if self.column_type(f) is not None and column_of(f) in mapping]
        own_transaction = self.connection is not None and not self.collect_sql and not self.connection.in_transaction
        if own_transaction:
            assert self.connection is not None
            self.connection.begin()
        try:
            self.execute("PRAGMA defer_foreign_keys = ON")
            self.execute(f"CREATE TEMP TABLE {scratch} AS SELECT * FROM {table}")
            self.execute(self.sql_delete_table % {"table": table})
            self.execute(self.table_sql(new))
            if columns:
                self.execute(
                    f"INSERT INTO {table} ({', '.join(self.quote_name(c) for c in columns)}) "
                    f"SELECT {', '.join(mapping[c] for c in columns)} FROM {scratch}"
                )
            self.execute(f"DROP TABLE {scratch}")
            for sql in self.model_indexes_sql(new):
                self.execute(sql)
        except BaseException:
            if own_transaction:
                assert self.connection is not None
                self.connection.rollback()
            raise
        if own_transaction:
            assert self.connection is not None
            self.connection.commit()
