"""The rules of restricted-party reviews and of non-compliance follow-up (R-RPL-2, R-RPL-3): what a reviewer's
decision or contact attempt does to a customer's compliance, as pure functions of the customer and the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.model.entities import Compliance, ContactAttempt, Customer, CustomerStatus, ProvisioningError, RplState
from domain.model.errors import DomainError, ErrorCode
from domain.rules.validation import Problems

REVIEW_WINDOW = timedelta(hours=72)  # R-RPL-2
NON_COMPLIANCE_WINDOW = timedelta(days=30)  # R-RPL-3
MAX_UNREACHED_ATTEMPTS = 3  # R-RPL-3
NON_COMPLIANT = ProvisioningError(code="NON_COMPLIANT",
                                  message="restricted-party review rejected after an address change; "
                                          "deprovisioning starts unless resolved within 30 days")
REJECTED = ProvisioningError(code=ErrorCode.RPL_REJECTED.value, message="the restricted-party review was rejected")


class Decision(str, Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


def note_problems(note: str | None) -> Problems:
    """A reviewer's free-text note: several lines are fine, control characters and essays are not."""
    problems = Problems()
    problems.text(note, 2000, "note", required=False, multiline=True)
    return problems


@dataclass(frozen=True)
class ReviewOutcome:
    """What a decision does: either onboarding fails (`failure`, for an org not created yet), or the customer's
    compliance and warnings change, and a 30-day deadline starts (`deadline`) or an earlier one is lifted."""

    compliance: Compliance
    failure: ProvisioningError | None = None
    warnings: tuple[ProvisioningError, ...] = ()
    deadline: datetime | None = None
    lifts_deadline: bool = False


def plan_decision(customer: Customer, decision: Decision, reviewer: str, note: str | None,
                  now: datetime) -> ReviewOutcome:
    """R-RPL-2/3: a review waiting for a decision is approved or rejected; anything else is INVALID_STATE."""
    if customer.status is not CustomerStatus.PENDING_RPL_REVIEW or \
            customer.compliance.state is not RplState.UNDER_REVIEW:
        raise DomainError.single(ErrorCode.INVALID_STATE, "this customer has no review waiting for a decision",
                                 "customerId")
    decided = customer.compliance.model_copy(update={"decided_at": now, "decided_by": reviewer, "note": note})
    others = tuple(w for w in customer.warnings if w.code != NON_COMPLIANT.code)
    if decision is Decision.REJECT and customer.org_id is None:
        return ReviewOutcome(decided.model_copy(update={"state": RplState.REJECTED}), failure=REJECTED)
    if decision is Decision.APPROVE:
        return ReviewOutcome(decided.model_copy(update={"state": RplState.APPROVED, "non_compliant_since": None,
                                                        "contact_attempts": []}),
                             warnings=others, lifts_deadline=True)
    # R-RPL-3: an org that already exists is flagged; it has 30 days to become compliant again.
    since = customer.compliance.non_compliant_since or now
    return ReviewOutcome(decided.model_copy(update={"state": RplState.REJECTED, "non_compliant_since": since}),
                         warnings=(*others, NON_COMPLIANT), deadline=since + NON_COMPLIANCE_WINDOW)


def plan_contact_attempt(customer: Customer, reached: bool, note: str | None, reviewer: str,
                         now: datetime) -> tuple[Compliance, bool]:
    """R-RPL-3: one more attempt to reach the partner of a flagged customer; the new compliance, and whether
    deprovisioning starts (after 3 attempts that did not reach it)."""
    if customer.compliance.non_compliant_since is None or customer.status is CustomerStatus.DELETING:
        raise DomainError.single(ErrorCode.INVALID_STATE, "this customer is not flagged as non-compliant",
                                 "customerId")
    attempts = [*customer.compliance.contact_attempts, ContactAttempt(at=now, reached=reached, note=note, by=reviewer)]
    compliance = customer.compliance.model_copy(update={"contact_attempts": attempts})
    return compliance, sum(not a.reached for a in attempts) >= MAX_UNREACHED_ATTEMPTS
