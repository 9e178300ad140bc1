"""Storage of the usage ledger, billing reports and their rows (DOMAIN.md §8).

A usage interval (`usage`): one subscriber holding one package on the Webex side, from `start` to `end`
(None while it lasts). It carries what a report needs once the subscriber or its customer is gone:
`subscriberId`, `userId`, `customerId`, `customerOrgId`, `customerExternalId`, `customerLocationId` (the
customer's headquarters), `locationId` (the subscriber's), `ownerOrgId`, `rootOrgId`, `package`, and
`billingStart` (the first billable instant: the later of the customer's and the sub-partner's billing start
dates, at 00:00 UTC; None when neither delays billing).

A report document: `_id` (rpt_…), `ownerOrgId` (the org whose customers it covers: the sub-partner it is
limited to, else the partner), `rootOrgId`, `subPartnerOrgId` (or None), `billingStartDate`/`billingEndDate`
(ISO dates), `type` (PARTNER, CUSTOMER, USER), `status` (IN_PROGRESS, COMPLETED, FAILED), `activeKey` (set
while IN_PROGRESS or COMPLETED: unique, so two equal reports cannot both be alive, R-BIL-3), `createdAt`,
`createdBy` (the admin's `sub`), `createdByOrgId` (the admin's org), `errors`, `rowCount`, `version`.
A row document: `reportId`, `n` (its place in the report) and the R-BIL-4 columns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from domain.model.entities import Partner
from domain.rules.billing import Period, ReportType
from domain.rules.pagination import Order
from domain.store.billing_pipelines import report_pipeline
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

USAGE = "usage"
BILLING_REPORTS = "billing_reports"
BILLING_ROWS = "billing_rows"
ROW_ORDER = Order("billing-rows", (("n", 1), ("_id", 1)))


class UsageRepository(Repository):
    collection = USAGE

    async def report_rows(self, scope: Mapping[str, Any], period: Period, kind: ReportType, now: datetime,
                          orgs: Mapping[str, Partner], batch: int) -> AsyncIterator[list[Document]]:
        """A report's rows in report order, `batch` at a time, computed by one pipeline over the ledger."""
        async for rows in self.db.aggregate_batches(self.collection, report_pipeline(scope, period, kind, now, orgs),
                                                    batch):
            yield rows

    async def open_of(self, subscriber_id: str, *, session: Session | None = None) -> list[Document]:
        return await self.db.find(self.collection, {"subscriberId": subscriber_id, "end": None}, session=session)

    async def open_matching(self, filter: Mapping[str, Any], *, session: Session | None = None) -> list[Document]:
        """The open intervals matching `filter` (e.g. a workspace's)."""
        return await self.db.find(self.collection, {**filter, "end": None}, session=session)

    async def set_open(self, filter: Mapping[str, Any], fields: Mapping[str, Any], *,
                       session: Session | None = None) -> None:
        """Set `fields` on every open interval matching `filter` (`end` among them closes it)."""
        await self.db.collection(self.collection).update_many({**filter, "end": None}, {"$set": dict(fields)},
                                                              session=session)

    async def stamp_customer(self, customer_id: str, fields: Mapping[str, Any], *,
                             session: Session | None = None) -> None:
        """Copy customer facts that reports show (external id, billing start) onto all its intervals."""
        await self.db.collection(self.collection).update_many({"customerId": customer_id}, {"$set": dict(fields)},
                                                              session=session)


class BillingReportRepository(Repository):
    collection = BILLING_REPORTS

    async def alive(self, active_key: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"activeKey": active_key},
                                                                                   session=session)
        return doc

    async def replace(self, doc: Document, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).replace_one({"_id": doc["_id"]}, doc, session=session)


class BillingRowRepository(Repository):
    collection = BILLING_ROWS

    async def stream(self, report_id: str, batch: int = 500) -> AsyncIterator[list[Document]]:
        """A report's rows in report order, a batch at a time (a download never holds a whole report)."""
        async for rows in self.db.find_batches(self.collection, {"reportId": report_id}, ROW_ORDER.keys, batch):
            yield rows
