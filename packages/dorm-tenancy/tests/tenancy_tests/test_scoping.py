"""Every query path on a TenantModel is filtered to the active tenant, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

import dorm
from dorm import Count, Exists, F, OuterRef, Subquery, Sum
from dorm.exceptions import NoActiveTenantError
from dorm_tenancy import CrossTenantWriteError, current_tenant, get_current_tenant

from .models import ALL, CodeDoc, Coupon, Customer, Invoice, Region, Sku, Tag, Tagging, UuidDoc

TENANTS = (1, 2, 3)


@pytest.fixture
def data(create_tables: Any) -> dict[int, dict[str, Any]]:
    """Per tenant: two customers (one in a shared region), three invoices, two tags, taggings and labels."""
    create_tables(*ALL)
    region = Region.objects.create(name="north")
    out: dict[int, dict[str, Any]] = {}
    for t in TENANTS:
        with current_tenant(t):
            c1 = Customer.objects.create(name=f"c1-t{t}", region=region)
            c2 = Customer.objects.create(name=f"c2-t{t}")
            tags = Tag.objects.bulk_create([Tag(name="red"), Tag(name=f"blue-t{t}")])
            invs = [
                Invoice.objects.create(number=f"t{t}-a", amount=10 * t, customer=c1, reviewer=c2),
                Invoice.objects.create(number=f"t{t}-b", amount=20 * t, customer=c1),
                Invoice.objects.create(number=f"t{t}-c", amount=30 * t, customer=c2),
            ]
            Tagging.objects.create(invoice=invs[0], tag=tags[0])
            Tagging.objects.create(invoice=invs[1], tag=tags[1])
            invs[0].labels.add(tags[0], tags[1])
            out[t] = {"c1": c1, "c2": c2, "tags": tags, "invoices": invs}
    return out


def numbers(qs: Any) -> list[str]:
    return sorted(i.number for i in qs)


def test_seed_symptom_no_active_tenant_raises_with_cause_and_fix(alias: str, data: Any) -> None:
    with pytest.raises(NoActiveTenantError) as info:
        list(Invoice.objects.all())
    msg = str(info.value)
    assert "with current_tenant(request.user.tenant_id):" in msg
    assert "Invoice.unscoped.all()" in msg
    assert "data leak" in msg
    assert dorm.NoActiveTenantError is NoActiveTenantError
    for call in (
        lambda: Invoice.objects.count(),
        lambda: Invoice.objects.filter(number="t1-a").exists(),
        lambda: Invoice.objects.get(number="t1-a"),
        lambda: Invoice.objects.filter(amount__gt=0).update(amount=0),
        lambda: Invoice.objects.all().delete(),
        lambda: Invoice.objects.aggregate(total=Sum("amount")),
        lambda: Customer.objects.create(name="x"),
        lambda: Tag.objects.bulk_create([Tag(name="x")]),
        lambda: list(Region.objects.filter(customers__name="c1-t1")),  # a tenant table joined in
        lambda: list(Region.objects.filter(Exists(Customer.objects.filter(region=OuterRef("pk"))))),
    ):
        with pytest.raises(NoActiveTenantError):
            call()
    inv = Invoice.unscoped.get(number="t1-a")
    for call in (
        lambda: inv.save(),
        lambda: inv.delete(),
        lambda: inv.refresh_from_db(),
        lambda: Invoice.objects.in_bulk([inv.pk]),
        lambda: list(Invoice.objects.values("number")),
        lambda: Invoice.objects.get_or_create(number="new", defaults={"customer_id": inv.customer_id}),
        lambda: Invoice.objects.bulk_update([inv], ["amount"]),
        lambda: list(Customer.objects.get(pk=inv.customer_id).invoices.all()),
    ):
        with pytest.raises(NoActiveTenantError):
            call()
    # nothing was written or changed by the refused calls
    assert Invoice.unscoped.filter(amount=0).count() == 0
    assert Invoice.unscoped.count() == 9


def test_seed_fix_current_tenant_and_unscoped(alias: str, data: Any) -> None:
    with current_tenant(2):
        assert numbers(Invoice.objects.all()) == ["t2-a", "t2-b", "t2-c"]
    assert numbers(Invoice.unscoped.all()) == sorted(f"t{t}-{x}" for t in TENANTS for x in "abc")
    assert Invoice.unscoped.filter(amount__gte=60).count() == 3  # t2-c=60, t3-b=60, t3-c=90


def test_public_names_and_context(alias: str) -> None:
    import dorm_tenancy

    assert dorm.TenantModel is dorm_tenancy.TenantModel
    assert dorm.current_tenant is dorm_tenancy.current_tenant
    assert dorm.get_current_tenant is dorm_tenancy.get_current_tenant
    assert get_current_tenant() is None
    with current_tenant(1):
        assert get_current_tenant() == 1
        with current_tenant(2) as tid:
            assert tid == 2 and get_current_tenant() == 2
        assert get_current_tenant() == 1
    assert get_current_tenant() is None
    with pytest.raises(ValueError, match="None is not a tenant"):
        current_tenant(None)
    assert Invoice._meta.default_manager is Invoice.objects
    assert Invoice._meta.get_field("tenant_id").db_index


def test_reads_counts_aggregates_values(alias: str, data: Any) -> None:
    with current_tenant(1):
        assert numbers(Invoice.objects.all()) == ["t1-a", "t1-b", "t1-c"]
        assert Invoice.objects.count() == 3
        assert Invoice.objects.filter(number="t2-a").count() == 0
        assert not Invoice.objects.filter(number="t2-a").exists()
        assert Invoice.objects.filter(number="t1-a").exists()
        assert Invoice.objects.aggregate(total=Sum("amount"))["total"] == 60
        assert sorted(Invoice.objects.values_list("amount", flat=True)) == [10, 20, 30]
        assert {r["number"] for r in Invoice.objects.values("number")} == {"t1-a", "t1-b", "t1-c"}
        assert Invoice.objects.get_or_none(number="t2-a") is None
        with pytest.raises(Invoice.DoesNotExist):
            Invoice.objects.get(pk=data[2]["invoices"][0].pk)
        assert Invoice.objects.first().tenant_id == 1  # type: ignore[union-attr]
        assert Invoice.objects.order_by("amount").last().number == "t1-c"  # type: ignore[union-attr]
        assert Invoice.objects.filter(amount__gt=0).distinct().count() == 3
        assert Invoice.objects.all()[:2].count() == 2
        assert sorted(i.number for i in Invoice.objects.iterator(chunk_size=2)) == ["t1-a", "t1-b", "t1-c"]
        assert Invoice.objects.order_by("amount").earliest("amount").number == "t1-a"
        assert Invoice.objects.latest("amount").number == "t1-c"
        counts = Customer.objects.annotate(n=Count("invoices")).order_by("name").values_list("name", "n")
        assert list(counts) == [("c1-t1", 2), ("c2-t1", 1)]
        # a filter across the reverse relation never matches another tenant's invoices
        assert list(Customer.objects.filter(invoices__number="t2-a")) == []
        by_region = Region.objects.filter(customers__name__startswith="c1").values_list("name", flat=True)
        assert list(by_region) == ["north"]
        assert Region.objects.annotate(n=Count("customers")).get().n == 1  # type: ignore[attr-defined]
        union = Invoice.objects.filter(amount=10).union(Invoice.unscoped.filter(amount=90))
        assert numbers(union) == ["t1-a", "t3-c"]  # the unscoped part is explicit


def test_in_bulk_get_or_create_update_or_create(alias: str, data: Any) -> None:
    all_pks = [i.pk for t in TENANTS for i in data[t]["invoices"]]
    with current_tenant(3):
        found = Invoice.objects.in_bulk(all_pks)
        assert sorted(i.number for i in found.values()) == ["t3-a", "t3-b", "t3-c"]
        assert Invoice.objects.in_bulk().keys() == found.keys()
        c, created = Customer.objects.get_or_create(name="c1-t1")
        assert created and c.tenant_id == 3
        c, created = Customer.objects.get_or_create(name="c1-t3")
        assert not created and c.pk == data[3]["c1"].pk
        inv, created = Invoice.objects.update_or_create(number="t1-a", defaults={"amount": 5, "customer": c})
        assert created and inv.tenant_id == 3
        inv, created = Invoice.objects.update_or_create(number="t3-a", defaults={"amount": 7})
        assert not created and inv.amount == 7
    with current_tenant(1):
        assert Invoice.objects.get(number="t1-a").amount == 10  # untouched
        assert Customer.objects.filter(name="c1-t1").count() == 1


def test_select_related_filters_joined_tenant_tables_keeping_left_joins(alias: str, data: Any) -> None:
    # a row of tenant 1 pointing (through a bypass) at tenant 2's customer: the join must not expose it
    foreign = data[2]["c2"]
    Invoice.unscoped.filter(number="t1-b").update(reviewer_id=foreign.pk)
    with current_tenant(1):
        rows = {i.number: i for i in Invoice.objects.select_related("customer", "reviewer", "customer__region")}
        assert sorted(rows) == ["t1-a", "t1-c"]  # t1-b's joined reviewer belongs to tenant 2: row hidden
        assert rows["t1-a"].reviewer.name == "c2-t1"
        assert rows["t1-c"].reviewer is None  # nullable FK, no reviewer: LEFT JOIN kept
        assert rows["t1-a"].customer.region.name == "north"
        assert all(r.customer.tenant_id == 1 for r in rows.values())
        # the invoice is ours, but loading its foreign reviewer (lazy forward access) is scoped too
        with pytest.raises(Customer.DoesNotExist):
            Invoice.objects.get(number="t1-b").reviewer  # noqa: B018
        assert Invoice.objects.filter(reviewer__name="c2-t2").count() == 0
    with current_tenant(2):
        assert Invoice.objects.filter(reviewer=foreign).values_list("number", flat=True).get() == "t2-a"  # not t1-b


def test_prefetch_and_related_managers(alias: str, data: Any) -> None:
    # a tagging row of tenant 2 linking tenant 1's invoice and tag (a bypassed write) must not show through M2M
    with current_tenant(2):
        Tagging.objects.create(invoice_id=data[1]["invoices"][2].pk, tag_id=data[1]["tags"][0].pk)
    with current_tenant(1):
        c1 = Customer.objects.get(name="c1-t1")
        assert numbers(c1.invoices.all()) == ["t1-a", "t1-b"]
        assert c1.invoices.count() == 2
        assert c1.invoices.filter(number="t2-a").count() == 0
        custs = list(Customer.objects.prefetch_related("invoices", "invoices__tags").order_by("name"))
        assert [numbers(c.invoices.all()) for c in custs] == [["t1-a", "t1-b"], ["t1-c"]]
        inv_c = Invoice.objects.get(number="t1-c")
        assert list(inv_c.tags.all()) == []  # the foreign tagging is filtered (through table is a TenantModel)
        assert Tag.objects.filter(invoices__number="t1-c").count() == 0  # the joined through table too
        assert Invoice.objects.filter(tags__name="red").count() == 1
        inv_a = Invoice.objects.get(number="t1-a")
        assert sorted(t.name for t in inv_a.tags.all()) == ["red"]
        assert sorted(t.name for t in inv_a.labels.all()) == ["blue-t1", "red"]
        red = Tag.objects.get(name="red")
        assert numbers(red.invoices.all()) == ["t1-a"]
        assert numbers(red.labelled.all()) == ["t1-a"]
        new = inv_a.labels.create(name="green")
        assert new.tenant_id == 1
        pre = Invoice.objects.prefetch_related("labels").get(number="t1-a")
        assert sorted(t.name for t in pre.labels.all()) == ["blue-t1", "green", "red"]
        assert inv_a.customer.name == "c1-t1"
    with current_tenant(2):
        assert Tag.objects.filter(name="green").count() == 0
        assert Tagging.objects.count() == 3


def test_subqueries_are_filtered(alias: str, data: Any) -> None:
    with current_tenant(1):
        # Exists / Subquery / __in=queryset over tenant tables see only this tenant
        has_big = Customer.objects.filter(Exists(Invoice.objects.filter(customer=OuterRef("pk"), amount__gte=20)))
        assert sorted(c.name for c in has_big) == ["c1-t1", "c2-t1"]
        top = Invoice.objects.filter(customer=OuterRef("pk")).order_by("-amount").values("amount")[:1]
        rows = Customer.objects.annotate(top=Subquery(top)).order_by("name").values_list("top", flat=True)
        assert list(rows) == [20, 30]
        inner = Invoice.objects.filter(amount__gte=20).values("customer")
        assert sorted(c.name for c in Customer.objects.filter(pk__in=inner)) == ["c1-t1", "c2-t1"]
        assert Customer.objects.exclude(invoices__amount=10).count() == 1
        # uncorrelated subqueries: only this tenant's rows can answer them
        assert not Region.objects.filter(Exists(Customer.objects.filter(name="c1-t2"))).exists()
        assert Region.objects.filter(Exists(Customer.objects.filter(name="c1-t1"))).exists()
        top_all = Invoice.objects.order_by("-amount").values("amount")[:1]
        assert set(Invoice.objects.annotate(mx=Subquery(top_all)).values_list("mx", flat=True)) == {30}
        assert Region.objects.filter(pk__in=Customer.objects.filter(name="c1-t3").values("region")).count() == 0
        assert Region.objects.filter(Exists(Customer.objects.filter(region=OuterRef("pk")))).count() == 1
    unscoped_inner = Invoice.unscoped.filter(amount=90).values("customer")
    with current_tenant(1):
        assert Customer.objects.filter(pk__in=unscoped_inner).count() == 0  # outer still scoped
    assert Customer.unscoped.filter(pk__in=unscoped_inner).get().name == "c2-t3"
    # the same queryset object evaluated under two tenants gives each tenant its own rows
    qs = Customer.objects.filter(pk__in=Invoice.objects.filter(amount__gte=20).values("customer"))
    with current_tenant(2):
        assert sorted(c.name for c in qs.all()) == ["c1-t2", "c2-t2"]
    with current_tenant(3):
        assert sorted(c.name for c in qs.all()) == ["c1-t3", "c2-t3"]


def test_updates_and_deletes_are_filtered(alias: str, data: Any) -> None:
    with current_tenant(1):
        assert Invoice.objects.update(amount=F("amount") + 1) == 3
        assert Invoice.objects.filter(number__startswith="t2").update(amount=0) == 0
        assert Invoice.objects.filter(customer__name="c2-t1").update(amount=100) == 1
        total, _ = Invoice.objects.filter(number="t1-c").delete()
        assert total >= 1
        # delete cascading from a customer stays in the tenant
        Customer.objects.filter(name="c1-t1").delete()
        assert Invoice.objects.count() == 0
    with current_tenant(2):
        assert sorted(Invoice.objects.values_list("amount", flat=True)) == [20, 40, 60]
    assert Invoice.unscoped.count() == 6


def test_save_create_bulk_create_are_stamped(alias: str, data: Any) -> None:
    with current_tenant(2):
        c = Customer(name="new")
        c.save()
        assert c.tenant_id == 2
        Invoice.objects.bulk_create([Invoice(number="b1", customer=c), Invoice(number="b2", customer=c)])
        c.name = "renamed"
        c.save()
        c.save(update_fields=["name"])
    assert Customer.unscoped.get(pk=c.pk).tenant_id == 2
    assert Customer.unscoped.get(pk=c.pk).name == "renamed"
    assert sorted(Invoice.unscoped.filter(number__in=["b1", "b2"]).values_list("tenant_id", flat=True)) == [2, 2]


def test_writes_to_another_tenant_are_refused(alias: str, data: Any) -> None:
    foreign = data[2]["invoices"][0]  # loaded under tenant 2
    with current_tenant(1):
        foreign.amount = 999
        with pytest.raises(CrossTenantWriteError, match="belongs to tenant 2"):
            foreign.save()
        with pytest.raises(CrossTenantWriteError, match="belongs to tenant 2"):
            foreign.delete()
        with pytest.raises(CrossTenantWriteError):
            Invoice.objects.bulk_update([foreign], ["amount"])
        with pytest.raises(CrossTenantWriteError, match="belongs to tenant 3"):
            Customer.objects.create(name="x", tenant_id=3)
        with pytest.raises(CrossTenantWriteError, match="belongs to tenant 3"):
            Customer.objects.bulk_create([Customer(name="x", tenant_id=3)])
        with pytest.raises(CrossTenantWriteError, match="move rows out"):
            Invoice.objects.update(tenant_id=3)
        assert Invoice.objects.update(tenant_id=1) == 3  # same tenant: allowed
        own = Invoice.objects.get(number="t1-a")
        own.tenant_id = 2  # moving a row to another tenant
        with pytest.raises(CrossTenantWriteError):
            own.save()
        # an instance of ours re-pointed at another tenant's pk: the UPDATE is filtered (0 rows) and the
        # fallback INSERT is refused instead of duplicating the row
        mine = Invoice.objects.get(number="t1-b")
        mine.pk = foreign.pk
        with pytest.raises(CrossTenantWriteError, match="updated no row in tenant 1"):
            mine.save()
        Customer.objects.create(name="explicit", tenant_id=1)  # the active tenant, explicitly: fine
    untouched = Invoice.unscoped.get(pk=foreign.pk)
    assert (untouched.amount, untouched.tenant_id, untouched.number) == (20, 2, "t2-a")
    assert Invoice.unscoped.filter(tenant_id=2).count() == 3


def test_unscoped_is_explicit_cross_tenant(alias: str, data: Any) -> None:
    assert Invoice.unscoped.count() == 9
    assert Customer.unscoped.filter(invoices__amount=90).get().name == "c2-t3"
    assert Invoice.unscoped.select_related("customer").get(number="t3-a").customer.name == "c1-t3"
    with current_tenant(1):  # unscoped ignores the active tenant too
        assert Invoice.unscoped.values("tenant_id").distinct().count() == 3
    assert Invoice.unscoped.filter(tenant_id=3).update(amount=1) == 3
    assert Invoice.unscoped.filter(amount=1).count() == 3


def test_other_tenant_column_types(alias: str, create_tables: Any) -> None:
    import uuid

    create_tables(UuidDoc, CodeDoc)
    a, b = uuid.uuid4(), uuid.uuid4()
    for tid in (a, b):
        with current_tenant(tid):
            UuidDoc.objects.create(title=str(tid)[:8])
    with current_tenant(str(a)):  # same tenant spelled as a string
        assert [d.title for d in UuidDoc.objects.all()] == [str(a)[:8]]
        UuidDoc.objects.create(title="more", tenant_id=a)
        assert UuidDoc.objects.count() == 2
    with current_tenant("acme"):
        CodeDoc.objects.create(title="x")
    with current_tenant("globex"):
        CodeDoc.objects.create(title="y")
        assert [d.title for d in CodeDoc.objects.all()] == ["y"]
    assert CodeDoc.unscoped.get(title="x").tenant_id == "acme"


def test_raw_sql_is_not_filtered(alias: str, data: Any) -> None:
    from dorm.db.connections import get_connection

    conn = get_connection(alias)
    q = conn.backend.ops.quote_name
    with current_tenant(1):
        rows = conn.execute(f"SELECT COUNT(*) FROM {q(Invoice._meta.db_table)}")
    assert rows[0][0] == 9  # documented: raw SQL is yours to filter


def test_unscoped_delete_cascades_across_tenants(alias: str, data: Any) -> None:
    # the collector's cascade queries inherit the unscoped marker: no tenant needed, no row left behind
    deleted, per_model = Customer.unscoped.filter(name__startswith="c1").delete()
    assert per_model["tenancy.Customer"] == 3
    assert per_model["tenancy.Invoice"] == 6
    assert Invoice.unscoped.count() == 3
    assert Tagging.unscoped.count() == 0  # cascaded from the deleted invoices
    # a scoped delete cascades inside the tenant only
    with current_tenant(2):
        Customer.objects.all().delete()
        assert Invoice.objects.count() == 0
    assert sorted(Invoice.unscoped.values_list("tenant_id", flat=True)) == [1, 3]


def test_bulk_update_and_m2m_writes_in_own_tenant(alias: str, data: Any) -> None:
    with current_tenant(1):
        invs = list(Invoice.objects.order_by("number"))
        for i in invs:
            i.amount = 7
        assert Invoice.objects.bulk_update(invs, ["amount"]) == 3
        inv = invs[2]
        red = Tag.objects.get(name="red")
        inv.labels.add(red)
        assert [t.name for t in inv.labels.all()] == ["red"]
        inv.labels.remove(red)
        assert inv.labels.count() == 0
        tagging = Tagging.objects.create(invoice=inv, tag=red)
        assert tagging.tenant_id == 1
        assert sorted(t.name for t in inv.tags.all()) == ["red"]
    assert Invoice.unscoped.filter(amount=7).count() == 3


def test_hooks_idle_until_a_tenant_model_exists() -> None:
    """The entry-point module only contributes public names; the per-query hooks register with the
    first TenantModel subclass, so a project without tenant models keeps the core's fast paths."""
    import subprocess
    import sys

    code = (
        "import dorm\n"
        "from dorm import plugins\n"
        "plugins.kernel.ensure_loaded()\n"
        "assert plugins.kernel.pm.get_plugin('tenancy') is not None\n"
        "assert not plugins.kernel.implemented('dorm_query_pre_compile')\n"
        "TenantModel = dorm.TenantModel\n"
        "assert not plugins.kernel.implemented('dorm_query_pre_compile')\n"
        "class Doc(TenantModel):\n"
        "    class Meta:\n"
        "        app_label = 'probe'\n"
        "assert plugins.kernel.implemented('dorm_query_pre_compile')\n"
        "assert plugins.kernel.implemented('dorm_pre_save')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_upserts_must_target_the_tenant(alias: str, create_tables: Any) -> None:
    create_tables(Sku, Coupon)
    with current_tenant(2):
        Coupon.objects.create(code="SAVE", value=5)
    with current_tenant(1):
        with pytest.raises(CrossTenantWriteError, match="unique_fields"):
            Coupon.objects.bulk_create(
                [Coupon(code="SAVE", value=50)], update_conflicts=True, update_fields=["value"], unique_fields=["code"]
            )
        Coupon.objects.bulk_create([Coupon(code="SAVE", value=50)], ignore_conflicts=True)  # DO NOTHING: safe
    assert Coupon.unscoped.get(code="SAVE").value == 5 and Coupon.unscoped.get(code="SAVE").tenant_id == 2
    for t in (1, 2):
        with current_tenant(t):
            Sku.objects.bulk_create(
                [Sku(code="X", price=t)],
                update_conflicts=True,
                update_fields=["price"],
                unique_fields=["tenant_id", "code"],
            )
    with current_tenant(1):
        Sku.objects.bulk_create(
            [Sku(code="X", price=100)],
            update_conflicts=True,
            update_fields=["price"],
            unique_fields=["tenant_id", "code"],
        )
        assert Sku.objects.get(code="X").price == 100
    assert sorted(Sku.unscoped.values_list("tenant_id", "price")) == [(1, 100), (2, 2)]
