"""dorm-tenancy's managers are typed per model, and the plugin checks their calls like any other."""

# fmt: off

from typing import reveal_type

import dorm
from dorm_tenancy import TenantModel


class Invoice(TenantModel):
    number = dorm.IntegerField()

    class Meta:
        app_label = "billing"


reveal_type(Invoice.objects.create(number=1))  # E: Revealed type is "case_tenancy.Invoice"
reveal_type(Invoice.unscoped.first())  # E: Revealed type is "case_tenancy.Invoice | None"
reveal_type(Invoice.objects.filter(number=1).get())  # E: Revealed type is "case_tenancy.Invoice"
Invoice.objects.filter(nubmer=1)  # E: "Invoice" has no field "nubmer" (did you mean "number"?)  [djanorm-field]
Invoice.unscoped.filter(tenant_id=3, number__gte=2)
