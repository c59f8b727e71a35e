"""JSONField key transforms and lookups on DuckDB (containment is not supported there)."""

from __future__ import annotations

from typing import Any

import pytest

import dorm
from dorm.db.connections import connections
from dorm.exceptions import NotSupportedError


class Sheet(dorm.Model):
    name = dorm.CharField(max_length=30)
    data = dorm.JSONField(null=True)

    class Meta:
        app_label = "duckdb_json_tests"
        db_table = "dk_sheet"


ROWS: dict[str, Any] = {
    "ann": {"owner": {"name": "Ann"}, "age": 31, "tags": ["a", "b"], "n": "1"},
    "bob": {"owner": {"name": "Bob"}, "age": 100, "tags": ["b"], "n": 1},
    "cy": {"owner": None, "age": 4, "word": "pear"},
    "dee": {"other": 1, "word": "apple"},
    "eve": None,
}


@pytest.fixture
def sheets(empty_db: str) -> str:
    backend = connections["default"]
    conn = backend.acquire()
    try:
        with backend.schema_editor(conn) as editor:
            editor.create_model(Sheet)
    finally:
        backend.release(conn)
    for name, data in ROWS.items():
        Sheet.objects.create(name=name, data=data)
    return empty_db


def names(**filters: Any) -> list[str]:
    return sorted(Sheet.objects.filter(**filters).values_list("name", flat=True))


def test_key_transforms_compare_json_values(sheets: str) -> None:
    assert names(data__owner__name="Ann") == ["ann"]
    assert names(data__tags__0="b") == ["bob"]
    assert names(data__n="1") == ["ann"]
    assert names(data__n=1) == ["bob"]
    assert names(data__owner=None) == ["cy"]
    assert names(data__owner__isnull=True) == ["dee", "eve"]
    assert names(data__age__in=[4, 31]) == ["ann", "cy"]
    assert names(data__owner__name__icontains="n") == ["ann"]
    assert sorted(Sheet.objects.exclude(data__owner__name="Ann").values_list("name", flat=True)) == [
        "bob",
        "cy",
        "dee",
        "eve",
    ]


def test_ordering_comparisons_are_numeric_for_numbers(sheets: str) -> None:
    # as JSON text '100' < '31'; DuckDB must compare them as numbers
    assert names(data__age__gt=30) == ["ann", "bob"]
    assert names(data__age__lte=31) == ["ann", "cy"]
    assert names(data__age__range=(5, 100)) == ["ann", "bob"]
    assert names(data__word__gt="b") == ["cy"]


def test_booleans_are_not_numbers(sheets: str) -> None:
    Sheet.objects.create(name="t", data={"flag": True})
    Sheet.objects.create(name="one", data={"flag": 1})
    assert names(data__flag=True) == ["t"]
    assert names(data__flag=1) == ["one"]


def test_has_key_family(sheets: str) -> None:
    assert names(data__has_key="owner") == ["ann", "bob", "cy"]
    assert names(data__has_keys=["owner", "tags"]) == ["ann", "bob"]
    assert names(data__has_any_keys=["word", "nope"]) == ["cy", "dee"]


def test_containment_is_refused_with_the_reason(sheets: str) -> None:
    assert connections["default"].features.supports_json_field_contains is False
    with pytest.raises(NotSupportedError, match="JSON containment"):
        names(data__contains={"age": 31})
    with pytest.raises(NotSupportedError, match="JSON containment"):
        names(data__contained_by={"age": 31})


def test_hostile_key_is_a_parameter(sheets: str) -> None:
    key = "a'); DROP TABLE dk_sheet; --"
    Sheet.objects.create(name="evil", data={key: 1})
    assert names(data__has_key=key) == ["evil"]
    assert names(**{f"data__{key}": 1}) == ["evil"]
    assert Sheet.objects.count() == len(ROWS) + 1
