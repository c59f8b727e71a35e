"""JSONField key transforms and JSON lookups on every backend of the ``alias`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dorm
from dorm.exceptions import FieldError, NotSupportedError


class Doc(dorm.Model):
    name = dorm.CharField(max_length=30)
    data = dorm.JSONField(null=True)

    class Meta:
        app_label = "queries_json"


ROWS: dict[str, Any] = {
    "ann": {"owner": {"name": "Ann", "age": 31}, "age": 31, "tags": ["a", "b"], "flag": True, "n": "1"},
    "bob": {"owner": {"name": "Bob", "age": 25}, "age": 25, "tags": ["b"], "flag": False, "n": 1},
    "cy": {"owner": None, "age": 40, "tags": [], "score": 2.5},
    "dee": {"other": 1},
    "eve": None,
    "lst": [1, 2, 3],
}


@pytest.fixture
def docs(alias: str, create_tables: Callable[..., None]) -> str:
    create_tables(Doc)
    for name, data in ROWS.items():
        Doc.objects.create(name=name, data=data)
    return alias


def names(**filters: Any) -> list[str]:
    return sorted(Doc.objects.filter(**filters).values_list("name", flat=True))


def excluded(**filters: Any) -> list[str]:
    return sorted(Doc.objects.exclude(**filters).values_list("name", flat=True))


def test_key_exact_strings_and_nested(docs: str) -> None:
    assert names(data__owner__name="Ann") == ["ann"]
    assert names(data__owner__name="ann") == []
    assert names(data__tags__0="a") == ["ann"]
    assert names(data__tags__0="b") == ["bob"]
    assert names(data__tags__1="b") == ["ann"]


def test_key_exact_is_json_typed(docs: str) -> None:
    assert names(data__n="1") == ["ann"]  # the string "1"
    assert names(data__n=1) == ["bob"]  # the number 1
    assert names(data__age=31) == ["ann"]
    assert names(data__score=2.5) == ["cy"]
    assert names(data__tags=["b"]) == ["bob"]
    assert names(data__owner={"name": "Bob", "age": 25}) == ["bob"]


def test_key_booleans(docs: str) -> None:
    assert names(data__flag=True) == ["ann"]
    assert names(data__flag=False) == ["bob"]
    Doc.objects.create(name="one", data={"flag": 1})
    Doc.objects.create(name="zero", data={"flag": 0})
    assert names(data__flag=True) == ["ann"]  # not the number 1
    assert names(data__flag=False) == ["bob"]
    # a number still matches true on SQLite, whose json_extract reads true back as 1
    assert names(data__flag=1) == (["ann", "one"] if docs == "sqlite" else ["one"])
    assert sorted(Doc.objects.exclude(data__flag=True).values_list("name", flat=True)) == [
        "bob",
        "cy",
        "dee",
        "eve",
        "lst",
        "one",
        "zero",
    ]


def test_key_none_is_json_null_and_isnull_is_missing(docs: str) -> None:
    assert names(data__owner=None) == ["cy"]
    assert names(data__owner__isnull=False) == ["ann", "bob", "cy"]
    # missing key (and rows with no document at all)
    assert names(data__owner__isnull=True) == ["dee", "eve", "lst"]
    assert names(data__owner__name__isnull=True) == ["cy", "dee", "eve", "lst"]


def test_key_comparisons(docs: str) -> None:
    assert names(data__age__gte=31) == ["ann", "cy"]
    assert names(data__age__gt=31) == ["cy"]
    assert names(data__age__lt=31) == ["bob"]
    assert names(data__owner__age__lte=25) == ["bob"]
    assert names(data__age__range=(25, 31)) == ["ann", "bob"]
    assert names(data__age__in=[25, 40, 99]) == ["bob", "cy"]
    assert names(data__owner__name__in=["Ann", "Zed"]) == ["ann"]
    assert names(data__age__in=[]) == []


def test_key_text_lookups(docs: str) -> None:
    assert names(data__owner__name__icontains="N") == ["ann"]
    assert names(data__owner__name__startswith="B") == ["bob"]
    assert names(data__owner__name__iendswith="NN") == ["ann"]
    assert names(data__owner__name__iexact="bob") == ["bob"]
    assert names(data__owner__name__regex=r"^A.n$") == ["ann"]


def test_exclude_keeps_rows_without_the_key(docs: str) -> None:
    assert excluded(data__owner__name="Ann") == ["bob", "cy", "dee", "eve", "lst"]
    assert excluded(data__age__gte=30) == ["bob", "dee", "eve", "lst"]


def test_has_key_has_keys_has_any_keys(docs: str) -> None:
    assert names(data__has_key="owner") == ["ann", "bob", "cy"]
    assert names(data__has_key="score") == ["cy"]
    assert names(data__has_keys=["owner", "flag"]) == ["ann", "bob"]
    assert names(data__has_any_keys=["score", "other"]) == ["cy", "dee"]
    assert names(data__owner__has_key="name") == ["ann", "bob"]
    assert excluded(data__has_key="owner") == ["dee", "eve", "lst"]


def test_lookup_values_are_checked(docs: str) -> None:
    with pytest.raises(FieldError, match="has_key"):
        names(data__has_key=["a"])
    with pytest.raises(FieldError, match="list of key names"):
        names(data__has_keys="abc")
    with pytest.raises(FieldError, match="takes a value"):
        names(data__owner=dorm.F("name"))


def test_contains_and_contained_by(docs: str, backend: Any) -> None:
    if not backend.features.supports_json_field_contains:
        with pytest.raises(NotSupportedError, match="supports_json_field_contains|JSON containment"):
            names(data__contains={"age": 31})
        with pytest.raises(NotSupportedError, match="JSON containment"):
            names(data__contained_by={"age": 31})
        return
    assert names(data__contains={"age": 31}) == ["ann"]
    assert names(data__contains={"owner": {"name": "Bob"}}) == ["bob"]
    assert names(data__tags__contains=["b"]) == ["ann", "bob"]
    assert names(data__contains=[2]) == ["lst"]
    assert names(data__contained_by={"other": 1, "x": 2}) == ["dee"]


@pytest.mark.parametrize(
    "key",
    ["a'); DROP TABLE queries_json_doc; --", 'a"]; DROP TABLE x; --', "a\\'b", "$.a[0]", "%s", "?"],
)
def test_hostile_key_names_are_harmless(docs: str, key: str) -> None:
    doc = Doc.objects.create(name="evil", data={key: "v", "a": 1})
    # SQLite's JSON path syntax cannot name a key holding a double quote: such a key is not found
    found = [] if docs == "sqlite" and '"' in key else ["evil"]
    assert names(data__has_key=key) == found
    assert names(**{f"data__{key}": "v"}) == found
    assert names(**{f"data__{key}": "nope"}) == []
    assert names(**{f"data__{key}__isnull": False}) == found
    # the table is intact and the data unchanged
    assert Doc.objects.count() == len(ROWS) + 1
    assert Doc.objects.get(pk=doc.pk).data == {key: "v", "a": 1}


def test_plain_key_with_quotes_found(docs: str) -> None:
    Doc.objects.create(name="q", data={"it's": 1})
    assert names(**{"data__it's": 1}) == ["q"]
    assert names(data__has_key="it's") == ["q"]


def test_same_shape_reuses_cache_with_new_keys(docs: str) -> None:
    from dorm.sql.compiler import compile_stats

    # the key path is a parameter: other keys and depths reuse the compiled statement
    assert names(data__age=25) == ["bob"]
    before = compile_stats["compiles"]
    assert names(data__score=2.5) == ["cy"]
    assert names(data__owner__name="Ann") == ["ann"]
    assert names(data__owner__age=25) == ["bob"]
    assert compile_stats["compiles"] == before


def test_values_and_order_by_a_key(docs: str) -> None:
    rows = list(Doc.objects.filter(data__has_key="age").order_by("data__age").values_list("name", flat=True))
    assert rows == ["bob", "ann", "cy"]
    got = list(Doc.objects.filter(data__has_key="owner").order_by("name").values_list("data__owner__name", flat=True))
    assert got == ["Ann", "Bob", None]
