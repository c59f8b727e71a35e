"""Golden SQL for the compiler, without a database (a SQLite wrapper that never connects)."""

from __future__ import annotations

from typing import Any

import pytest

from dorm import Count, F, Q, Sum
from dorm.exceptions import FieldError
from dorm.sql.cache import compiled
from dorm.sql.compiler import compile_stats
from dorm.sql.query import KeyContext
from dorm_sqlite.base import DatabaseWrapper

from .models import Author, Book, Publisher

WRAPPER = DatabaseWrapper("golden", {"NAME": ":memory:", "ENGINE": "sqlite", "OPTIONS": {}})


def assert_sql(qs: Any, sql: str, params: list[Any]) -> None:
    """Compile ``qs`` freshly and from the cache; both give ``sql`` and ``params``."""
    query = qs.query
    query.apply_default_ordering()
    compiler = WRAPPER.get_compiler_class()(WRAPPER)
    got_sql, got_params, _plan = compiler.compile_query(query)
    assert got_sql == sql
    assert got_params == params
    kc = KeyContext(WRAPPER)
    query.key(kc)
    assert kc.params == params  # the key walk collects the same parameters in the same order
    cached_sql, cached_params, _ = compiled(query, WRAPPER)
    assert (cached_sql, cached_params) == (sql, params)


A = '"queries_author"'


def test_select_all() -> None:
    assert_sql(
        Author.objects.all(),
        f'SELECT {A}."id", {A}."name", {A}."age", {A}."email", {A}."publisher_id" FROM {A}',
        [],
    )


def test_filter_exact_and_lookups() -> None:
    assert_sql(
        Author.objects.only("name").filter(name="x", age__gte=3),
        f'SELECT {A}."id", {A}."name" FROM {A} WHERE ({A}."age" >= ?) AND ({A}."name" = ?)',
        [3, "x"],
    )


def test_none_is_is_null_and_in() -> None:
    assert_sql(
        Author.objects.only("id").filter(age=None, pk__in=[1, 2]),
        f'SELECT {A}."id" FROM {A} WHERE ({A}."age" IS NULL) AND ({A}."id" IN (?, ?))',
        [1, 2],
    )


def test_like_escapes_wildcards() -> None:
    assert_sql(
        Author.objects.only("id").filter(name__icontains="50%_off"),
        f'SELECT {A}."id" FROM {A} WHERE UPPER({A}."name") LIKE UPPER(?) ESCAPE \'\\\'',
        ["%50\\%\\_off%"],
    )
    # SQLite's case-sensitive pattern lookups use GLOB, with GLOB's wildcards escaped
    assert_sql(
        Author.objects.only("id").filter(name__startswith="a*?["),
        f'SELECT {A}."id" FROM {A} WHERE {A}."name" GLOB ?',
        ["a[*][?][[]*"],
    )


def test_exclude_keeps_nulls() -> None:
    assert_sql(
        Author.objects.only("id").exclude(age=3),
        f'SELECT {A}."id" FROM {A} WHERE NOT (({A}."age" = ? AND {A}."age" IS NOT NULL))',
        [3],
    )


def test_or_and_not() -> None:
    assert_sql(
        Author.objects.only("id").filter(Q(name="a") | ~Q(pk=2)),
        f'SELECT {A}."id" FROM {A} WHERE ({A}."name" = ?) OR (NOT ({A}."id" = ?))',
        ["a", 2],
    )


def test_join_order_limit() -> None:
    B = '"queries_book"'
    assert_sql(
        Book.objects.only("id").filter(author__name="x").order_by("-title")[5:15],
        f'SELECT {B}."id" FROM {B} INNER JOIN {A} ON ({B}."author_id" = {A}."id") WHERE {A}."name" = ? '
        f'ORDER BY {B}."title" DESC LIMIT ? OFFSET ?',
        ["x", 10, 5],
    )


def test_fk_id_needs_no_join() -> None:
    B = '"queries_book"'
    assert_sql(Book.objects.only("id").filter(author__id=3), f'SELECT {B}."id" FROM {B} WHERE {B}."author_id" = ?', [3])


def test_annotate_count_group_by() -> None:
    P = '"queries_publisher"'
    assert_sql(
        Publisher.objects.annotate(n=Count("authors")).filter(n__gt=1),
        f'SELECT {P}."id", {P}."name", COUNT({A}."id") AS "n" FROM {P} LEFT OUTER JOIN {A} ON ({P}."id" = {A}."publisher_id") '
        f'GROUP BY {P}."id", {P}."name" HAVING COUNT({A}."id") > ?',
        [1],
    )


def test_values_aggregate_with_filter() -> None:
    qs = Author.objects.values("publisher_id").annotate(total=Sum("age", filter=Q(age__gt=10)))
    assert_sql(
        qs,
        f'SELECT {A}."publisher_id", SUM({A}."age") FILTER (WHERE {A}."age" > ?) AS "total" FROM {A} GROUP BY {A}."publisher_id"',
        [10],
    )


def test_update_with_f_and_sliced_update() -> None:
    qs = Author.objects.filter(name="a")
    q = qs.query.clone()
    q.kind = "update"
    q.update_values = [(Author._meta.get_field("age"), (F("age") + 1).resolve(q))]
    compiler = WRAPPER.get_compiler_class()(WRAPPER)
    sql, params, _ = compiler.compile_query(q)
    assert sql == f'UPDATE {A} SET "age" = ({A}."age" + ?) WHERE {A}."name" = ?'
    assert params == [1, "a"]


def test_repeated_shape_compiles_once() -> None:
    WRAPPER.compile_cache.clear()
    before = compile_stats["compiles"]
    for i in range(50):
        sql, params, _ = compiled(Author.objects.filter(pk=i, name=f"n{i}").query, WRAPPER)
        assert params == [f"n{i}", i]
    assert compile_stats["compiles"] - before == 1
    compiled(Author.objects.filter(pk__in=[1, 2, 3]).query, WRAPPER)
    assert compile_stats["compiles"] - before == 2


@pytest.mark.parametrize(
    "bad", ["_connector", "_negated", "naem", "name__nope", "publisher__bogus", "name; DROP TABLE x"]
)
def test_unknown_names_raise_field_error_before_sql(bad: str) -> None:
    with pytest.raises(FieldError) as info:
        Author.objects.filter(**{bad: 1})
    assert "Choices are" in str(info.value) or "Lookups are" in str(info.value)


def test_unknown_names_in_other_methods() -> None:
    with pytest.raises(FieldError):
        Author.objects.order_by("nope")
    with pytest.raises(FieldError):
        Author.objects.values("nope")
    with pytest.raises(FieldError):
        Author.objects.annotate(x=F("nope"))
    with pytest.raises(FieldError):
        Author.objects.aggregate(_connector=Count("id"))


def test_shape_key_includes_types_that_change_sql_or_conversion() -> None:
    from dorm import Cast, CharField, ExpressionWrapper, FloatField, IntegerField

    as_int = Author.objects.annotate(x=Cast("age", output_field=IntegerField())).query
    as_text = Author.objects.annotate(x=Cast("age", output_field=CharField(max_length=5))).query
    sql_int, _, _ = compiled(as_int, WRAPPER)
    sql_text, _, _ = compiled(as_text, WRAPPER)
    assert sql_int != sql_text
    wrapped_f = Author.objects.annotate(x=ExpressionWrapper(F("age"), output_field=FloatField())).query
    wrapped_i = Author.objects.annotate(x=ExpressionWrapper(F("age"), output_field=IntegerField())).query
    assert wrapped_f.key(KeyContext(WRAPPER)) != wrapped_i.key(KeyContext(WRAPPER))
