"""Schema editor and introspection."""

from __future__ import annotations

import dorm
from dorm.db.connections import connections
from pytest_djanorm.suite.fixtures import require, suite_tables
from pytest_djanorm.suite.requirements import Requirements

__all__ = ["Scratch", "TestSuiteSchema"]


class Scratch(dorm.Model):
    """Created and dropped by the schema tests only."""

    label = dorm.CharField(max_length=20)
    size = dorm.IntegerField(null=True)

    class Meta:
        app_label = "djanorm_suite"
        db_table = "djanorm_suite_scratch"


def _ddl(alias: str, action: str, model: type[dorm.Model]) -> None:
    wrapper = connections[alias]
    conn = wrapper.acquire()
    try:
        getattr(wrapper.schema_editor(conn), action)(model)
    finally:
        wrapper.release(conn)


class TestSuiteSchema:
    def test_create_and_delete_model(self, suite_db: str, requirements: Requirements) -> None:
        q = connections[suite_db].ops.quote_name
        dorm.get_connection(suite_db).execute(f"DROP TABLE IF EXISTS {q(Scratch._meta.db_table)}")
        _ddl(suite_db, "create_model", Scratch)
        try:
            Scratch.objects.create(label="x", size=None)
            assert Scratch.objects.get(label="x").size is None
            if requirements.introspection:
                assert Scratch._meta.db_table in connections[suite_db].introspection.table_names()
        finally:
            _ddl(suite_db, "delete_model", Scratch)
        if requirements.introspection:
            assert Scratch._meta.db_table not in connections[suite_db].introspection.table_names()
        else:
            try:
                dorm.get_connection(suite_db).execute(f"SELECT 1 FROM {q(Scratch._meta.db_table)}")
            except dorm.DatabaseError:
                return
            raise AssertionError("delete_model() left the table in place")

    def test_introspection_table_names(self, suite_db: str, requirements: Requirements) -> None:
        require(requirements, "introspection")
        names = connections[suite_db].introspection.table_names()
        assert set(suite_tables()) <= set(names)
        assert names == sorted(names)
