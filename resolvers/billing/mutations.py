"""Billing report mutations (DOMAIN.md §8, R-BIL-2/3/5)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.model.errors import DomainError
from domain.rules.billing import ReportType
from domain.services import billing
from resolvers.billing.types import BillingReportNode, ReportKind
from resolvers.common import UserError, user_errors
from resolvers.context import Info
from resolvers.subscribers.mutations import DeletePayload


@strawberry.input
class CreateBillingReportInput:
    billing_start_date: date
    billing_end_date: date
    type: ReportKind | None = ReportType.PARTNER  # type: ignore[valid-type]
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
    async def create_billing_report(self, info: Info, input: CreateBillingReportInput) -> BillingReportPayload:
        data = billing.NewReport(
            billing_start_date=input.billing_start_date, billing_end_date=input.billing_end_date,
            type=input.type or ReportType.PARTNER,
            sub_partner_org_id=str(input.sub_partner_org_id) if input.sub_partner_org_id is not None else None)
        try:
            doc = await billing.create_report(info.context.repos, await info.context.caller(), data)
        except DomainError as e:
            return BillingReportPayload(report=None, errors=user_errors(e))
        return BillingReportPayload(report=BillingReportNode.of_doc(doc), errors=[])

    @strawberry.mutation(description="Removes the report and its rows; its download links stop working at once.")
    async def delete_billing_report(self, info: Info, id: strawberry.ID) -> DeletePayload:
        try:
            deleted = await billing.delete_report(info.context.repos, await info.context.caller(), str(id))
        except DomainError as e:
            return DeletePayload(deleted_id=None, errors=user_errors(e))
        return DeletePayload(deleted_id=strawberry.ID(deleted), errors=[])
