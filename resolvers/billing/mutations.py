"""Billing report mutations (DOMAIN.md §8, R-BIL-2/3/5)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.services import billing
from resolvers.billing.types import BillingReportNode
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import ReportType
from resolvers.subscribers.mutations import DeletePayload


@strawberry.input
class CreateBillingReportInput:
    billing_start_date: date
    billing_end_date: date
    type: ReportType | None = ReportType.PARTNER
    sub_partner_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="A parent limiting the report to one of its sub-partners.")


@strawberry.type
class BillingReportPayload:
    report: BillingReportNode | None
    errors: list[UserError]


@strawberry.type
class BillingMutations:
    @strawberry.mutation(description="Answers at once with the report IN_PROGRESS (or the equal one already in "
                                     "progress); it becomes COMPLETED or FAILED in the background (R-BIL-3).")
    @refused_as(BillingReportPayload)
    async def create_billing_report(self, info: Info, input: CreateBillingReportInput) -> BillingReportPayload:
        data = billing.NewReport(
            billing_start_date=input.billing_start_date, billing_end_date=input.billing_end_date,
            type=input.type or ReportType.PARTNER,
            sub_partner_org_id=str(input.sub_partner_org_id) if input.sub_partner_org_id is not None else None)
        doc = await billing.create_report(info.context.repos, await info.context.caller(), data)
        return BillingReportPayload(report=BillingReportNode.of_doc(doc), errors=[])

    @strawberry.mutation(description="Removes the report and its rows; its download links stop working at once.")
    @refused_as(DeletePayload)
    async def delete_billing_report(self, info: Info, id: strawberry.ID) -> DeletePayload:
        deleted = await billing.delete_report(info.context.repos, await info.context.caller(), str(id))
        return DeletePayload(deleted_id=strawberry.ID(deleted), errors=[])
