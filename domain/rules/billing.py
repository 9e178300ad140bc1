"""Billing reports (DOMAIN.md §8): report types and columns, the period rules, billable start instants.

The aggregation that turns usage into rows is `domain.store.billing_pipelines`; the signed download links
are made and checked where they are served (`gateway/downloads.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

from domain.model.changes import DELETED, Change, EntityType
from domain.model.entities import OrgKind, Partner, ProvisioningError
from domain.model.errors import DomainError, ErrorCode
from domain.rules.validation import Problems

DAY_MS = 86_400_000
HISTORY_YEARS = 5  # R-BIL-2
QUANTITY_DECIMALS = 6
DOWNLOAD_TTL = timedelta(minutes=30)  # R-BIL-5


class ReportType(str, Enum):
    PARTNER = "PARTNER"  # one row per partner org and package
    CUSTOMER = "CUSTOMER"  # per customer and package
    USER = "USER"  # per subscriber and package


class ReportStatus(str, Enum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


# R-BIL-4: the columns of each type, in CSV order.
_PARTNER_COLUMNS = ("partnerName", "partnerOrgId", "subscriptionId", "serviceName", "sku", "description",
                    "consumptionStartDate", "consumptionEndDate", "quantity")
_CUSTOMER_COLUMNS = ("customerOrgId", "customerExternalId", "locationId")
# R-BIL-4 (amended 2026-12): a workspace's USER rows carry `workspaceId` instead of `subscriberId`/`userId`.
_USER_COLUMNS = ("subscriberId", "userId", "workspaceId")
COLUMNS: dict[ReportType, tuple[str, ...]] = {
    ReportType.PARTNER: _PARTNER_COLUMNS,
    ReportType.CUSTOMER: _PARTNER_COLUMNS + _CUSTOMER_COLUMNS,
    ReportType.USER: _PARTNER_COLUMNS + _CUSTOMER_COLUMNS + _USER_COLUMNS,
}


def earliest_start(today: date) -> date:
    """The first day a report may cover: the same calendar day five years ago (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - HISTORY_YEARS)
    except ValueError:
        return today.replace(year=today.year - HISTORY_YEARS, day=28)


def period_problems(start: date, end: date, today: date, problems: Problems, *prefix: str) -> None:
    """R-BIL-2: inclusive dates, within the last five years, ending before today."""
    if start > end:
        problems.add(ErrorCode.REPORT_DATE_RANGE, "`billingStartDate` must not be after `billingEndDate`",
                     *prefix, "billingStartDate")
    if start < earliest_start(today):
        problems.add(ErrorCode.REPORT_DATE_RANGE,
                     f"a report covers at most the last {HISTORY_YEARS} years: start on or after "
                     f"{earliest_start(today)}", *prefix, "billingStartDate")
    if end >= today:
        problems.add(ErrorCode.REPORT_DATE_RANGE, f"a report must end before today ({today})",
                     *prefix, "billingEndDate")


def active_key(root_org_id: str, sub_partner_org_id: str | None, start: date, end: date,
               kind: ReportType) -> str:
    """What makes two reports the same one (R-BIL-3): scope, period and type."""
    return f"{root_org_id}|{sub_partner_org_id or '*'}|{start.isoformat()}|{end.isoformat()}|{kind.value}"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def begins(self) -> datetime:
        return day_start(self.start)

    @property
    def ends(self) -> datetime:
        """The first instant after the period."""
        return day_start(self.end + timedelta(days=1))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def billing_start(customer_start: date | None, owner: Partner | None) -> datetime | None:
    """The first billable instant of a customer: the later of its own and its sub-partner's start dates."""
    days = [d for d in (customer_start,
                        owner.billing_start_date if owner and owner.kind is OrgKind.SUB_PARTNER else None) if d]
    return day_start(max(days)) if days else None


# ------------------------------------------------------------------ a report's status moves (R-BIL-3)

REPORT_MOVES: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.IN_PROGRESS: frozenset({ReportStatus.COMPLETED, ReportStatus.FAILED}),
    ReportStatus.COMPLETED: frozenset(),
    ReportStatus.FAILED: frozenset(),
}


def report_change(report: Mapping[str, Any], from_status: str | None, to_status: str | None = None, *,
                  version: int | None = None) -> Change:
    """The event of a report (a stored document) having moved from `from_status` (None: it is new)."""
    return Change(EntityType.BILLING_REPORT, report["_id"], report["ownerOrgId"], report["rootOrgId"], from_status,
                  to_status or report["status"], version or report["version"],
                  errors=[ProvisioningError(**e) for e in report.get("errors") or []],
                  details={"type": report["type"], "billingStartDate": report["billingStartDate"],
                           "billingEndDate": report["billingEndDate"]})


def report_moved(report: Mapping[str, Any], to: ReportStatus, **fields: Any) -> tuple[dict[str, Any], Change]:
    """The one way a report changes status: checked, version bumped, `fields` set; the report and its event.

    A report that is no longer IN_PROGRESS loses its `activeKey`: only a living report blocks an equal new one.
    """
    current = ReportStatus(report["status"])
    if to not in REPORT_MOVES[current]:
        raise DomainError.single(ErrorCode.INVALID_STATE,
                                 f"a billing report in status `{current.value}` cannot become `{to.value}`")
    moved = {**report, **fields, "status": to.value, "version": report["version"] + 1}
    if to is ReportStatus.FAILED:
        moved.pop("activeKey", None)  # a FAILED report does not block a new one
    return moved, report_change(moved, current.value)


def report_removal(report: Mapping[str, Any]) -> Change:
    """The last event of a deleted report."""
    return report_change(report, report["status"], DELETED, version=report["version"] + 1)
