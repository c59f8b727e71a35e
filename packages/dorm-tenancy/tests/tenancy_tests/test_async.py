"""Async paths are scoped the same way; concurrent tasks of different tenants never see each other."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dorm import F, Sum
from dorm.exceptions import NoActiveTenantError
from dorm_tenancy import CrossTenantWriteError, current_tenant, get_current_tenant

from .models import Customer, Invoice
from .test_scoping import TENANTS, data  # noqa: F401 - the fixture

__all__ = ["data"]


async def test_async_without_tenant_raises(alias: str, data: Any) -> None:  # noqa: F811
    with pytest.raises(NoActiveTenantError, match="current_tenant"):
        await Invoice.objects.acount()
    with pytest.raises(NoActiveTenantError):
        await Customer.objects.acreate(name="x")
    with pytest.raises(NoActiveTenantError):
        [i async for i in Invoice.objects.all()]


async def test_gather_tasks_with_different_tenants(alias: str, data: Any) -> None:  # noqa: F811
    async def work(t: int, round_: int) -> dict[str, Any]:
        async with current_tenant(t):
            await asyncio.sleep(0)  # let the other tasks interleave
            seen = sorted([i.number async for i in Invoice.objects.order_by("number")])
            await asyncio.sleep(0)
            count = await Invoice.objects.acount()
            total = (await Invoice.objects.aaggregate(s=Sum("amount")))["s"]
            c = await Customer.objects.acreate(name=f"async-{t}-{round_}")
            await Invoice.objects.acreate(number=f"t{t}-async{round_}", customer=c, amount=1)
            updated = await Invoice.objects.filter(number=f"t{t}-a").aupdate(amount=F("amount") + 1)
            inv = await Invoice.objects.select_related("customer").aget(number=f"t{t}-b")
            inv.amount = 20 * t + 1000  # idempotent: two tasks per tenant write the same value
            await inv.asave()
            foreign = await Invoice.unscoped.aget(number=f"t{t % 3 + 1}-c")
            with pytest.raises(CrossTenantWriteError):
                await foreign.adelete()
            found = await Invoice.unscoped.ain_bulk()
            mine = await Invoice.objects.ain_bulk(list(found))
            assert {i.tenant_id for i in mine.values()} == {t}
            obj, _created = await Customer.objects.aget_or_create(name=f"c1-t{t}")
            assert obj.tenant_id == t
            assert {i.tenant_id async for i in Invoice.objects.aiterator(chunk_size=2)} == {t}
            custs = [c async for c in Customer.objects.prefetch_related("invoices")]
            related = sorted(i.number for cust in custs for i in cust.invoices.all())
            assert get_current_tenant() == t
            return {
                "t": t,
                "seen": seen,
                "count": count,
                "total": total,
                "stamp": c.tenant_id,
                "updated": updated,
                "customer": inv.customer.tenant_id,
                "related": related,
            }

    results = await asyncio.gather(*(work(t, r) for r in range(2) for t in TENANTS))
    assert get_current_tenant() is None
    for res in results:
        t = res["t"]
        assert all(n.startswith(f"t{t}-") for n in res["seen"]), res
        assert all(n.startswith(f"t{t}-") for n in res["related"]), res
        assert 3 <= len(res["seen"]) <= res["count"] <= 5  # the other task of the tenant may insert in between
        assert res["stamp"] == t and res["customer"] == t and res["updated"] == 1
    for t in TENANTS:
        async with current_tenant(t):
            assert await Invoice.objects.acount() == 5
            assert (await Invoice.objects.aget(number=f"t{t}-a")).amount == 10 * t + 2
            assert (await Invoice.objects.aget(number=f"t{t}-b")).amount == 20 * t + 1000
    assert await Invoice.unscoped.acount() == 15
