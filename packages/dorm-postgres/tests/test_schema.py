"""Schema editor and introspection on a live PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

import dorm
from dorm.db.connections import connections
from dorm.transaction import atomic

pytestmark = pytest.mark.postgres
_names = itertools.count(1)


def _model(table: str, **fields: Any) -> Any:
    """A fresh model class on ``table`` (new class name each time, same app)."""
    attrs: dict[str, Any] = dict(fields)
    attrs["__module__"] = __name__
    attrs["Meta"] = type("Meta", (), {"app_label": "pgschema", "db_table": table})
    return type(f"PgSchemaModel{next(_names)}", (dorm.Model,), attrs)


@pytest.fixture
def editor_conn(configure_pg: Any) -> Iterator[Any]:
    """A backend connection in autocommit for schema editors, released afterwards."""
    configure_pg()
    backend = connections["default"]
    conn = backend.acquire()
    yield conn
    backend.release(conn)


def _scalar(sql: str, params: Any = None) -> Any:
    return dorm.get_connection().execute(sql, params)[0][0]


def test_every_field_type_round_trips_through_introspection(editor_conn: Any) -> None:
    model = _model(
        "pg_types",
        big=dorm.BigIntegerField(),
        small=dorm.SmallIntegerField(),
        pos=dorm.PositiveIntegerField(),
        flag=dorm.BooleanField(default=False),
        name=dorm.CharField(max_length=40, unique=True),
        body=dorm.TextField(null=True),
        price=dorm.DecimalField(max_digits=10, decimal_places=2),
        ratio=dorm.FloatField(),
        day=dorm.DateField(),
        at=dorm.DateTimeField(),
        clock=dorm.TimeField(),
        span=dorm.DurationField(),
        blob=dorm.BinaryField(),
        uid=dorm.UUIDField(),
        data=dorm.JSONField(),
        ip=dorm.GenericIPAddressField(),
    )
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    editor.execute('DROP TABLE IF EXISTS "pg_types"')
    editor.create_model(model)
    live = {c.name: c for c in backend.introspection.get_table_description("pg_types")}
    for field in model._meta.fields:
        expected = backend.introspection.normalize_type(editor.column_type(field))
        assert live[field.column].type == expected, field.name
        assert live[field.column].null == field.null
    assert live["id"].primary_key and live["id"].type == "bigint"
    assert {
        "pg_types",
    } <= set(backend.introspection.table_names())
    assert backend.introspection.normalize_type("timestamp with time zone") == live["at"].type
    kinds = {c.name: c.type for c in live.values()}
    assert kinds["data"] == "jsonb" and kinds["uid"] == "uuid" and kinds["span"] == "interval"
    assert kinds["blob"] == "bytea" and kinds["ip"] == "inet" and kinds["price"] == "numeric(10,2)"
    constraints = backend.introspection.get_constraints("pg_types")
    assert any(c["primary_key"] and c["columns"] == ["id"] for c in constraints.values())
    assert any(c["unique"] and not c["primary_key"] and c["columns"] == ["name"] for c in constraints.values())
    assert any(c["check"] and c["columns"] == ["pos"] for c in constraints.values())
    # the identity column numbers rows; the native types take native values
    import datetime
    import decimal
    import uuid

    row = dorm.get_connection().execute(
        'INSERT INTO "pg_types" (big, small, pos, flag, name, price, ratio, day, at, clock, span, blob, uid, data, ip) '
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) RETURNING id, at, span, uid",
        [
            1,
            2,
            3,
            True,
            "n",
            decimal.Decimal("1.50"),
            0.5,
            datetime.date(2026, 1, 2),
            datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC),
            datetime.time(5, 6),
            datetime.timedelta(days=1, seconds=3),
            b"\x00\x01",
            uuid.UUID(int=5),
            '{"a": 1}',
            "10.0.0.1",
        ],
    )[0]
    assert row[0] == 1 and row[1].tzinfo is not None and row[2] == datetime.timedelta(days=1, seconds=3)
    assert row[3] == uuid.UUID(int=5)


def test_constant_default_is_metadata_only(editor_conn: Any) -> None:
    """Adding a NOT NULL column with a constant default rewrites nothing (PostgreSQL 11+)."""
    base = _model("pg_big", name=dorm.CharField(max_length=20))
    wider = _model("pg_big", name=dorm.CharField(max_length=20), score=dorm.IntegerField(default=7))
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    editor.execute('DROP TABLE IF EXISTS "pg_big"')
    editor.create_model(base)
    dorm.get_connection().execute("INSERT INTO pg_big (name) SELECT 'n' || g FROM generate_series(1, 20000) g")
    before = _scalar("SELECT pg_relation_filenode('pg_big')")
    collect = backend.schema_editor(collect_sql=True)
    collect.add_field(wider, wider._meta.get_field("score"))
    assert not any(s.startswith("UPDATE") for s in collect.collected_sql), collect.collected_sql
    editor.add_field(wider, wider._meta.get_field("score"))
    after = _scalar("SELECT pg_relation_filenode('pg_big')")
    assert after == before  # same file: no table rewrite
    assert _scalar("SELECT atthasmissing FROM pg_attribute WHERE attrelid = 'pg_big'::regclass AND attname = 'score'")
    assert _scalar("SELECT count(*) FROM pg_big WHERE score = 7") == 20000
    col = {c.name: c for c in backend.introspection.get_table_description("pg_big")}["score"]
    assert col.null is False and col.default is None  # the default was only for existing rows
    assert backend.features.supports_metadata_only_default


def test_online_not_null_uses_a_not_valid_check(editor_conn: Any) -> None:
    base = _model("pg_online", name=dorm.CharField(max_length=20))
    final = _model("pg_online", name=dorm.CharField(max_length=20), code=dorm.IntegerField())
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    editor.execute('DROP TABLE IF EXISTS "pg_online"')
    editor.create_model(base)
    dorm.get_connection().execute("INSERT INTO pg_online (name) SELECT 'n' || g FROM generate_series(1, 500) g")
    field = final._meta.get_field("code")
    editor.add_field_online(final, field)
    assert {c.name: c for c in backend.introspection.get_table_description("pg_online")}["code"].null
    changed = sum(editor.backfill_range(final, field, "%s", [42], lo, lo + 100) for lo in range(1, 501, 100))
    assert changed == 500
    collect = backend.schema_editor(collect_sql=True)
    collect.set_not_null_online(final, field)
    sql = " ".join(collect.collected_sql)
    assert "NOT VALID" in sql and "VALIDATE CONSTRAINT" in sql and "SET NOT NULL" in sql and "DROP CONSTRAINT" in sql
    editor.set_not_null_online(final, field)
    assert not {c.name: c for c in backend.introspection.get_table_description("pg_online")}["code"].null
    assert not any(c["check"] for c in backend.introspection.get_constraints("pg_online").values())
    with pytest.raises(dorm.IntegrityError):
        dorm.get_connection().execute("INSERT INTO pg_online (name) VALUES ('x')")


def test_concurrent_index_runs_outside_transactions_only(editor_conn: Any) -> None:
    model = _model("pg_idx", name=dorm.CharField(max_length=20))
    index = dorm.Index(fields=["name"], name="pg_idx_name_cc")
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    editor.execute('DROP TABLE IF EXISTS "pg_idx"')
    editor.create_model(model)
    with atomic():
        from dorm.transaction import current_transaction

        tx = current_transaction("default")
        assert tx is not None
        with pytest.raises(dorm.NotSupportedError, match="atomic = False"):
            backend.schema_editor(tx.sync_connection()).add_index_concurrently(model, index)
    editor.add_index_concurrently(model, index)
    info = backend.introspection.get_constraints("pg_idx")["pg_idx_name_cc"]
    assert info["index"] and info["columns"] == ["name"] and info["valid"]
    collect = backend.schema_editor(collect_sql=True)
    collect.add_index_concurrently(model, index)
    assert "CREATE INDEX CONCURRENTLY" in collect.collected_sql[0]
    editor.remove_index_concurrently(model, index)
    assert "pg_idx_name_cc" not in backend.introspection.get_constraints("pg_idx")


def test_migration_lock_is_an_advisory_lock(editor_conn: Any, admin: Any) -> None:
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    key = editor.migration_lock_key
    editor.lock_migrations()
    try:
        assert admin.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (False,)
    finally:
        editor.unlock_migrations()
    assert admin.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)
    admin.execute("SELECT pg_advisory_unlock(%s)", [key])
    assert backend.features.supports_migration_lock


def test_foreign_keys_are_introspected(editor_conn: Any) -> None:
    parent = _model("pg_parent", name=dorm.CharField(max_length=20))
    child = _model("pg_child", parent=dorm.ForeignKey(parent, on_delete=dorm.CASCADE))
    backend = connections["default"]
    editor = backend.schema_editor(editor_conn)
    editor.execute('DROP TABLE IF EXISTS "pg_child"')
    editor.execute('DROP TABLE IF EXISTS "pg_parent"')
    editor.create_model(parent)
    editor.create_model(child)
    assert backend.introspection.get_relations("pg_child") == {"parent_id": ("pg_parent", "id")}
    assert {c.name: c.type for c in backend.introspection.get_table_description("pg_child")}["parent_id"] == "bigint"
    assert any(i["columns"] == ["parent_id"] for i in backend.introspection.get_indexes("pg_child").values())
