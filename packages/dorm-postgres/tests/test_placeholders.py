"""``%s`` SQL runs as native ``$n`` SQL on psycopg's raw cursors, with the same results."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import dorm
from dorm.backends.base.placeholders import to_numbered as native

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT %s", "SELECT $1"),
        ("SELECT %s, %s + %s", "SELECT $1, $2 + $3"),
        ("SELECT '100%%' || %s", "SELECT '100%' || $1"),
        ("SELECT 'a%%s', %s", "SELECT 'a%s', $1"),  # an escaped percent before an "s" is text
        ("SELECT '%%%s'", "SELECT '%$1'"),
        ("x LIKE '%%'", "x LIKE '%'"),
        ("SELECT %(name)s", None),  # named parameters stay with psycopg's parser
        ("SELECT %b", None),
        ("SELECT 5 %", None),
        ("%s%s", "$1$2"),
    ],
)
def test_conversion(sql: str, expected: str | None) -> None:
    assert native(sql) == expected
    assert native(sql) == expected  # from the cache too


def test_thousands_of_placeholders() -> None:
    sql = "INSERT INTO t VALUES " + ", ".join(["(%s, %s)"] * 3000)
    converted = native(sql)
    assert converted is not None
    assert converted.endswith("($5999, $6000)")
    assert "%" not in converted


@pytest.fixture
def table(configure_pg: Any) -> None:
    configure_pg()
    conn = dorm.get_connection()
    conn.execute("DROP TABLE IF EXISTS ph_item")
    conn.execute("CREATE TABLE ph_item (id serial PRIMARY KEY, name text NOT NULL, qty int)")


def test_percent_signs_and_parameters_on_the_server(table: None) -> None:
    conn = dorm.get_connection()
    conn.execute("INSERT INTO ph_item (name, qty) VALUES (%s, %s), (%s, %s)", ["50%% off", 1, "plain", 2])
    assert conn.execute("SELECT name FROM ph_item WHERE qty = %s", [1]) == [("50%% off",)]  # values are never parsed
    rows = conn.execute("SELECT name FROM ph_item WHERE name LIKE %s ORDER BY id", ["%\\%%"])
    assert rows == [("50%% off",)]
    assert conn.execute("SELECT '100%%' || %s", ["!"]) == [("100%!",)]
    # a statement without parameters is sent as written, as psycopg does
    assert conn.execute("SELECT 'a%%b'") == [("a%%b",)]


def test_bulk_create_of_thousands_of_rows_round_trips(configure_pg: Any) -> None:
    configure_pg()

    class Item(dorm.Model):
        name = dorm.CharField(max_length=40)
        qty = dorm.IntegerField(null=True)

        class Meta:
            app_label = "ph"
            db_table = "ph_model_item"

    conn = dorm.get_connection()
    conn.execute("DROP TABLE IF EXISTS ph_model_item")
    conn.execute("CREATE TABLE ph_model_item (id bigserial PRIMARY KEY, name varchar(40) NOT NULL, qty int)")
    objs = Item.objects.bulk_create([Item(name=f"n{i}%s", qty=i if i % 3 else None) for i in range(5000)])
    assert len({o.pk for o in objs}) == 5000
    assert Item.objects.count() == 5000
    assert Item.objects.get(pk=objs[4999].pk).name == "n4999%s"
    assert Item.objects.filter(qty=None).count() == 1667
    assert Item.objects.filter(name__contains="9%s").count() == 500

    async def async_side() -> int:
        created = await Item.objects.abulk_create([Item(name=f"a{i}%%", qty=i) for i in range(2000)])
        assert all(o.pk for o in created)
        return await Item.objects.filter(name__endswith="%%").acount()

    assert asyncio.run(async_side()) == 2000
    asyncio.run(dorm.close_all_async())
