"""Billing report lookups and lists (DOMAIN.md §8)."""

from __future__ import annotations

import strawberry

from domain.model.principal import Scope
from domain.rules.pagination import PageRequest
from domain.services import billing, reads
from resolvers.billing.types import BillingReportConnection, BillingReportFilter, BillingReportNode
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.enums import BillingReportOrder


@strawberry.type
class BillingQueries:
    @strawberry.field(description="One billing report; null when it does not exist or the caller may not see it.")
    async def billing_report(self, info: Info, id: strawberry.ID) -> BillingReportNode | None:
        reads.require_scope(await info.context.caller(), Scope.BILLING_REPORTS_READ)
        doc = await info.context.loaders.visible_billing_report.load(id)
        return BillingReportNode.of_doc(doc) if doc else None

    @strawberry.field(description="The caller's billing reports; a parent names `subPartnerOrgId` for those "
                                  "limited to one of its sub-partners (R-BIL-6).")
    async def billing_reports(
        self, info: Info, filter: BillingReportFilter | None = None, first: int | None = 50,
        after: str | None = None, order_by: BillingReportOrder | None = BillingReportOrder["BILLING_START_DATE"],
    ) -> BillingReportConnection:
        f = filter or BillingReportFilter()
        criteria = billing.ReportCriteria(billing_start_date=f.billing_start_date,
                                          billing_end_date=f.billing_end_date, type=f.type, status=f.status)
        listing = await billing.reports(
            info.context.repos, await info.context.caller(), criteria,
            str(f.sub_partner_org_id) if f.sub_partner_org_id is not None else None,
            (order_by or BillingReportOrder["BILLING_START_DATE"]).value, PageRequest.of(first, after))
        return listing_connection(BillingReportConnection, listing, BillingReportNode.of_doc)
