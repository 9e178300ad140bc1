"""What a reviewer's decision or contact attempt does to a customer (R-RPL-2, R-RPL-3), as pure rules: no database,
no clock but the instant passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.entities import (
    Address,
    Compliance,
    ContactAttempt,
    Customer,
    CustomerPackage,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    RplState,
)
from domain.model.errors import DomainError, ErrorCode
from domain.rules.compliance import (
    NON_COMPLIANCE_WINDOW,
    NON_COMPLIANT,
    Decision,
    note_problems,
    plan_contact_attempt,
    plan_decision,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
OTHER = ProvisioningError(code="LICENSE_PENDING", message="a warning of another kind")


def _customer(status: CustomerStatus = CustomerStatus.PENDING_RPL_REVIEW, *, org_id: str | None = None,
              state: RplState = RplState.UNDER_REVIEW, flagged: datetime | None = None,
              attempts: int = 0) -> Customer:
    return Customer.model_validate({
        "_id": "cus_1", "ownerOrgId": "org_p", "rootOrgId": "org_p", "templateId": "tpl_1", "externalId": "x-1",
        "orgId": org_id, "name": "Acme", "primaryEmail": "a@acme.example", "language": "en_US",
        "address": Address(address_line1="1 Main St", city="Springfield", country="US"),
        "packages": [CustomerPackage(name="webex_meetings", status=PackageStatus.PROVISIONED)],
        "warnings": [OTHER, NON_COMPLIANT] if flagged else [OTHER],
        "compliance": Compliance(state=state, non_compliant_since=flagged, contact_attempts=[
            ContactAttempt(at=NOW - timedelta(days=1), reached=False, by="r@example.com")] * attempts),
        "status": status, "version": 3, "createdAt": NOW, "updatedAt": NOW, "lastStatusChange": NOW})


def test_r_rpl_2_rejecting_a_customer_whose_org_does_not_exist_yet_ends_its_onboarding() -> None:
    outcome = plan_decision(_customer(), Decision.REJECT, "r@example.com", "sanctioned", NOW)
    assert outcome.failure is not None and outcome.failure.code == ErrorCode.RPL_REJECTED.value
    assert (outcome.compliance.state, outcome.compliance.decided_by, outcome.compliance.decided_at,
            outcome.compliance.note) == (RplState.REJECTED, "r@example.com", NOW, "sanctioned")
    assert outcome.deadline is None


def test_r_rpl_2_approving_lifts_an_earlier_flag_and_its_deadline() -> None:
    outcome = plan_decision(_customer(org_id="org-1", flagged=NOW - timedelta(days=3), attempts=2),
                            Decision.APPROVE, "r@example.com", None, NOW)
    assert outcome.failure is None and outcome.lifts_deadline and outcome.deadline is None
    assert (outcome.compliance.state, outcome.compliance.non_compliant_since,
            outcome.compliance.contact_attempts) == (RplState.APPROVED, None, [])
    assert outcome.warnings == (OTHER,)


def test_r_rpl_3_rejecting_an_existing_org_flags_it_for_30_days_once() -> None:
    outcome = plan_decision(_customer(org_id="org-1"), Decision.REJECT, "r@example.com", None, NOW)
    assert outcome.failure is None and (outcome.compliance.state, outcome.compliance.non_compliant_since) == (
        RplState.REJECTED, NOW)
    assert outcome.warnings == (OTHER, NON_COMPLIANT) and outcome.deadline == NOW + NON_COMPLIANCE_WINDOW
    # Flagged before: the 30 days run from the first flag, and the warning is not doubled.
    since = NOW - timedelta(days=10)
    again = plan_decision(_customer(org_id="org-1", flagged=since), Decision.REJECT, "r@example.com", None, NOW)
    assert again.deadline == since + NON_COMPLIANCE_WINDOW and again.warnings == (OTHER, NON_COMPLIANT)


@pytest.mark.parametrize("customer", [_customer(CustomerStatus.PROVISIONED, org_id="org-1"),
                                      _customer(state=RplState.APPROVED)])
def test_r_rpl_2_deciding_without_a_pending_review_is_refused(customer: Customer) -> None:
    with pytest.raises(DomainError) as refused:
        plan_decision(customer, Decision.APPROVE, "r@example.com", None, NOW)
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.INVALID_STATE, ("customerId",))]


def test_r_rpl_3_the_third_unreached_attempt_starts_deprovisioning_a_reached_one_does_not_count() -> None:
    flagged = NOW - timedelta(days=5)
    compliance, deprovision = plan_contact_attempt(_customer(org_id="org-1", flagged=flagged, attempts=1), False,
                                                   "voicemail", "r@example.com", NOW)
    assert not deprovision and len(compliance.contact_attempts) == 2
    assert compliance.contact_attempts[-1] == ContactAttempt(at=NOW, reached=False, note="voicemail",
                                                             by="r@example.com")
    assert not plan_contact_attempt(_customer(org_id="org-1", flagged=flagged, attempts=2), True, None,
                                    "r@example.com", NOW)[1]
    assert plan_contact_attempt(_customer(org_id="org-1", flagged=flagged, attempts=2), False, None,
                                "r@example.com", NOW)[1]


@pytest.mark.parametrize("customer", [_customer(CustomerStatus.PROVISIONED, org_id="org-1"),
                                      _customer(CustomerStatus.DELETING, flagged=NOW)])
def test_r_rpl_3_contact_attempts_only_for_flagged_customers(customer: Customer) -> None:
    with pytest.raises(DomainError) as refused:
        plan_contact_attempt(customer, False, None, "r@example.com", NOW)
    assert [e.code for e in refused.value.errors] == [ErrorCode.INVALID_STATE]


def test_r_rpl_2_a_note_may_have_several_lines_but_no_control_characters_nor_2001_characters() -> None:
    assert note_problems("called twice\nno answer").items == [] and note_problems(None).items == []
    assert [e.code for e in note_problems("x" * 2001).items] == [ErrorCode.TOO_LONG]
    assert [e.field for e in note_problems("bell\x07").items] == [("note",)]
