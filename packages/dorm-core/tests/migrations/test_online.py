"""Online operations: AddFieldOnline, BackfillBatch (batched, resumable, with progress), SetNotNullOnline,
AddIndexConcurrently -- on SQLite (fallbacks) and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import TempApp

ROWS = 2500

INITIAL = """
import dorm
from dorm import migrations

class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel("Order", [("id", dorm.BigAutoField(primary_key=True)), ("qty", dorm.IntegerField())]),
    ]
"""

ADD_ONLINE = """
import dorm
from dorm import migrations

class Migration(migrations.Migration):
    dependencies = [("{app}", "0001_initial")]
    operations = [
        migrations.AddFieldOnline("Order", "status", dorm.CharField(max_length=10, default="new")),
    ]
"""

BACKFILL = """
import dorm
from dorm import migrations

class Migration(migrations.Migration):
    dependencies = [("{app}", "0002_add_status")]
    operations = [
        migrations.BackfillBatch("Order", "status", value="new", batch_size=1000),
        migrations.SetNotNullOnline("Order", "status"),
        migrations.AddIndexConcurrently("Order", dorm.Index(fields=["status"], name="{app}_status_idx")),
    ]
"""


def _setup(app: TempApp) -> None:
    from dorm.db.connections import get_connection

    app.migration("0001_initial.py", INITIAL)
    app.migration("0002_add_status.py", ADD_ONLINE.format(app=app.name))
    app.migration("0003_backfill.py", BACKFILL.format(app=app.name))
    app.migrate("0001_initial")
    conn = get_connection(app.alias)
    q = conn.backend.ops.quote_name
    conn.executemany(f"INSERT INTO {q(app.table('Order'))} ({q('qty')}) VALUES (%s)", [[i] for i in range(ROWS)])


def _status_column(app: TempApp) -> Any:
    from dorm.db.connections import connections

    return next(
        c for c in connections[app.alias].introspection.get_table_description(app.table("Order")) if c.name == "status"
    )


def test_online_recipe_end_to_end(make_app: Callable[[], TempApp], caplog: pytest.LogCaptureFixture) -> None:
    from dorm.db.connections import connections, get_connection

    app = make_app()
    _setup(app)
    app.migrate("0002")
    column = _status_column(app)
    assert column.null is True  # added nullable: no rewrite, no default filled in
    conn = get_connection(app.alias)
    q = conn.backend.ops.quote_name
    table = q(app.table("Order"))
    assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {q('status')} IS NULL") == [(ROWS,)]

    with caplog.at_level(logging.INFO, logger="dorm.migrations"):
        app.migrate()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Backfill Order.status")]
    assert len(lines) == 3, lines
    assert re.fullmatch(r"Backfill Order\.status: 1000/2500 rows \(40\.0%\), \d+ rows/s", lines[0])
    assert lines[-1].startswith("Backfill Order.status: 2500/2500 rows (100.0%)")
    assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {q('status')} = %s", ["new"]) == [(ROWS,)]
    assert _status_column(app).null is False
    indexes = connections[app.alias].introspection.get_indexes(app.table("Order"))
    assert indexes[f"{app.name}_status_idx"]["columns"] == ["status"]
    from dorm.exceptions import IntegrityError

    with pytest.raises(IntegrityError):
        conn.execute(f"INSERT INTO {table} ({q('qty')}, {q('status')}) VALUES (1, NULL)")


def test_backfill_resumes_after_interruption(make_app: Callable[[], TempApp], monkeypatch: pytest.MonkeyPatch) -> None:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.db.connections import get_connection
    from dorm.migrations.recorder import MigrationRecorder

    app = make_app()
    _setup(app)
    app.migrate("0002")
    original = BaseDatabaseSchemaEditor.backfill_range
    calls: list[tuple[Any, Any]] = []

    def interrupted(self: Any, model: Any, field: Any, value_sql: str, params: Any, lo: Any, hi: Any) -> int:
        calls.append((lo, hi))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C during the second batch
        return original(self, model, field, value_sql, params, lo, hi)

    monkeypatch.setattr(BaseDatabaseSchemaEditor, "backfill_range", interrupted)
    with pytest.raises(KeyboardInterrupt):
        app.migrate()
    conn = get_connection(app.alias)
    q = conn.backend.ops.quote_name
    table = q(app.table("Order"))
    assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {q('status')} IS NOT NULL") == [
        (1000,)
    ]  # batch 1 committed
    assert (app.name, "0003_backfill") not in MigrationRecorder(app.alias).applied_migrations()
    first_lo = calls[0][0]

    calls.clear()
    monkeypatch.setattr(
        BaseDatabaseSchemaEditor, "backfill_range", lambda self, *a: (calls.append(a[-2:]), original(self, *a))[1]
    )
    app.migrate()
    assert calls[0][0] == first_lo + 1000  # resumed where it stopped, batch 1 not redone
    assert len(calls) == 2
    assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {q('status')} IS NULL") == [(0,)]
    assert (app.name, "0003_backfill") in MigrationRecorder(app.alias).applied_migrations()


def test_online_sql_is_visible_without_running(make_app: Callable[[], TempApp]) -> None:
    app = make_app()
    _setup(app)
    executor = app.executor()
    step = [s for s in executor.plan(app.name, None) if s.migration.name == "0003_backfill"]
    sql = "\n".join(executor.collect_sql(step))
    assert "UPDATE" in sql and "IS NULL" in sql
    assert f"{app.name}_status_idx" in sql
