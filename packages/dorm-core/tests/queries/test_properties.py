"""Property tests: random Q trees agree with Python; random keys never reach SQL unvalidated."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dorm import Q
from dorm.exceptions import FieldError

from .models import Row

PROFILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

STRINGS = ["a", "ab", "B", "abc", "%", "_x", "x%y", "O'Neil", "", None]


@pytest.fixture
def rows(create_tables: Any) -> list[dict[str, Any]]:
    create_tables(Row)
    rng = random.Random(1234)
    data = []
    for _ in range(200):
        data.append(
            {
                "a": rng.choice([None, *range(-3, 6)]),
                "b": rng.choice([None, *range(0, 4)]),
                "s": rng.choice(STRINGS),
            }
        )
    objs = Row.objects.bulk_create([Row(**d) for d in data])
    if any(o.pk is None for o in objs):
        objs = list(Row.objects.order_by("pk"))
    for d, o in zip(data, objs, strict=True):
        d["id"] = o.pk
    return data


Pred = Callable[[dict[str, Any]], bool]


def _cmp(op: str, x: Any, v: Any) -> bool:
    if x is None:
        return False
    return {"exact": x == v, "gt": x > v, "gte": x >= v, "lt": x < v, "lte": x <= v}[op]


@st.composite
def leaf(draw: st.DrawFn) -> tuple[Q, Pred]:
    kind = draw(st.sampled_from(["int", "str", "null", "in", "range"]))
    if kind == "int":
        col = draw(st.sampled_from(["a", "b"]))
        op = draw(st.sampled_from(["exact", "gt", "gte", "lt", "lte"]))
        v = draw(st.integers(-4, 6))
        return Q(**{f"{col}__{op}": v}), lambda r, c=col, o=op, v=v: _cmp(o, r[c], v)
    if kind == "null":
        col = draw(st.sampled_from(["a", "b", "s"]))
        flag = draw(st.booleans())
        return Q(**{f"{col}__isnull": flag}), lambda r, c=col, f=flag: (r[c] is None) == f
    if kind == "in":
        vals = draw(st.lists(st.integers(-3, 5), max_size=4))
        return Q(a__in=vals), lambda r, vs=vals: r["a"] is not None and r["a"] in vs
    if kind == "range":
        lo = draw(st.integers(-3, 5))
        hi = draw(st.integers(-3, 5))
        return Q(b__range=(lo, hi)), lambda r, lo=lo, hi=hi: r["b"] is not None and lo <= r["b"] <= hi
    op = draw(st.sampled_from(["exact", "contains", "startswith", "endswith"]))
    v = draw(st.sampled_from(["a", "b", "%", "_", "x", "ab", "O'"]))
    py: dict[str, Callable[[str, str], bool]] = {
        "exact": lambda x, v: x == v,
        "contains": lambda x, v: v in x,
        "startswith": lambda x, v: x.startswith(v),
        "endswith": lambda x, v: x.endswith(v),
    }
    return Q(**{f"s__{op}": v}), lambda r, o=op, v=v: r["s"] is not None and py[o](r["s"], v)


def trees(depth: int) -> st.SearchStrategy[tuple[Q, Pred]]:
    if depth == 0:
        return leaf()
    sub = trees(depth - 1)

    @st.composite
    def node(draw: st.DrawFn) -> tuple[Q, Pred]:
        how = draw(st.sampled_from(["and", "or", "not", "leaf"]))
        if how == "leaf":
            return draw(leaf())
        lq, lp = draw(sub)
        if how == "not":
            return ~lq, lambda r: not lp(r)
        rq, rp = draw(sub)
        if how == "and":
            return lq & rq, lambda r: lp(r) and rp(r)
        return lq | rq, lambda r: lp(r) or rp(r)

    return node()


@PROFILE
@given(tree=trees(4), negate=st.booleans())
def test_random_q_trees_match_python(
    alias: str, rows: list[dict[str, Any]], tree: tuple[Q, Pred], negate: bool
) -> None:
    q, pred = tree
    if negate:
        got = set(Row.objects.exclude(q).values_list("id", flat=True))
        want = {r["id"] for r in rows if not pred(r)}
    else:
        got = set(Row.objects.filter(q).values_list("id", flat=True))
        want = {r["id"] for r in rows if pred(r)}
    assert got == want


NASTY = st.sampled_from(
    [
        "_connector",
        "_negated",
        "a; DROP TABLE x",
        "a' OR '1'='1",
        'a"',
        "a__",
        "__a",
        "a__exact__b",
        "pk__in__x",
        "a__gt__lt",
        "s__icontains__x",
        "",
        "*",
        "a--",
        "id) OR (1=1",
        "s__regexx",
    ]
)
KEYS = st.one_of(
    NASTY, st.text(min_size=1, max_size=12), st.sampled_from(["a", "b", "s", "id", "pk", "a__gt", "s__contains"])
)
VALUES = st.one_of(
    st.integers(-5, 5), st.text(max_size=10), st.just("'; DROP TABLE queries_row; --"), st.just('"'), st.none()
)


@PROFILE
@given(key=KEYS, value=VALUES)
def test_keys_and_values_never_reach_sql_unvalidated(
    alias: str, rows: list[dict[str, Any]], key: str, value: Any
) -> None:
    valid = {"a", "b", "s", "id", "pk", "a__gt", "s__contains"}
    try:
        qs = Row.objects.filter(**{key: value})
    except FieldError:
        assert key not in valid or value is None  # None only works with exact (IS NULL)
        return
    except (TypeError, ValueError):
        return  # a wrong value type for a valid lookup, refused before SQL (e.g. validation)
    assert key in valid
    try:
        got = set(qs.values_list("id", flat=True))
    except Exception as exc:  # values of the wrong type may be refused by the driver, never as SQL syntax
        assert "syntax" not in str(exc).lower()
        return
    col, _, op = key.partition("__")
    col = "id" if col == "pk" else col
    op = op or "exact"
    want = set()
    for r in rows:
        x = r[col]
        if value is None and op == "exact":
            ok = x is None
        elif x is None or value is None:
            ok = False
        elif op == "contains":
            ok = isinstance(x, str) and str(value) in x
        else:
            try:
                ok = _cmp(op, x, type(x)(value))
            except (TypeError, ValueError):
                return
        if ok:
            want.add(r["id"])
    assert got == want
    assert Row.objects.count() == 200  # nothing was dropped or changed


@st.composite
def keyword_filters(draw: st.DrawFn) -> tuple[dict[str, Any], Pred]:
    """1-3 keyword lookups of the kinds the express lane takes (and a few it refuses: None, lists)."""
    chosen: dict[str, Any] = {}
    preds: list[Pred] = []
    for _ in range(draw(st.integers(1, 3))):
        col = draw(st.sampled_from(["a", "b", "s"]))
        if col == "s":
            op = draw(st.sampled_from(["exact", "startswith", "contains"]))
            v: Any = draw(st.sampled_from(["a", "ab", "%", "x%y", "O'Neil", "", None]))
            if v is None:
                op = "exact"
        else:
            op = draw(st.sampled_from(["exact", "gt", "gte", "lt", "lte"]))
            # plain ints, and values the field coerces (bool, numeric strings, integral floats)
            v = draw(st.one_of(st.integers(-4, 6), st.sampled_from([True, False, "3", " 2 ", 1.0, None])))
            if v is None:
                op = "exact"
        key = col if op == "exact" else f"{col}__{op}"
        if key in chosen:
            continue
        chosen[key] = v
        preds.append(_keyword_pred(col, op, v))
    return chosen, lambda r: all(p(r) for p in preds)


def _keyword_pred(col: str, op: str, v: Any) -> Pred:
    if v is None:
        return lambda r: r[col] is None
    if col != "s":
        n = int(str(v).strip()) if isinstance(v, str) else int(v)
        return lambda r: _cmp(op, r[col], n)
    py: dict[str, Callable[[str], bool]] = {
        "exact": lambda x: x == v,
        "startswith": lambda x: x.startswith(v),
        "contains": lambda x: v in x,
    }
    return lambda r: r[col] is not None and py[op](r[col])


@PROFILE
@given(case=keyword_filters())
def test_keyword_filters_agree_on_every_path(
    alias: str, rows: list[dict[str, Any]], case: tuple[dict[str, Any], Pred]
) -> None:
    """The express lane (plain keywords), the general path (the same keywords in a Q) and Python agree."""
    kwargs, pred = case
    want = sorted(r["id"] for r in rows if pred(r))
    express_rows = [row.id for row in Row.objects.filter(**kwargs)]  # no Meta.ordering: by nothing, so sort
    general_rows = [row.id for row in Row.objects.filter(Q(**kwargs))]
    assert sorted(express_rows) == sorted(general_rows) == want
    assert Row.objects.filter(**kwargs).count() == len(want)
    assert Row.objects.filter(**kwargs).exists() is bool(want)
    first = Row.objects.filter(**kwargs).first()
    assert (first.id if first is not None else None) == (want[0] if want else None)
    if len(want) == 1:
        assert Row.objects.get(**kwargs).id == want[0]


@PROFILE
@given(
    case=keyword_filters(),
    order=st.sampled_from([("id",), ("-id",), ("a", "id"), ("-b", "-id"), ("s", "-a", "id")]),
    start=st.one_of(st.none(), st.integers(0, 30)),
    stop=st.one_of(st.none(), st.integers(0, 60)),
)
def test_ordered_slices_agree_on_every_path(
    alias: str,
    rows: list[dict[str, Any]],
    case: tuple[dict[str, Any], Pred],
    order: tuple[str, ...],
    start: int | None,
    stop: int | None,
) -> None:
    """filter(**kw).order_by(...)[start:stop] on the express lane == the same through a Q (general path)."""
    kwargs, pred = case
    express_ids = [row.id for row in Row.objects.filter(**kwargs).order_by(*order)[start:stop]]
    general_ids = [row.id for row in Row.objects.filter(Q(**kwargs)).order_by(*order)[start:stop]]
    assert express_ids == general_ids
    assert set(express_ids) <= {r["id"] for r in rows if pred(r)}
