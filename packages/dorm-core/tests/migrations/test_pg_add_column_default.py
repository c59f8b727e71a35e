"""Seed entry "Migration runs forever" on a big table.

PostgreSQL <= 10 rewrote the whole table for ``ADD COLUMN ... NOT NULL DEFAULT``;
11+ stores a constant default in the catalogue (metadata-only).  We run
PostgreSQL 15: a rewrite shows as a new ``pg_class.relfilenode``.  The symptom
(a rewrite) is produced with a volatile default; the fix (a constant default,
which ``AddField`` emits as one ALTER TABLE, or the online recipe) is shown
to leave the table file alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from .conftest import TempApp

pytestmark = pytest.mark.postgres

INITIAL = """
import dorm
from dorm import migrations

class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel("Order", [("id", dorm.BigAutoField(primary_key=True)), ("qty", dorm.IntegerField())]),
    ]
"""


def _relfilenode(table: str) -> int:
    from dorm.db.connections import get_connection

    rows = get_connection("postgresql").execute("SELECT relfilenode FROM pg_class WHERE relname = %s", [table])
    return int(rows[0][0])


def _fill(app: TempApp, rows: int = 5000) -> None:
    from dorm.db.connections import get_connection

    conn = get_connection("postgresql")
    q = conn.backend.ops.quote_name
    conn.execute(f"INSERT INTO {q(app.table('Order'))} ({q('qty')}) SELECT g FROM generate_series(1, %s) g", [rows])


@pytest.mark.parametrize("alias", ["postgresql"], indirect=True)
def test_constant_default_adds_column_without_rewrite(
    make_app: Callable[[], TempApp], alias: str, caplog: pytest.LogCaptureFixture
) -> None:
    from dorm.db.connections import get_connection

    app = make_app()
    app.migration("0001_initial.py", INITIAL)
    app.migration(
        "0002_status.py",
        f"""
        import dorm
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("{app.name}", "0001_initial")]
            operations = [migrations.AddField("Order", "status", dorm.CharField(max_length=10, default="new"))]
        """,
    )
    app.migrate("0001")
    _fill(app)
    before = _relfilenode(app.table("Order"))
    with caplog.at_level(logging.DEBUG, logger="dorm.db"):
        app.migrate()
    assert _relfilenode(app.table("Order")) == before  # no rewrite
    statements = [getattr(r, "sql", "") for r in caplog.records if r.name == "dorm.db"]
    table = app.table("Order")
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE") and table in s]  # no backfill UPDATE
    assert [s for s in statements if s.startswith("ALTER TABLE") and "ADD COLUMN" in s and "DEFAULT 'new'" in s]
    conn = get_connection("postgresql")
    q = conn.backend.ops.quote_name
    assert conn.execute(f"SELECT COUNT(*) FROM {q(app.table('Order'))} WHERE {q('status')} = 'new'") == [(5000,)]


@pytest.mark.parametrize("alias", ["postgresql"], indirect=True)
def test_volatile_default_rewrites_the_table(make_app: Callable[[], TempApp], alias: str) -> None:
    """The symptom's mechanism: a default PostgreSQL must compute per row rewrites every row."""
    app = make_app()
    app.migration("0001_initial.py", INITIAL)
    app.migration(
        "0002_stamp.py",
        f"""
        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("{app.name}", "0001_initial")]
            operations = [
                migrations.RunSQL(
                    'ALTER TABLE "{app.table("Order")}" ADD COLUMN "stamp" timestamptz NOT NULL DEFAULT clock_timestamp()',
                    reverse_sql='ALTER TABLE "{app.table("Order")}" DROP COLUMN "stamp"',
                ),
            ]
        """,
    )
    app.migrate("0001")
    _fill(app)
    before = _relfilenode(app.table("Order"))
    app.migrate()
    assert _relfilenode(app.table("Order")) != before
