"""Zero-downtime operations for big tables.

The recipe for a new NOT NULL column on a large, busy table::

    operations = [
        migrations.AddFieldOnline("Order", "status", dorm.CharField(max_length=20, default="new")),
        migrations.BackfillBatch("Order", "status", value="new", batch_size=5000),
        migrations.SetNotNullOnline("Order", "status"),
        migrations.AddIndexConcurrently("Order", dorm.Index(fields=["status"], name="order_status_idx")),
    ]

Each step calls a schema-editor method a backend overrides
(``add_field_online``, ``backfill_range``, ``set_not_null_online``,
``add_index_concurrently``): PostgreSQL does it without long locks; SQLite
falls back to a plain ``ADD COLUMN``, a table rebuild and a plain index.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from dorm.migrations.operations.base import Operation
from dorm.migrations.operations.fields import AddField, _bound
from dorm.migrations.operations.models import AddIndex

if TYPE_CHECKING:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.state import ProjectState

__all__ = ["AddFieldOnline", "AddIndexConcurrently", "BackfillBatch", "SetNotNullOnline"]

logger = logging.getLogger("dorm.migrations")


class AddFieldOnline(AddField):
    """Add the column as nullable with no default: metadata-only, no table rewrite.

    The state records the field as declared but NULL-able until
    :class:`SetNotNullOnline` runs.
    """

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        super().state_forwards(app_label, state)
        field = state.get(app_label, self.model_name).fields[self.name]
        field._dorm_pending_not_null = not field.null
        field.null = True

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        _, field = _bound(to_state, app_label, self.model_name, self.name)
        editor.add_field_online(from_state.render(app_label, self.model_name), field)

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name} (online: nullable, no rewrite)"


class BackfillBatch(Operation):
    """Fill a column in primary-key ranges of ``batch_size``, one commit per batch.

    ``value`` is a constant (sent as a parameter); ``sql`` an SQL expression
    over the row's columns (``"lower(email)"``).  Only rows where the column is
    still NULL are touched, and the last finished range is recorded in the
    ``dorm_migration_progress`` table, so a run interrupted half-way resumes
    where it stopped.  Every batch logs a progress line on the
    ``dorm.migrations`` logger: rows done / total, percentage, rows per second.
    """

    atomic = False

    def __init__(
        self, model_name: str, name: str, *, value: Any = None, sql: str | None = None, batch_size: int = 1000
    ) -> None:
        if batch_size < 1:
            raise ValueError("BackfillBatch batch_size must be >= 1")
        self.model_name = model_name
        self.name = name
        self.value = value
        self.sql = sql
        self.batch_size = batch_size

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return True  # going back, the column is dropped or left as it was

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        return None

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        from dorm.migrations.recorder import MigrationRecorder

        model, field = _bound(to_state, app_label, self.model_name, self.name)
        if self.sql is not None:
            value_sql, params = self.sql, []
        else:
            value_sql, params = editor.wrapper.ops.param_placeholder, [self._db_value(field, editor)]
        if editor.collect_sql:
            editor.backfill_range(model, field, value_sql, params, "<lo>", "<hi>")
            return
        meta = model._meta
        pk_col = editor.quote_name(meta.pk.column)
        table = editor.quote_name(meta.db_table)
        col = editor.quote_name(field.column)
        rows = editor.query(f"SELECT MIN({pk_col}), MAX({pk_col}), COUNT(*) FROM {table} WHERE {col} IS NULL")
        lo, hi, total = rows[0] if rows else (None, None, 0)
        recorder = MigrationRecorder(editor.wrapper.alias)
        key = f"{getattr(editor, 'current_migration', app_label)}:{self.model_name}.{self.name}"
        resume = recorder.progress(key)
        if lo is None:
            logger.info("Backfill %s.%s: nothing to do", self.model_name, self.name)
            recorder.clear_progress(key)
            return
        start = max(lo, resume) if resume is not None else lo
        done = 0
        started = time.perf_counter()
        from dorm import transaction

        while start <= hi:
            end = start + self.batch_size
            with transaction.atomic(using=editor.wrapper.alias):
                from dorm.transaction import current_transaction

                tx = current_transaction(editor.wrapper.alias)
                assert tx is not None
                batch_editor = editor.wrapper.schema_editor(tx.sync_connection())
                done += batch_editor.backfill_range(model, field, value_sql, params, start, end)
                recorder.set_progress(key, end, connection=tx.sync_connection())
            elapsed = max(time.perf_counter() - started, 1e-9)
            logger.info(
                "Backfill %s.%s: %d/%d rows (%.1f%%), %.0f rows/s",
                self.model_name,
                self.name,
                done,
                total,
                100.0 * done / total if total else 100.0,
                done / elapsed,
            )
            start = end
        recorder.clear_progress(key)

    def _db_value(self, field: Any, editor: BaseDatabaseSchemaEditor) -> Any:
        prep = getattr(field, "get_db_prep_value", None)
        return prep(self.value, editor.wrapper) if prep is not None and self.value is not None else self.value

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        return None

    def describe(self) -> str:
        return f"Backfill {self.model_name}.{self.name} in batches of {self.batch_size}"


class SetNotNullOnline(Operation):
    """Make a backfilled column NOT NULL (PostgreSQL: CHECK NOT VALID + VALIDATE + SET NOT NULL + drop the check)."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        field = state.get(app_label, self.model_name).get_field(self.name)
        field.null = False
        field._dorm_pending_not_null = False

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        _, field = _bound(to_state, app_label, self.model_name, self.name)
        editor.set_not_null_online(from_state.render(app_label, self.model_name), field)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model, old = _bound(from_state, app_label, self.model_name, self.name)
        _, new = _bound(to_state, app_label, self.model_name, self.name)
        editor.alter_field(model, old, new)

    def describe(self) -> str:
        return f"Set NOT NULL on {self.model_name}.{self.name} (online)"


class AddIndexConcurrently(AddIndex):
    """Create an index without blocking writes (PostgreSQL: CONCURRENTLY, outside a transaction)."""

    atomic = False

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_index_concurrently(to_state.render(app_label, self.model_name), self.index)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.remove_index_concurrently(from_state.render(app_label, self.model_name), self.index)

    def describe(self) -> str:
        return f"Create index {getattr(self.index, 'name', '')} on {self.model_name} concurrently"
