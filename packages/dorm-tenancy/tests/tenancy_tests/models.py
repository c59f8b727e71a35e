"""Models of the tenancy tests (app_label ``tenancy``)."""

from __future__ import annotations

import dorm
from dorm_tenancy import TenantModel


class Region(dorm.Model):
    """Not a tenant model: shared by every tenant, never filtered."""

    name = dorm.CharField(max_length=30)

    class Meta:
        app_label = "tenancy"


class Customer(TenantModel):
    name = dorm.CharField(max_length=30)
    region = dorm.ForeignKey(Region, on_delete=dorm.SET_NULL, null=True, related_name="customers")

    class Meta:
        app_label = "tenancy"


class Tag(TenantModel):
    name = dorm.CharField(max_length=30)

    class Meta:
        app_label = "tenancy"


class Invoice(TenantModel):
    number = dorm.CharField(max_length=30)
    amount = dorm.IntegerField(default=0)
    customer = dorm.ForeignKey(Customer, on_delete=dorm.CASCADE, related_name="invoices")
    reviewer = dorm.ForeignKey(Customer, on_delete=dorm.SET_NULL, null=True, related_name="reviewed")
    tags = dorm.ManyToManyField(Tag, through="Tagging", related_name="invoices")
    labels = dorm.ManyToManyField(Tag, related_name="labelled")

    class Meta:
        app_label = "tenancy"


class Tagging(TenantModel):
    invoice = dorm.ForeignKey(Invoice, on_delete=dorm.CASCADE)
    tag = dorm.ForeignKey(Tag, on_delete=dorm.CASCADE)

    class Meta:
        app_label = "tenancy"


class UuidDoc(TenantModel):
    tenant_id = dorm.UUIDField(db_index=True)
    title = dorm.CharField(max_length=30)

    class Meta:
        app_label = "tenancy"


class CodeDoc(TenantModel):
    tenant_id = dorm.CharField(max_length=20, db_index=True)
    title = dorm.CharField(max_length=30)

    class Meta:
        app_label = "tenancy"


class Sku(TenantModel):
    """Unique per tenant: the safe target of an upsert."""

    code = dorm.CharField(max_length=20)
    price = dorm.IntegerField(default=0)

    class Meta:
        app_label = "tenancy"
        constraints = [dorm.UniqueConstraint(fields=["tenant_id", "code"], name="tenancy_sku_tenant_code")]


class Coupon(TenantModel):
    """Unique across tenants: an upsert on ``code`` alone could hit another tenant's row."""

    code = dorm.CharField(max_length=20, unique=True)
    value = dorm.IntegerField(default=0)

    class Meta:
        app_label = "tenancy"


ALL = (Region, Customer, Tag, Invoice, Tagging, UuidDoc, CodeDoc, Sku, Coupon)
