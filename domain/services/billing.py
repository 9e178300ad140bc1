"""Billing reports (DOMAIN.md §8): create, delete, list, and the background job that generates them.

Creating answers at once with `IN_PROGRESS` (R-BIL-3) and queues a durable job; the job runs the
report's pipeline (`domain.rules.billing`), which writes the rows, and then marks the report `COMPLETED` in
a transaction that also records the event. Every status change is an event of type BILLING_REPORT
on the same stream as provisioning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.model.entities import OrgKind, Partner
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.jobs import DiscardReport, GenerateReport
from domain.model.principal import Scope
from domain.rules.billing import (
    ReportStatus,
    ReportType,
    active_key,
    period_problems,
    report_change,
    report_removal,
)
from domain.rules.filters import all_of
from domain.rules.pagination import Order, PageRequest
from domain.rules.tenancy import Caller, list_scope
from domain.rules.validation import Problems
from domain.services.reads import Listing, Record, empty, require_scope, visible_by_ids
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx

REPORT_ORDERS: dict[str, Order] = {
    o.name: o for o in (
        Order("BILLING_START_DATE", (("billingStartDate", 1), ("_id", 1))),
        Order("BILLING_END_DATE", (("billingEndDate", 1), ("_id", 1))),
        Order("STATUS", (("status", 1), ("_id", 1))),
        Order("CREATED_DESC", (("createdAt", -1), ("_id", -1))),
    )
}


@dataclass(frozen=True)
class NewReport:
    billing_start_date: date
    billing_end_date: date
    type: ReportType = ReportType.PARTNER
    sub_partner_org_id: str | None = None


async def _covered_org(repos: Repositories, caller: Caller, sub_partner_org_id: str | None) -> Partner:
    """The org whose customers a new report covers: the caller's own, or one of its sub-partners."""
    if caller.org is None:
        raise Forbidden("billing reports belong to a partner or sub-partner")
    require_scope(caller, Scope.BILLING_REPORTS_WRITE)
    if sub_partner_org_id is None or sub_partner_org_id == caller.org.id:
        return caller.org
    if not caller.is_parent_partner:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no sub-partner of yours has this id", "input",
                                 "subPartnerOrgId")
    if not caller.may_view_sub_partners:
        raise Forbidden("a report for a sub-partner needs the full_admin role")
    target = await repos.partners.get(sub_partner_org_id)
    if target is None or not caller.owns_sub_partner(target):
        raise DomainError.single(ErrorCode.NOT_FOUND, "no sub-partner of yours has this id", "input",
                                 "subPartnerOrgId")
    return target


async def create_report(repos: Repositories, caller: Caller, data: NewReport) -> Document:
    """R-BIL-2/3: a new IN_PROGRESS report, or the equal one already in progress; REPORT_EXISTS if completed."""
    covered = await _covered_org(repos, caller, data.sub_partner_org_id)
    problems = Problems()
    period_problems(data.billing_start_date, data.billing_end_date, repos.clock.now().date(), problems, "input")
    problems.raise_if_any()
    sub_partner_id = covered.id if covered.kind is OrgKind.SUB_PARTNER else None
    key = active_key(covered.root_id, sub_partner_id, data.billing_start_date, data.billing_end_date, data.type)

    async def write(tx: Tx) -> Document:
        existing = await repos.billing_reports.alive(key, session=tx.session)
        if existing is not None:
            if existing["status"] == ReportStatus.COMPLETED.value:
                raise DomainError.single(ErrorCode.REPORT_EXISTS, f"report {existing['_id']} covers the same period, "
                                         "type and sub-partner; delete it to generate it again", "input")
            return existing  # IN_PROGRESS: the caller gets the one that is being generated
        doc: Document = {
            "_id": new_id(Kind.BILLING_REPORT), "ownerOrgId": covered.id, "rootOrgId": covered.root_id,
            "subPartnerOrgId": sub_partner_id, "billingStartDate": data.billing_start_date.isoformat(),
            "billingEndDate": data.billing_end_date.isoformat(), "type": data.type.value,
            "status": ReportStatus.IN_PROGRESS.value, "activeKey": key, "createdAt": tx.now,
            "createdBy": caller.principal.subject, "createdByOrgId": caller.org.id if caller.org else None,
            "errors": [], "rowCount": 0, "version": 1,
        }
        try:
            await repos.billing_reports.insert(doc, session=tx.session)
        except DuplicateKey:  # another process created the same report meanwhile
            raise DomainError.single(ErrorCode.REPORT_EXISTS, "an equal report was created meanwhile",
                                     "input") from None
        await tx.enqueue(GenerateReport(doc["_id"]))
        tx.record(report_change(doc, None))
        return doc

    return await repos.atomic(write)


# What a sub-partner is told created a report its parent partner made for it (R-AUD-1: no ids, no names).
PARENT_PARTNER = "PARENT_PARTNER"


def report_creator(doc: Document, caller: Caller) -> str:
    """Who created the report, as `caller` may learn it (R-ORG-6): the creator's own org and the parent partner
    above it see the admin; a sub-partner sees a report its parent made for it as made by PARENT_PARTNER.

    Reports stored before the creator's org was recorded (`createdByOrgId`) show the admin as they always did.
    """
    creator_org = doc.get("createdByOrgId")
    if creator_org is None:
        return str(doc["createdBy"])
    if caller.org is not None and caller.org.id in (creator_org, doc.get("rootOrgId")):
        return str(doc["createdBy"])
    return PARENT_PARTNER


async def delete_report(repos: Repositories, caller: Caller, report_id: str) -> str:
    """Removes the report; every download link to it stops working at once (R-BIL-5), its rows go soon after."""
    require_scope(caller, Scope.BILLING_REPORTS_WRITE)
    [visible] = await visible_by_ids(repos, caller, Record.BILLING_REPORT, [report_id])
    if visible is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no billing report has this id", "id")

    async def write(tx: Tx) -> None:
        doc = await repos.billing_reports.find_doc(report_id, session=tx.session)
        if doc is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no billing report has this id", "id")
        await repos.billing_reports.delete({"_id": report_id}, session=tx.session)
        # Rows can be many: a durable job removes them, outside this transaction.
        await tx.enqueue(DiscardReport(report_id))
        tx.record(report_removal(doc))

    await repos.atomic(write)
    return report_id


@dataclass(frozen=True)
class ReportCriteria:
    """R-BIL-6: exact-match filters."""

    billing_start_date: date | None = None
    billing_end_date: date | None = None
    type: ReportType | None = None
    status: ReportStatus | None = None

    def to_filter(self) -> dict[str, Any]:
        f: dict[str, Any] = {}
        if self.billing_start_date is not None:
            f["billingStartDate"] = self.billing_start_date.isoformat()
        if self.billing_end_date is not None:
            f["billingEndDate"] = self.billing_end_date.isoformat()
        if self.type is not None:
            f["type"] = self.type.value
        if self.status is not None:
            f["status"] = self.status.value
        return f


async def reports(repos: Repositories, caller: Caller, criteria: ReportCriteria, sub_partner_org_id: str | None,
                  order: str, request: PageRequest) -> Listing:
    """A partner's own reports, or those limited to one of its sub-partners when it names one (R-ORG-3)."""
    require_scope(caller, Scope.BILLING_REPORTS_READ)
    sub_partner = await repos.partners.get(sub_partner_org_id) if sub_partner_org_id is not None else None
    owner = list_scope(caller, sub_partner, sub_partner_org_id is not None, False)
    if owner.is_nothing:
        return empty(request)
    base = all_of(owner.filter(), criteria.to_filter())
    page = await repos.billing_reports.page(base, REPORT_ORDERS[order], request)
    return Listing(page, lambda: repos.billing_reports.count(base))
