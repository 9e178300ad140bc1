"""Attached orgs and customer settings (DOMAIN.md §5.7, §5.8): the org admin's approval of an attach (R-ATT-2),
recorded by a platform_admin, and the restricted-by-partner settings of a customer (R-RBP-1…3).

Provisioning with `orgId` itself is `domain.services.customers.provision_customer`; the background half (asking
for the approval, its 10-day timer) is in `domain.workflows.customers`.
"""

from __future__ import annotations

from domain.model.audit import EventAction, field_changes
from domain.model.changes import Change, EntityType
from domain.model.entities import Customer, CustomerStatus, Partner
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.jobs import PushCustomerSettings, SettleCustomer, attach_timeout_id
from domain.model.principal import Role, Scope
from domain.rules.attach import (
    SETTINGS_FIELDS,
    OrgUserTerms,
    SettingsUpdate,
    org_user_terms,
    plan_approval,
    plan_settings,
)
from domain.rules.subscribers import NewSubscriber
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.services.compliance import fail_unprovisioned
from domain.services.customers import owned_customer
from domain.store.repositories import Repositories, Tx

__all__ = ["SettingsUpdate", "approval_required", "joining_terms", "record_attach_approval",
           "update_customer_settings"]


async def approval_required(repos: Repositories, org_id: str) -> bool | None:
    """R-ATT-2, for a precheck: whether attaching this org needs its admin's approval (None: no such org)."""
    org = await repos.org_directory.get(org_id.strip())
    return org.approval_required if org is not None else None


async def joining_terms(repos: Repositories, owner: Partner, data: NewSubscriber) -> OrgUserTerms:
    """R-ATT-3: how a new subscriber of `owner`'s customer joins: as one of its attached org's own users or not."""
    doc = await repos.customers.owned_doc(data.customer_id, owner.id)
    customer = Customer.from_doc(doc) if doc is not None else None
    if customer is None or customer.attach is None or customer.org_id is None:
        return OrgUserTerms(data)
    return org_user_terms(customer, await repos.org_directory.get(customer.org_id), data)


async def _load(repos: Repositories, tx: Tx, customer_id: str) -> Customer:
    doc = await repos.customers.find_doc(customer_id, session=tx.session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "customerId")
    return Customer.from_doc(doc)


async def record_attach_approval(repos: Repositories, caller: Caller, customer_id: str, approved: bool,
                                 note: str | None) -> Customer:
    """R-ATT-2: the org admin's answer. Approved → `provisioning` goes on (the partner gets full admin access);
    declined → `error` (ATTACH_APPROVAL_DECLINED), its waiting subscribers with it (R-RPL-5)."""
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin may record an org admin's answer")

    async def write(tx: Tx) -> Customer:
        customer = await _load(repos, tx, customer_id)
        outcome = plan_approval(customer, approved, caller.principal.subject, note, tx.now)
        await tx.cancel(attach_timeout_id(customer.id))
        if outcome.failure is not None:
            decided = customer.model_copy(update={"attach": outcome.info})  # the move below bumps the version
            return await fail_unprovisioned(repos, tx, decided, outcome.failure, customer.compliance)
        updated, change = customer.move(CustomerStatus.PROVISIONING, tx.now, attach=outcome.info,
                                        reason="the org's admin approved the attach")
        await repos.customers.replace(updated, expected_version=customer.version, session=tx.session)
        tx.record(change)
        await tx.enqueue(SettleCustomer(customer.id, "attach-approved", updated.version))
        return updated

    return await repos.atomic(write)


async def update_customer_settings(repos: Repositories, caller: Caller, customer_id: str, update: SettingsUpdate,
                                   on_behalf_of: str | None) -> Customer:
    """R-RBP-1…3: synchronous; one UPDATE event naming the fields that changed (none changed: nothing written), and
    a job passing the settings to the Webex side (R-RBP-2)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE)
    current = await owned_customer(repos, owner, customer_id, "customerId")
    if not plan_settings(current, update):
        return current

    async def write(tx: Tx) -> Customer:
        fresh = await _load(repos, tx, current.id)
        changed = plan_settings(fresh, update)
        if not changed:
            return fresh
        updated = fresh.revised(tx.now, **changed)
        await repos.customers.replace(updated, expected_version=fresh.version, session=tx.session)
        before, after = fresh.to_doc(), updated.to_doc()
        tx.record(Change(EntityType.CUSTOMER, updated.id, updated.owner_org_id, updated.root_org_id,
                         fresh.status.value, updated.status.value, updated.version, customer_id=updated.id,
                         action=EventAction.UPDATE, changes=field_changes(before, after, SETTINGS_FIELDS)))
        await tx.enqueue(PushCustomerSettings(updated.id, updated.version))  # R-RBP-2: to the Webex side
        return updated

    return await repos.atomic(write)
