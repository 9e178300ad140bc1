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
Rows are stored a chunk at a time (`BillingRowRepository.store`): one document per run of consecutive rows,
`{_id: "<reportId>:<n>", reportId, n (the first row's place in the report), last (the last row's), rows: [the R-BIL-4
columns of each row]}`. One row per document cost ten times as much to write on the embedded database (see
bench/billing.py). Reports stored before hold one document per row (`reportId`, `n` and the columns, no `rows`);
both read the same: every read expands a chunk into the rows it holds, each with `_id`, `reportId` and `n`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.model.entities import Partner
from domain.rules.billing import Period, ReportType
from domain.rules.pagination import Order, Page, PageRequest, decode_cursor, make_page
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

    async def store(self, report_id: str, first: int, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows `first`, `first + 1`, ... of a report (their R-BIL-4 columns), written as one chunk."""
        if rows:
            await self.insert({"_id": f"{report_id}:{first}", "reportId": report_id, "n": first,
                               "last": first + len(rows) - 1, "rows": [dict(r) for r in rows]})

    async def stream(self, report_id: str, batch: int = 500) -> AsyncIterator[list[Document]]:
        """A report's rows in report order, about `batch` at a time (a download never holds a whole report)."""
        rows: list[Document] = []
        async for docs in self.db.find_batches(self.collection, {"reportId": report_id}, ROW_ORDER.keys, STREAM_DOCS):
            for doc in docs:
                rows += expand(doc)
                if len(rows) >= batch:
                    yield rows
                    rows = []
        if rows:
            yield rows

    async def page(self, base: Mapping[str, Any], order: Order, request: PageRequest) -> Page:
        """A page of one report's rows (`base` names the report): the same rows and cursors as one document a row."""
        if set(base) != {"reportId"} or order != ROW_ORDER:
            raise ValueError("billing rows are paged by report, in report order")
        report_id = base["reportId"]
        after = int(decode_cursor(ROW_ORDER, request.after)[0]) if request.after is not None else 0
        wanted = after + request.first + 1  # one row beyond the page tells whether there is a next page
        # The chunk holding row `after + 1` starts at or before it; the chunks after it start within the page.
        docs = await self.db.find(self.collection, {"reportId": report_id, "n": {"$lte": after + 1}},
                                  sort=(("n", -1),), limit=1)
        docs += await self.db.find(self.collection, {"reportId": report_id, "n": {"$gt": after + 1, "$lte": wanted}},
                                   sort=ROW_ORDER.keys)
        rows = [row for doc in docs for row in expand(doc) if after < row["n"] <= wanted]
        return make_page(ROW_ORDER, rows, request)

    async def count(self, filter: Mapping[str, Any]) -> int:
        """How many rows the documents matching `filter` hold."""
        docs = await self.db.find(self.collection, filter, projection={"_id": 0, "n": 1, "last": 1})
        return sum(d["last"] - d["n"] + 1 if "last" in d else 1 for d in docs)


STREAM_DOCS = 8  # documents per read while streaming: a few chunks, or a few rows of a report stored a row a document


def expand(doc: Document) -> list[Document]:
    """The rows a stored document holds, each with `_id`, `reportId` and `n` (a document stored a row a time is one)."""
    if "rows" not in doc:
        return [doc]
    report_id, first = doc["reportId"], doc["n"]
    return [{"_id": f"{report_id}:{n}", "reportId": report_id, "n": n, **row}
            for n, row in enumerate(doc["rows"], first)]
