"""Fuzz: random operation sequences across 3 tenants never return or modify a row of another tenant.

Every operation runs inside ``current_tenant(t)`` for a random ``t`` and is
checked against a pure-Python model of the rows (what each tenant owns).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dorm import Count, Q, Subquery, Sum
from dorm_tenancy import CrossTenantWriteError, current_tenant

from .models import Customer, Invoice, Region, Tag, Tagging

TENANTS = (1, 2, 3)
NAMES = ("ann", "bob")

# condition trees: leaves on the invoice and across the customer join; and/or/not nodes
leaf = st.one_of(
    st.tuples(st.just("gt"), st.integers(0, 100)),
    st.tuples(st.just("lt"), st.integers(0, 100)),
    st.tuples(st.just("cust"), st.sampled_from(NAMES)),
    st.tuples(st.just("num"), st.sampled_from("abc")),
)
cond = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.tuples(st.just("and"), kids, kids), st.tuples(st.just("or"), kids, kids), st.tuples(st.just("not"), kids)
    ),
    max_leaves=4,
)


def to_q(c: Any) -> Q:
    kind = c[0]
    if kind == "gt":
        return Q(amount__gt=c[1])
    if kind == "lt":
        return Q(amount__lt=c[1])
    if kind == "cust":
        return Q(customer__name=c[1])
    if kind == "num":
        return Q(number__startswith=c[1])
    if kind == "and":
        return to_q(c[1]) & to_q(c[2])
    if kind == "or":
        return to_q(c[1]) | to_q(c[2])
    return ~to_q(c[1])


def matches(c: Any, row: dict[str, Any], model: World) -> bool:
    kind = c[0]
    if kind == "gt":
        return bool(row["amount"] > c[1])
    if kind == "lt":
        return bool(row["amount"] < c[1])
    if kind == "cust":
        return bool(model.customers[row["customer"]]["name"] == c[1])
    if kind == "num":
        return bool(row["number"].startswith(c[1]))
    if kind == "and":
        return matches(c[1], row, model) and matches(c[2], row, model)
    if kind == "or":
        return matches(c[1], row, model) or matches(c[2], row, model)
    return not matches(c[1], row, model)


class World:
    """The pure-Python truth: customers and invoices by pk, each with its tenant."""

    def __init__(self) -> None:
        self.customers: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}

    def invoices_of(self, t: int, c: Any = None) -> dict[int, dict[str, Any]]:
        return {pk: r for pk, r in self.invoices.items() if r["tenant"] == t and (c is None or matches(c, r, self))}


op = st.one_of(
    st.tuples(
        st.just("create"), st.sampled_from(TENANTS), st.integers(0, 100), st.sampled_from(NAMES), st.sampled_from("abc")
    ),
    st.tuples(st.just("filter"), st.sampled_from(TENANTS), cond),
    st.tuples(st.just("update"), st.sampled_from(TENANTS), cond, st.integers(0, 100)),
    st.tuples(st.just("delete"), st.sampled_from(TENANTS), cond),
    st.tuples(st.just("select_related"), st.sampled_from(TENANTS), cond),
    st.tuples(st.just("prefetch"), st.sampled_from(TENANTS)),
    st.tuples(st.just("related"), st.sampled_from(TENANTS), st.sampled_from(NAMES)),
    st.tuples(st.just("aggregate"), st.sampled_from(TENANTS), cond),
    st.tuples(st.just("cross"), st.sampled_from(TENANTS), st.integers(0, 50)),
    st.tuples(st.just("subquery"), st.sampled_from(TENANTS), cond),
)


@pytest.fixture
def fuzz_tables(create_tables: Any) -> None:
    create_tables(Region, Customer, Tag, Invoice, Tagging)


def reset() -> World:
    world = World()
    Tagging.unscoped.all().delete()
    Invoice.unscoped.all().delete()
    Customer.unscoped.all().delete()
    if not Region.objects.exists():
        Region.objects.create(name="shared")
    for t in TENANTS:
        with current_tenant(t):
            for name in NAMES:
                c = Customer.objects.create(name=name)
                world.customers[c.pk] = {"tenant": t, "name": name}
    return world


def customer_pk(world: World, t: int, name: str) -> int:
    return next(pk for pk, c in world.customers.items() if c["tenant"] == t and c["name"] == name)


def run(world: World, step: Any) -> None:  # noqa: C901 - one branch per operation
    kind, t = step[0], step[1]
    with current_tenant(t):
        if kind == "create":
            amount, name, prefix = step[2], step[3], step[4]
            inv = Invoice.objects.create(
                number=f"{prefix}{len(world.invoices)}", amount=amount, customer_id=customer_pk(world, t, name)
            )
            assert inv.tenant_id == t
            world.invoices[inv.pk] = {"tenant": t, "amount": amount, "customer": inv.customer_id, "number": inv.number}
        elif kind == "filter":
            got = {i.pk for i in Invoice.objects.filter(to_q(step[2]))}
            assert got == set(world.invoices_of(t, step[2]))
        elif kind == "update":
            expected = world.invoices_of(t, step[2])
            assert Invoice.objects.filter(to_q(step[2])).update(amount=step[3]) == len(expected)
            for row in expected.values():
                row["amount"] = step[3]
        elif kind == "delete":
            expected = world.invoices_of(t, step[2])
            Invoice.objects.filter(to_q(step[2])).delete()
            for pk in expected:
                del world.invoices[pk]
        elif kind == "select_related":
            rows = list(Invoice.objects.filter(to_q(step[2])).select_related("customer", "reviewer"))
            assert {i.pk for i in rows} == set(world.invoices_of(t, step[2]))
            assert all(i.customer.tenant_id == t and i.reviewer is None for i in rows)
        elif kind == "prefetch":
            custs = list(Customer.objects.prefetch_related("invoices"))
            assert {c.pk for c in custs} == {pk for pk, c in world.customers.items() if c["tenant"] == t}
            got = {i.pk for c in custs for i in c.invoices.all()}
            assert got == set(world.invoices_of(t))
        elif kind == "related":
            cust = Customer.objects.get(name=step[2])
            got = {i.pk for i in cust.invoices.all()}
            assert got == {pk for pk, r in world.invoices_of(t).items() if r["customer"] == cust.pk}
        elif kind == "aggregate":
            expected = world.invoices_of(t, step[2])
            agg = Invoice.objects.filter(to_q(step[2])).aggregate(n=Count("pk"), s=Sum("amount"))
            assert agg["n"] == len(expected)
            assert (agg["s"] or 0) == sum(r["amount"] for r in expected.values())
            per_customer = dict(Customer.objects.annotate(n=Count("invoices")).values_list("pk", "n"))
            assert sum(per_customer.values()) == len(world.invoices_of(t))
        elif kind == "cross":
            others = sorted(pk for pk, r in world.invoices.items() if r["tenant"] != t)
            if not others:
                return
            pk = others[step[2] % len(others)]
            assert Invoice.objects.filter(pk=pk).count() == 0
            assert Invoice.objects.in_bulk([pk]) == {}
            assert Invoice.objects.filter(pk=pk).update(amount=-1) == 0
            foreign = Invoice.unscoped.get(pk=pk)
            foreign.amount = -1
            with pytest.raises(CrossTenantWriteError):
                foreign.save()
        elif kind == "subquery":
            inner = Invoice.objects.filter(to_q(step[2])).values("customer")
            got = {c.pk for c in Customer.objects.filter(pk__in=inner)}
            assert got == {r["customer"] for r in world.invoices_of(t, step[2]).values()}
            # uncorrelated: the largest matching amount of this tenant, seen from a non-tenant model
            top = Invoice.objects.filter(to_q(step[2])).order_by("-amount").values("amount")[:1]
            seen = Region.objects.annotate(top=Subquery(top)).values_list("top", flat=True).first()
            amounts = [r["amount"] for r in world.invoices_of(t, step[2]).values()]
            assert seen == (max(amounts) if amounts else None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(op, min_size=1, max_size=12))
def test_random_operations_never_cross_tenants(alias: str, fuzz_tables: None, steps: list[Any]) -> None:
    world = reset()
    for step in steps:
        run(world, step)
    # the database as a whole still equals the model: nothing of another tenant was touched
    rows = {i.pk: (i.tenant_id, i.amount, i.customer_id) for i in Invoice.unscoped.all()}
    assert rows == {pk: (r["tenant"], r["amount"], r["customer"]) for pk, r in world.invoices.items()}
