"""Restricted-party reviews and non-compliance follow-up (R-RPL-2, R-RPL-3): compliance_reviewer only."""

from __future__ import annotations

from domain.model.entities import (
    Compliance,
    Customer,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
)
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.jobs import ComplianceDeadline, SettleCustomer, compliance_deadline_id, review_timeout_id
from domain.model.principal import Role
from domain.rules.compliance import NON_COMPLIANCE_WINDOW as NON_COMPLIANCE_WINDOW
from domain.rules.compliance import REVIEW_WINDOW as REVIEW_WINDOW
from domain.rules.compliance import Decision as Decision
from domain.rules.compliance import note_problems, plan_contact_attempt, plan_decision
from domain.rules.pagination import Page, PageRequest
from domain.rules.tenancy import Caller
from domain.services.customers import start_deletion
from domain.store.repositories import Repositories, Tx


def _require_reviewer(caller: Caller) -> None:
    if not caller.principal.has(Role.COMPLIANCE_REVIEWER):
        raise Forbidden("only a compliance_reviewer may do this")


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
    note_problems(note).raise_if_any()

    async def write(tx: Tx) -> Customer:
        customer = await _load(repos, tx, customer_id)
        outcome = plan_decision(customer, decision, caller.principal.subject, note, tx.now)
        await tx.cancel(review_timeout_id(customer.id))
        if outcome.failure is not None:
            return await fail_unprovisioned(repos, tx, customer, outcome.failure, outcome.compliance)
        if outcome.lifts_deadline:
            await tx.cancel(compliance_deadline_id(customer.id))
        if outcome.deadline is not None:
            await tx.enqueue(ComplianceDeadline(customer.id, outcome.deadline))
        updated = customer.revised(tx.now, compliance=outcome.compliance, warnings=list(outcome.warnings))
        await repos.customers.replace(updated, expected_version=customer.version, session=tx.session)
        # Provisioning continues from where the review stopped it.
        await tx.enqueue(SettleCustomer(customer.id, "reviewed", updated.version))
        return updated

    return await repos.atomic(write)


async def record_contact_attempt(repos: Repositories, caller: Caller, customer_id: str, reached: bool,
                                 note: str | None) -> Customer:
    """R-RPL-3: after 3 attempts that did not reach the partner, deprovisioning starts."""
    _require_reviewer(caller)
    note_problems(note).raise_if_any()

    async def write(tx: Tx) -> Customer:
        customer = await _load(repos, tx, customer_id)
        compliance, deprovision = plan_contact_attempt(customer, reached, note, caller.principal.subject, tx.now)
        updated = customer.revised(tx.now, compliance=compliance)
        await repos.customers.replace(updated, expected_version=customer.version, session=tx.session)
        if deprovision:
            return await start_deletion(repos, tx, customer.id,
                                        reason="non-compliant: the partner could not be reached after 3 attempts")
        return updated

    return await repos.atomic(write)
