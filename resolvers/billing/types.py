"""Billing reports and their rows as the API shows them (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import billing as billing_service
from domain.services import reads
from domain.store.driver import Document
from resolvers.common import Connection, Node, ProvisioningError, listing_connection
from resolvers.context import Info
from resolvers.enums import ReportStatus, ReportType

if TYPE_CHECKING:
    from resolvers.organisations.types import PartnerType


@strawberry.type(name="BillingRow")
class BillingRowType:
    partner_name: str
    partner_org_id: strawberry.ID
    subscription_id: str
    service_name: str
    sku: str
    description: str
    consumption_start_date: date
    consumption_end_date: date
    quantity: float
    customer_org_id: strawberry.ID | None
    customer_external_id: str | None
    location_id: strawberry.ID | None
    subscriber_id: strawberry.ID | None
    user_id: strawberry.ID | None
    workspace_id: strawberry.ID | None = strawberry.field(
        description="USER rows of a workspace carry its id instead of subscriberId/userId (R-BIL-4, amended).")

    @classmethod
    def of_doc(cls, doc: Document) -> BillingRowType:
        return cls(
            partner_name=doc["partnerName"], partner_org_id=strawberry.ID(doc["partnerOrgId"]),
            subscription_id=doc["subscriptionId"], service_name=doc["serviceName"], sku=doc["sku"],
            description=doc["description"],
            consumption_start_date=date.fromisoformat(doc["consumptionStartDate"]),
            consumption_end_date=date.fromisoformat(doc["consumptionEndDate"]), quantity=float(doc["quantity"]),
            customer_org_id=doc.get("customerOrgId"), customer_external_id=doc.get("customerExternalId"),
            location_id=doc.get("locationId"), subscriber_id=doc.get("subscriberId"), user_id=doc.get("userId"),
            workspace_id=doc.get("workspaceId"),
        )


@strawberry.type
class BillingRowConnection(Connection[BillingRowType]):
    pass


async def _created_by(root: BillingReportNode, info: Info) -> str:
    # A sub-partner never learns who at its parent acted (R-ORG-6, R-AUD-1).
    return billing_service.report_creator(root.doc, await info.context.caller())


@strawberry.type(name="BillingReport")
class BillingReportNode(Node):
    doc: strawberry.Private[Document]
    id: strawberry.ID
    billing_start_date: date
    billing_end_date: date
    type: ReportType
    status: ReportStatus
    created_at: datetime
    created_by: str = strawberry.field(resolver=_created_by)
    errors: list[ProvisioningError]
    version: int

    @classmethod
    def of_doc(cls, doc: Document) -> BillingReportNode:
        return cls(
            doc=doc, id=strawberry.ID(doc["_id"]), billing_start_date=date.fromisoformat(doc["billingStartDate"]),
            billing_end_date=date.fromisoformat(doc["billingEndDate"]), type=ReportType(doc["type"]),
            status=ReportStatus(doc["status"]), created_at=doc["createdAt"],
            errors=[ProvisioningError(code=e["code"], message=e["message"]) for e in doc.get("errors") or []],
            version=doc["version"],
        )

    @strawberry.field(description="The sub-partner the report is limited to; null for the partner's own.")
    async def sub_partner(
        self, info: Info
    ) -> Annotated[PartnerType, strawberry.lazy("resolvers.organisations.types")] | None:
        from resolvers.organisations.types import PartnerType

        org_id = self.doc.get("subPartnerOrgId")
        if not org_id:
            return None
        partner = await info.context.loaders.visible_partner.load(org_id)
        return PartnerType.of(partner) if partner else None

    @strawberry.field(description="Signed CSV link, valid 30 minutes from this read (R-BIL-5); "
                                  "null unless COMPLETED.")
    async def download_url(self, info: Info) -> str | None:
        if self.status is not ReportStatus.COMPLETED:
            return None
        return info.context.download_url(self.id) if info.context.download_url else None

    @strawberry.field(description="How many rows the report has (0 until it is COMPLETED).")
    def row_count(self) -> int:
        return int(self.doc.get("rowCount") or 0)

    @strawberry.field(description="The report's rows (R-BIL-4), in report order; none until it is COMPLETED.")
    async def rows(self, info: Info, first: int | None = 100, after: str | None = None) -> BillingRowConnection:
        request = PageRequest.of(first, after)
        if self.status is not ReportStatus.COMPLETED:  # rows being written are not a report yet
            return listing_connection(BillingRowConnection, reads.empty(request), BillingRowType.of_doc)
        listing = await reads.billing_rows(info.context.repos, self.id, request)
        return listing_connection(BillingRowConnection, listing, BillingRowType.of_doc)


@strawberry.type
class BillingReportConnection(Connection[BillingReportNode]):
    pass


@strawberry.input(description="Exact-match filters (R-BIL-6).")
class BillingReportFilter:
    billing_start_date: date | None = None
    billing_end_date: date | None = None
    type: ReportType | None = None
    status: ReportStatus | None = None
    sub_partner_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="A parent naming one of its sub-partners: the reports limited to it.")
