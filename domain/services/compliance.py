"""Restricted-party reviews and non-compliance follow-up (R-RPL-2, R-RPL-3): compliance_reviewer only."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from domain.model.entities import (
    Compliance,
    ContactAttempt,
    Customer,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    RplState,
)
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.jobs import ComplianceDeadline, SettleCustomer, compliance_deadline_id, review_timeout_id
from domain.model.principal import Role
from domain.rules.pagination import Page, PageRequest
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.customers import start_deletion
from domain.store.repositories import Repositories, Tx

REVIEW_WINDOW = timedelta(hours=72)
NON_COMPLIANCE_WINDOW = timedelta(days=30)
MAX_UNREACHED_ATTEMPTS = 3
NON_COMPLIANT = ProvisioningError(code="NON_COMPLIANT",
                                  message="restricted-party review rejected after an address change; "
                                          "deprovisioning starts unless resolved within 30 days")


class Decision(str, Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


def _require_reviewer(caller: Caller) -> None:
    if not caller.principal.has(Role.COMPLIANCE_REVIEWER):
        raise Forbidden("only a compliance_reviewer may do this")


def _check_note(note: str | None) -> None:
    """A reviewer's free-text note: several lines are fine, control characters and essays are not."""
    problems = Problems()
    problems.text(note, 2000, "note", required=False, multiline=True)
    problems.raise_if_any()


async def review_queue(repos: Repositories, caller: Caller, request: PageRequest) -> Page:
    _require_reviewer(caller)
    return await repos.customers.pending_review(request)


async def _load(repos: Repositories, tx: Tx, customer_id: str) -> Customer:
    doc = await repos.customers.find_doc(customer_id, session=tx.session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "customerId")
    return Customer.from_doc(doc)


async def fail_unprovisioned(repos: Repositories, tx: Tx, customer: Customer, error: ProvisioningError,
                             compliance: Compliance) -> Customer:
    """End a customer's onboarding in `error`; subscribers waiting for it fail with its reason (R-RPL-5)."""
    packages = [p.model_copy(update={"status": PackageStatus.ERROR}) if p.status is PackageStatus.PROVISIONING
                else p for p in customer.packages]
    failed, change = customer.move(CustomerStatus.ERROR, tx.now, reason=error.message, errors=[error],
                                   compliance=compliance, packages=packages)
    await repos.customers.replace(failed, expected_version=customer.version, session=tx.session)
    tx.record(change)
    for before, after in zip(customer.packages, packages, strict=True):
        if before.status is not after.status:
            tx.record(failed.package_change(after, before.status))
    await tx.release_waiting(customer.id)
    return failed


async def decide(repos: Repositories, caller: Caller, customer_id: str, decision: Decision,
                 note: str | None) -> Customer:
    _require_reviewer(caller)
    _check_note(note)

    async def write(tx: Tx) -> Customer:
        customer = await _load(repos, tx, customer_id)
        if customer.status is not CustomerStatus.PENDING_RPL_REVIEW or \
                customer.compliance.state is not RplState.UNDER_REVIEW:
            raise DomainError.single(ErrorCode.INVALID_STATE, "this customer has no review waiting for a decision",
                                     "customerId")
        await tx.cancel(review_timeout_id(customer.id))
        decided = customer.compliance.model_copy(update={
            "decided_at": tx.now, "decided_by": caller.principal.subject, "note": note})
        if decision is Decision.REJECT and customer.org_id is None:
            return await fail_unprovisioned(
                repos, tx, customer, ProvisioningError(code=ErrorCode.RPL_REJECTED.value,
                                                       message="the restricted-party review was rejected"),
                decided.model_copy(update={"state": RplState.REJECTED}))
        if decision is Decision.APPROVE:
            compliance = decided.model_copy(update={"state": RplState.APPROVED, "non_compliant_since": None,
                                                    "contact_attempts": []})
            warnings = [w for w in customer.warnings if w.code != NON_COMPLIANT.code]
            await tx.cancel(compliance_deadline_id(customer.id))
        else:
            # R-RPL-3: an org that already exists is flagged; it has 30 days to become compliant again.
            since = customer.compliance.non_compliant_since or tx.now
            compliance = decided.model_copy(update={"state": RplState.REJECTED, "non_compliant_since": since})
            warnings = [*(w for w in customer.warnings if w.code != NON_COMPLIANT.code), NON_COMPLIANT]
            await tx.enqueue(ComplianceDeadline(customer.id, since + NON_COMPLIANCE_WINDOW))
        updated = customer.revised(tx.now, compliance=compliance, warnings=warnings)
        await repos.customers.replace(updated, expected_version=customer.version, session=tx.session)
        # Provisioning continues from where the review stopped it.
        await tx.enqueue(SettleCustomer(customer.id, "reviewed", updated.version))
        return updated

    return await repos.atomic(write)


async def record_contact_attempt(repos: Repositories, caller: Caller, customer_id: str, reached: bool,
                                 note: str | None) -> Customer:
    """R-RPL-3: after 3 attempts that did not reach the partner, deprovisioning starts."""
    _require_reviewer(caller)
    _check_note(note)

    async def write(tx: Tx) -> Customer:
        customer = await _load(repos, tx, customer_id)
        if customer.compliance.non_compliant_since is None or customer.status is CustomerStatus.DELETING:
            raise DomainError.single(ErrorCode.INVALID_STATE, "this customer is not flagged as non-compliant",
                                     "customerId")
        attempts = [*customer.compliance.contact_attempts,
                    ContactAttempt(at=tx.now, reached=reached, note=note, by=caller.principal.subject)]
        updated = customer.revised(
            tx.now, compliance=customer.compliance.model_copy(update={"contact_attempts": attempts}))
        await repos.customers.replace(updated, expected_version=customer.version, session=tx.session)
        if sum(not a.reached for a in attempts) >= MAX_UNREACHED_ATTEMPTS:
            return await start_deletion(repos, tx, customer.id,
                                        reason="non-compliant: the partner could not be reached after 3 attempts")
        return updated

    return await repos.atomic(write)
