"""The DuckDB schema editor and introspection: types, sequences, what ALTER TABLE can do."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import dorm
from dorm.backends.base.connection import BaseConnection
from dorm.db.connections import connections


class Gadget(dorm.Model):
    name = dorm.CharField(max_length=40, unique=True)
    weight = dorm.FloatField(default=0.0)
    price = dorm.DecimalField(max_digits=10, decimal_places=2, null=True)
    active = dorm.BooleanField(default=True)
    made = dorm.DateField(null=True)
    seen = dorm.DateTimeField(null=True)
    lasts = dorm.DurationField(null=True)
    token = dorm.UUIDField(null=True)
    data = dorm.JSONField(null=True)
    raw = dorm.BinaryField(null=True)
    serial = dorm.IntegerField(db_index=True, default=0)

    class Meta:
        app_label = "duckdb_schema_tests"
        db_table = "dk_gadget"


@pytest.fixture
def conn(empty_db: str) -> Iterator[BaseConnection]:
    backend = connections["default"]
    connection = backend.acquire()
    try:
        with backend.schema_editor(connection) as editor:
            editor.create_model(Gadget)
        yield connection
    finally:
        backend.release(connection)


def editor(conn: BaseConnection) -> Any:
    return connections["default"].schema_editor(conn)


def test_column_types_are_native(conn: BaseConnection) -> None:
    introspection = connections["default"].introspection
    assert "dk_gadget" in introspection.table_names(conn)
    types = {c.name: c.type for c in introspection.get_table_description("dk_gadget", conn)}
    assert types == {
        "id": "bigint",
        "name": "varchar",
        "weight": "double",
        "price": "decimal(10,2)",
        "active": "boolean",
        "made": "date",
        "seen": "timestamptz",
        "lasts": "interval",
        "token": "uuid",
        "data": "json",
        "raw": "blob",
        "serial": "integer",
    }
    assert introspection.get_primary_key("dk_gadget", conn) == "id"


def test_constraints_and_indexes_are_introspected(conn: BaseConnection) -> None:
    constraints = connections["default"].introspection.get_constraints("dk_gadget", conn)
    kinds = {
        (tuple(info["columns"]), info["primary_key"], info["unique"], info["index"]) for info in constraints.values()
    }
    assert (("id",), True, True, False) in kinds
    assert (("name",), False, True, False) in kinds
    assert (("serial",), False, False, True) in kinds


def test_values_round_trip_with_native_types(conn: BaseConnection) -> None:
    token = uuid.uuid4()
    made = Gadget.objects.create(name="g", token=token, data={"a": [1, 2]}, raw=b"\x00\xff")
    got = Gadget.objects.get(pk=made.pk)
    assert got.token == token and got.data == {"a": [1, 2]} and bytes(got.raw) == b"\x00\xff"
    assert Gadget.objects.filter(token=token).count() == 1


_names = itertools.count(1)


def _model(table: str, **fields: Any) -> Any:
    """A fresh model class on ``table`` (new class name each time, same app): one migration state."""
    attrs: dict[str, Any] = dict(fields)
    attrs["__module__"] = __name__
    attrs["Meta"] = type("Meta", (), {"app_label": "duckdb_schema_states", "db_table": table})
    return type(f"DuckSchemaModel{next(_names)}", (dorm.Model,), attrs)


def test_add_alter_rename_remove_field(empty_db: str) -> None:
    backend = connections["default"]
    conn = backend.acquire()
    try:
        v1 = _model("dk_evolving", name=dorm.CharField(max_length=20))
        v2 = _model(
            "dk_evolving",
            name=dorm.CharField(max_length=20),
            color=dorm.CharField(max_length=20, default="red"),
            code=dorm.CharField(max_length=20, null=True, unique=True),
        )
        v3 = _model(
            "dk_evolving",
            name=dorm.CharField(max_length=20),
            colour=dorm.CharField(max_length=20, default="red"),
            code=dorm.CharField(max_length=20, null=True, unique=True),
        )
        v4 = _model(
            "dk_evolving",
            name=dorm.CharField(max_length=20),
            colour=dorm.CharField(max_length=20, null=True),
            code=dorm.CharField(max_length=20, null=True, unique=True),
        )
        raw = dorm.get_connection()
        with backend.schema_editor(conn) as ed:
            ed.create_model(v1)
        raw.execute("INSERT INTO dk_evolving (name) VALUES (%s)", ["before"])
        with backend.schema_editor(conn) as ed:
            ed.add_field(v2, v2._meta.get_field("color"))  # NOT NULL with a default, on a table with rows
            ed.add_field(v2, v2._meta.get_field("code"))  # unique: becomes a unique index
        assert raw.execute("SELECT color, code FROM dk_evolving") == [("red", None)]
        raw.execute("UPDATE dk_evolving SET code = %s", ["c1"])
        with pytest.raises(dorm.IntegrityError):
            raw.execute("INSERT INTO dk_evolving (name, color, code) VALUES (%s, %s, %s)", ["x", "red", "c1"])
        with pytest.raises(dorm.IntegrityError):  # NOT NULL holds
            raw.execute("INSERT INTO dk_evolving (name, color) VALUES (%s, NULL)", ["y"])
        with backend.schema_editor(conn) as ed:
            ed.rename_field(v3, v2._meta.get_field("color"), v3._meta.get_field("colour"))
            ed.alter_field(v4, v3._meta.get_field("colour"), v4._meta.get_field("colour"))
        raw.execute("INSERT INTO dk_evolving (name, colour) VALUES (%s, NULL)", ["z"])
        with backend.schema_editor(conn) as ed:
            ed.remove_field(v4, v4._meta.get_field("colour"))
        columns = [c.name for c in backend.introspection.get_table_description("dk_evolving", conn)]
        assert columns == ["id", "name", "code"]
    finally:
        backend.release(conn)


def test_delete_model_drops_the_sequence(conn: BaseConnection) -> None:
    with editor(conn) as ed:
        ed.delete_model(Gadget)
    rows = dorm.get_connection().execute(
        "SELECT count(*) FROM duckdb_sequences() WHERE sequence_name = 'dk_gadget_id_seq'"
    )
    assert rows == [(0,)]
    with editor(conn) as ed:
        ed.create_model(Gadget)  # and it can be created again
    assert Gadget.objects.create(name="again").pk == 1


def test_collected_sql_shows_the_sequence(empty_db: str) -> None:
    ed = connections["default"].schema_editor(collect_sql=True)
    ed.create_model(Gadget)
    assert ed.collected_sql[0] == 'CREATE SEQUENCE IF NOT EXISTS "dk_gadget_id_seq";'
    assert "DEFAULT nextval('dk_gadget_id_seq') NOT NULL PRIMARY KEY" in ed.collected_sql[1]


def test_check_constraint_on_existing_table_is_refused_clearly(conn: BaseConnection) -> None:
    constraint = dorm.CheckConstraint(check=dorm.Q(weight__gte=0), name="weight_positive")
    with pytest.raises(dorm.NotSupportedError, match="ADD CONSTRAINT is not supported"):
        editor(conn).add_constraint(Gadget, constraint)


def test_alters_on_a_table_with_indexes_keep_the_indexes(empty_db: str) -> None:
    """DuckDB refuses most ALTERs while a table has indexes; the editor sets them aside and recreates them."""
    backend = connections["default"]
    introspection = backend.introspection
    conn = backend.acquire()
    try:
        v1 = _model(
            "dk_indexed", serial=dorm.IntegerField(db_index=True), size=dorm.IntegerField(null=True, db_index=True)
        )
        v2 = _model(
            "dk_indexed", number=dorm.IntegerField(db_index=True), size=dorm.IntegerField(null=True, db_index=True)
        )
        v3 = _model("dk_indexed", number=dorm.BigIntegerField(db_index=True), size=dorm.IntegerField(null=True))
        with backend.schema_editor(conn) as ed:
            ed.create_model(v1)
        dorm.get_connection().execute("INSERT INTO dk_indexed (serial, size) VALUES (1, 2)")
        with backend.schema_editor(conn) as ed:
            ed.rename_field(v2, v1._meta.get_field("serial"), v2._meta.get_field("number"))
            ed.alter_field(v3, v2._meta.get_field("number"), v3._meta.get_field("number"))  # integer -> bigint
            ed.alter_field(v3, v2._meta.get_field("size"), v3._meta.get_field("size"))  # drops its index
        indexes = introspection.get_indexes("dk_indexed", conn)
        assert sorted(info["columns"] for info in indexes.values()) == [["number"]]
        types = {c.name: c.type for c in introspection.get_table_description("dk_indexed", conn)}
        assert types["number"] == "bigint"
        with backend.schema_editor(conn) as ed:
            ed.remove_field(v3, v3._meta.get_field("number"))  # its index goes with it
            ed.alter_db_table(v3, "dk_indexed", "dk_indexed_renamed")
        assert "dk_indexed_renamed" in introspection.table_names(conn)
        assert introspection.get_indexes("dk_indexed_renamed", conn) == {}
        assert dorm.get_connection().execute("SELECT size FROM dk_indexed_renamed") == [(2,)]
    finally:
        backend.release(conn)


def test_changes_duckdb_refuses_in_a_transaction_rebuild_the_table(empty_db: str) -> None:
    """Inside a transaction DuckDB refuses DROP COLUMN / ALTER TYPE on indexed or unique columns: the table is copied."""
    from dorm.transaction import atomic, current_transaction

    backend = connections["default"]
    v1 = _model(
        "dk_rebuilt",
        code=dorm.CharField(max_length=10, unique=True),
        level=dorm.IntegerField(db_index=True),
        other=dorm.IntegerField(db_index=True, default=0),
    )
    v2 = _model(
        "dk_rebuilt",
        code=dorm.CharField(max_length=10, unique=True),
        level=dorm.BigIntegerField(db_index=True),
        other=dorm.IntegerField(db_index=True, default=0),
    )
    v3 = _model(
        "dk_rebuilt", level=dorm.BigIntegerField(db_index=True), other=dorm.IntegerField(db_index=True, default=0)
    )
    with atomic():
        conn = current_transaction("default").connection  # type: ignore[union-attr]
        with backend.schema_editor(conn) as ed:
            ed.create_model(v1)
    raw = dorm.get_connection()
    raw.execute("INSERT INTO dk_rebuilt (code, level, other) VALUES (%s, %s, 0), (%s, %s, 0)", ["a", 1, "b", 2])
    with atomic():
        conn = current_transaction("default").connection  # type: ignore[union-attr]
        with backend.schema_editor(conn) as ed:
            ed.alter_field(v2, v1._meta.get_field("level"), v2._meta.get_field("level"))
            ed.remove_field(v2, v2._meta.get_field("code"))
    introspection = backend.introspection
    types = {c.name: c.type for c in introspection.get_table_description("dk_rebuilt")}
    assert types == {"id": "bigint", "level": "bigint", "other": "integer"}
    assert sorted(info["columns"] for info in introspection.get_indexes("dk_rebuilt").values()) == [
        ["level"],
        ["other"],
    ]
    assert raw.execute("SELECT id, level FROM dk_rebuilt ORDER BY id") == [(1, 1), (2, 2)]
    assert v3.objects.create(level=3).pk == 3  # the key's sequence survived the copy


def test_dropping_a_declared_unique_copies_the_table(empty_db: str) -> None:
    backend = connections["default"]
    v1 = _model("dk_ununique", code=dorm.CharField(max_length=10, unique=True))
    v2 = _model("dk_ununique", code=dorm.CharField(max_length=10))
    raw = dorm.get_connection()
    conn = backend.acquire()
    try:
        with backend.schema_editor(conn) as ed:
            ed.create_model(v1)
        raw.execute("INSERT INTO dk_ununique (code) VALUES (%s)", ["a"])
        with pytest.raises(dorm.IntegrityError):
            raw.execute("INSERT INTO dk_ununique (code) VALUES (%s)", ["a"])
        with backend.schema_editor(conn) as ed:
            ed.alter_field(v2, v1._meta.get_field("code"), v2._meta.get_field("code"))
    finally:
        backend.release(conn)
    raw.execute("INSERT INTO dk_ununique (code) VALUES (%s)", ["a"])
    assert raw.execute("SELECT count(*) FROM dk_ununique WHERE code = 'a'") == [(2,)]
