"""``dorm.migrations.migrate`` / ``create_tables``: the engine from Python (fixtures, scripts)."""

from __future__ import annotations

from collections.abc import Callable

import dorm

from .conftest import TempApp

INITIAL = """
import dorm
from dorm import migrations

class Migration(migrations.Migration):
    operations = [migrations.CreateModel("Thing", [("id", dorm.BigAutoField(primary_key=True)), ("n", dorm.IntegerField())])]
"""


def test_migrate_applies_and_rolls_back(make_app: Callable[[], TempApp], alias: str) -> None:
    from dorm.db.connections import connections

    app = make_app()
    app.migration("0001_initial.py", INITIAL)
    ran = dorm.migrations.migrate(using=alias, apps=[app.name])
    assert ran == [f"Apply {app.name}.0001_initial"]
    assert app.table("Thing") in connections[alias].introspection.table_names()
    assert dorm.migrations.migrate(using=alias, apps=[app.name]) == []
    assert dorm.migrations.migrate(using=alias, app_label=app.name, target="zero", apps=[app.name]) == [
        f"Unapply {app.name}.0001_initial"
    ]
    assert app.table("Thing") not in connections[alias].introspection.table_names()


class Shelf(dorm.Model):
    label = dorm.CharField(max_length=20)

    class Meta:
        app_label = "h7api"


class Volume(dorm.Model):
    shelf = dorm.ForeignKey(Shelf, on_delete=dorm.CASCADE)
    title = dorm.CharField(max_length=50)

    class Meta:
        app_label = "h7api"


def test_create_tables_orders_relations(alias: str) -> None:
    from dorm.db.connections import connections, get_connection

    conn = get_connection(alias)
    q = conn.backend.ops.quote_name
    cascade = " CASCADE" if conn.backend.vendor == "postgresql" else ""
    try:
        dorm.migrations.create_tables([Volume, Shelf], using=alias)
        shelf = Shelf.objects.create(label="A")
        Volume.objects.create(shelf=shelf, title="Dune")
        assert Volume.objects.filter(shelf__label="A").count() == 1
        assert connections[alias].introspection.get_relations("h7api_volume") == {"shelf_id": ("h7api_shelf", "id")}
    finally:
        for table in ("h7api_volume", "h7api_shelf"):
            conn.execute(f"DROP TABLE IF EXISTS {q(table)}{cascade}")
