"""Storage of billing reports and their rows (DOMAIN.md §8).

A report document: `_id` (rpt_…), `ownerOrgId` (the partner or sub-partner it is for), `rootOrgId`,
`subPartnerOrgId` (or None), `billingStartDate`/`billingEndDate` (ISO dates), `type` (PARTNER, CUSTOMER,
USER), `status` (IN_PROGRESS, COMPLETED, FAILED), `createdAt`, `createdBy`, `errors`, `version`.
A row document: `reportId`, `n` (its place in the report) and the R-BIL-4 columns.
"""

from __future__ import annotations

from domain.pagination import Order
from domain.repositories.base import Repository

BILLING_REPORTS = "billing_reports"
BILLING_ROWS = "billing_rows"
ROW_ORDER = Order("billing-rows", (("n", 1), ("_id", 1)))


class BillingReportRepository(Repository):
    collection = BILLING_REPORTS


class BillingRowRepository(Repository):
    collection = BILLING_ROWS
