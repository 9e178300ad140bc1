"""Trials of Webex services for a resale partner's customer (DOMAIN.md §10, R-TRI-3…11, R-TRI-STATE).

Other slices read these: `Trial` (a stored trial), `TrialStatus` and its transition table `TRIAL`; `ResaleService`
is re-exported from domain.model.customer_orgs (the same class).
Storage is `domain.store.repositories.trials.TrialRepository` (`repos.trials`); the orders slice marks a trial
converted with `domain.services.trials.mark_converted(repos, tx, trial_id, order_id)` inside its own transaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import Field

from domain.model.changes import Change, EntityType
from domain.model.customer_orgs import ResaleService as ResaleService  # one enum: the orgs slice's
from domain.model.entities import ProvisioningError, _Entity
from domain.model.status import require_move

CONSENT_WINDOW = timedelta(days=10)  # R-TRI-STATE: unanswered consent → cancelled
TRIAL_LENGTH = timedelta(days=30)  # R-TRI-6, R-TRI-8: now + 30 days
WARNING_BEFORE = timedelta(days=7)  # R-TRI-11
GRACE = timedelta(days=30)  # R-TRI-STATE: graceEndsAt = endsAt + 30 days
NUMBERS_HELD = timedelta(days=15)  # R-TRI-11: CALLING numbers stay reserved after the grace
DEVICE_TRIAL_MAX = timedelta(days=120)  # R-TRI-7/8: a DEVICES trial lasts at most this from startedAt
NOT_STARTED_SORT_KEY = datetime(9999, 12, 31, tzinfo=UTC)


class TrialStatus(str, Enum):
    PENDING_CUSTOMER_CONSENT = "pending_customer_consent"
    PENDING_PROVISIONING_DETAILS = "pending_provisioning_details"
    ACTIVE = "active"
    EXPIRED = "expired"
    CONVERTED = "converted"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    PURGED = "purged"
    ERROR = "error"


class ApprovalState(str, Enum):
    """A device trial's extension request (R-TRI-8), decided by platform_admin."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    VOID = "void"


_T = TrialStatus
# R-TRI-STATE as data: every allowed move; anything else is INVALID_STATE.
TRIAL: Mapping[TrialStatus, frozenset[TrialStatus]] = {
    _T.PENDING_CUSTOMER_CONSENT: frozenset({_T.PENDING_PROVISIONING_DETAILS, _T.CANCELLED, _T.DELETED}),
    _T.PENDING_PROVISIONING_DETAILS: frozenset({_T.ACTIVE, _T.ERROR, _T.DELETED}),
    _T.ACTIVE: frozenset({_T.EXPIRED, _T.CONVERTED, _T.DELETED}),
    _T.EXPIRED: frozenset({_T.ACTIVE, _T.PURGED, _T.CONVERTED, _T.DELETED}),
    _T.ERROR: frozenset({_T.DELETED}),
    _T.CONVERTED: frozenset(),
    _T.CANCELLED: frozenset(),
    _T.DELETED: frozenset(),
    _T.PURGED: frozenset(),
}
TERMINAL: frozenset[TrialStatus] = frozenset(s for s, moves in TRIAL.items() if not moves)
NON_TERMINAL: frozenset[TrialStatus] = frozenset(TRIAL) - TERMINAL


class Trial(_Entity):
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    created_by: str = Field(alias="createdBy")  # the creator's `sub` (the sales_admin limit, R-TRI-2)
    creator_email: str | None = Field(default=None, alias="creatorEmail")  # R-NOT-3: partner admins + creator
    company_name: str = Field(alias="companyName")
    admin_email: str = Field(alias="adminEmail")
    industry: str
    country: str
    data_region: str = Field(alias="dataRegion")
    org_id: str | None = Field(default=None, alias="orgId")  # the customer org: null until created or confirmed
    new_org: bool = Field(default=True, alias="newOrg")  # the trial creates the org (purged with it, R-TRI-11)
    services: tuple[ResaleService, ...] = ()
    meetings_site_url: str | None = Field(default=None, alias="meetingsSiteUrl")
    meetings_timezone: str | None = Field(default=None, alias="meetingsTimezone")
    status: TrialStatus
    consent_deadline: datetime | None = Field(default=None, alias="consentDeadline")
    link_version: int = Field(default=0, alias="linkVersion")  # R-NOT-6 `lv` of the consent link
    grant_full_admin: bool | None = Field(default=None, alias="grantFullAdmin")  # R-TRI-5 answer
    started_at: datetime | None = Field(default=None, alias="startedAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    grace_ends_at: datetime | None = Field(default=None, alias="graceEndsAt")
    numbers_release_at: datetime | None = Field(default=None, alias="numbersReleaseAt")
    extension_request: ApprovalState | None = Field(default=None, alias="extensionRequest")
    conversion_order_id: str | None = Field(default=None, alias="conversionOrderId")
    errors: tuple[ProvisioningError, ...] = ()
    version: int = 1
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    @property
    def is_open(self) -> bool:
        return self.status in NON_TERMINAL

    @property
    def open_key(self) -> str | None:
        """R-TRI-4: one open trial per org and partner (a new org is known by its admin's email until created)."""
        if not self.is_open:
            return None
        return f"{self.owner_org_id}:{self.org_id or 'new:' + self.admin_email}"

    def to_doc(self) -> dict[str, Any]:
        doc = super().to_doc()
        key = self.open_key
        if key is None:
            doc.pop("openKey", None)
        else:
            doc["openKey"] = key  # unique sparse index (R-TRI-4 TRIAL_EXISTS)
        # The ENDS_AT_ASC sort key: trials not started yet (no endsAt) sort last, and a cursor never holds null.
        doc["endsAtKey"] = self.ends_at or NOT_STARTED_SORT_KEY
        return doc

    def days_remaining(self, now: datetime) -> int | None:
        """R-TRI-11: ceil((endsAt - now) / 24 h) while active, 0 after, None before it started."""
        if self.ends_at is None:
            return None if self.status in NON_TERMINAL or self.started_at is None else 0
        if self.status is not TrialStatus.ACTIVE:
            return 0
        return max(0, math.ceil((self.ends_at - now) / timedelta(days=1)))

    def move(self, to: TrialStatus, at: datetime, *, reason: str | None = None,
             **update: Any) -> tuple[Trial, Change]:
        """The one way a trial changes status (R-TRI-STATE): checked, version bumped, stamped, with its event."""
        require_move(TRIAL, self.status, to, "trial")
        moved = self.model_copy(update={**update, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def amend(self, *, reason: str, **update: Any) -> tuple[Trial, Change]:
        """A change without a status move (endsAt, services, consent link): same from/to, `reason` names it."""
        changed = self.model_copy(update={**update, "version": self.version + 1})
        return changed, changed.change(self.status, reason=reason)

    def change(self, from_status: TrialStatus | None, *, reason: str | None = None) -> Change:
        return Change(EntityType.TRIAL, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      errors=self.errors, reason=reason,
                      details={"services": [s.value for s in self.services],
                               "endsAt": self.ends_at.isoformat() if self.ends_at else None,
                               "createdBy": self.created_by})
