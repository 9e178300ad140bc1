"""The write side of customers (DOMAIN.md §5): provision, update, delete and precheck.

Each command validates everything first (collecting every problem, R-PRE), then writes the
customer in its new status, the job that will move it on and the events of the change in one
transaction (R-CUS-1, R-EVT-1). The slow work happens in `domain.workflows`.
"""

from __future__ import annotations

from typing import Any

from domain.model.entities import (
    Customer,
    CustomerPackage,
    CustomerStatus,
    Location,
    PackageStatus,
    Partner,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleCustomer, attach_timeout_id, compliance_deadline_id, review_timeout_id
from domain.model.principal import Scope
from domain.model.status import CUSTOMER, WorkspaceStatus, require_move
from domain.model.workspaces import WORKSPACE_PACKAGE, Workspace

# The request types and rules of this service, under the names its callers (resolvers, demo) use.
from domain.rules.attach import AttachFacts, plan_attach
from domain.rules.customers import SUCCESS_INFO as SUCCESS_INFO
from domain.rules.customers import CallingLocation as CallingLocation
from domain.rules.customers import (
    CustomerPlan,
    NewCustomerFacts,
    UpdateFacts,
    clean_address,
    plan_new_customer,
    plan_update,
    requested_external_id,
)
from domain.rules.customers import CustomerUpdate as CustomerUpdate
from domain.rules.customers import NewCustomer as NewCustomer
from domain.rules.customers import Parameters as Parameters
from domain.rules.history import customer_update
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.acting import acting_owner, precheck
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx
from domain.store.usage import restamp_customer


async def check_new_customer(repos: Repositories, owner: Partner, data: NewCustomer) -> CustomerPlan:
    """Every validation of a provisioning request, plus its conflicts with stored data (R-PRE)."""
    external_id = data.external_id.strip()
    facts = NewCustomerFacts(
        template=await repos.templates.by_provisioning_id(data.provisioning_id.strip()),
        external_id_taken=bool(external_id and await repos.customers.ids_by_external_id(
            {"ownerOrgId": owner.id}, external_id)),
        today=repos.clock.now().date())
    plan = plan_new_customer(owner, data, facts)
    if data.org_id is not None:  # R-ATT-1: attach to an existing org
        org_id = data.org_id.strip()
        plan.attach = plan_attach(data.name, plan.template, AttachFacts(
            org=await repos.org_directory.get(org_id),
            wholesale_elsewhere=await repos.org_directory.held_by_customer(org_id)))
        plan.problems.extend(plan.attach.problems.items)
    return plan


async def provision_customer(repos: Repositories, caller: Caller, data: NewCustomer,
                             on_behalf_of: str | None) -> Customer:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE)
    plan = await check_new_customer(repos, owner, data)
    plan.problems.raise_if_any()
    assert plan.template is not None and plan.language is not None
    now = repos.clock.now()
    limits = plan.limits or {}
    customer = Customer(
        id=new_id(Kind.CUSTOMER), owner_org_id=owner.id, root_org_id=owner.root_id, template_id=plan.template.id,
        external_id=data.external_id.strip(), name=data.name.strip(), primary_email=data.primary_email.strip().lower(),
        language=plan.language, address=clean_address(data.address),
        packages=[CustomerPackage(name=p, status=PackageStatus.PROVISIONING, limit=limits.get(p))
                  for p in data.packages],
        meetings_timezone=plan.meetings_timezone, billing_start_date=data.billing_start_date,
        status=CustomerStatus.PROVISIONING, auth_mode=plan.template.auth_mode, version=1,
        created_at=now, updated_at=now, last_status_change=now,
    )
    org = plan.attach.org if plan.attach is not None else None
    if plan.attach is not None and org is not None:
        # R-ATT-1/3: the org keeps its name and its own authentication; restricted mode is off.
        customer = customer.model_copy(update={
            "org_id": org.id, "name": org.name, "attach": plan.attach.info, "hybrid": org.flex,
            "auth_mode": org.auth_mode, "restricted_by_partner_mode": False, "warnings": plan.attach.warnings})
    location = None
    if data.parameters.calling_location is not None:
        loc = data.parameters.calling_location
        location = Location(id=new_id(Kind.LOCATION), customer_id=customer.id, owner_org_id=owner.id,
                            root_org_id=owner.root_id, name=loc.name.strip(), address=clean_address(loc.address),
                            timezone=loc.timezone.strip(), language=plan.location_language or customer.language,
                            is_headquarters=True, pstn_vendor=plan.template.pstn_vendor,
                            emergency_location_identifier=(loc.emergency_location_identifier or "").strip() or None,
                            created_at=now)

    async def write(tx: Tx) -> None:
        try:
            await repos.customers.insert_customers([customer], session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                                     "input", "externalId") from None
        if location is not None:
            await repos.locations.insert(location.to_doc(), session=tx.session)
        if org is not None and not await repos.org_directory.claim(org.id, customer.id, session=tx.session):
            raise DomainError.single(ErrorCode.ORG_ALREADY_WHOLESALE, "this org is already a Wholesale customer",
                                     "input", "orgId")
        await tx.enqueue(SettleCustomer(customer.id, "provision", customer.version, screen=True))
        tx.record(customer.change(None))
        for package in customer.packages:
            tx.record(customer.package_change(package, None))

    await repos.atomic(write)
    return customer


async def precheck_customer(repos: Repositories, caller: Caller, data: NewCustomer,
                            on_behalf_of: str | None) -> list[FieldError]:
    """Every problem of a provisioning request at once, without writing anything (R-PRE)."""
    async def problems_for(owner: Partner) -> Problems:
        return (await check_new_customer(repos, owner, data)).problems

    return await precheck(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, problems_for)


async def owned_customer(repos: Repositories, owner: Partner, customer_id: str, *field: str) -> Customer:
    """A customer of `owner`; any other id is NOT_FOUND, whether it exists elsewhere or not (R-ORG-6)."""
    doc = await repos.customers.owned_doc(customer_id, owner.id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", *(field or ("id",)))
    return Customer.from_doc(doc)


async def update_customer(repos: Repositories, caller: Caller, customer_id: str, data: CustomerUpdate,
                          on_behalf_of: str | None) -> Customer:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE)
    current = await owned_customer(repos, owner, customer_id)
    require_move(CUSTOMER, current.status, CustomerStatus.UPDATING, "customer")
    assigned = await repos.subscribers.assigned_counts([current.id])
    external_id = requested_external_id(current, data)
    locations = (await repos.locations.by_customers([current.id])).get(current.id, [])
    facts = UpdateFacts(
        # R-WS-1: workspaces hold common_area_calling (its removal while in use is PACKAGE_IN_USE).
        assigned={**{package: n for (_, package), n in assigned.items()},
                  WORKSPACE_PACKAGE: await repos.workspaces.holding(current.id)},
        external_id_taken=bool(external_id and await repos.customers.ids_by_external_id(
            {"ownerOrgId": owner.id}, external_id)),
        locations=locations, today=repos.clock.now().date())
    plan = plan_update(current, owner, data, facts)
    plan.problems.raise_if_any()
    params = data.parameters or Parameters()

    async def write(tx: Tx) -> Customer:
        doc = await repos.customers.find_doc(current.id, session=tx.session)
        fresh = Customer.from_doc(doc) if doc else None
        if fresh is None or fresh.version != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the customer changed meanwhile; read it and retry",
                                     "id")
        updated, change = fresh.move(
            CustomerStatus.UPDATING, tx.now, external_id=plan.external_id, address=plan.address,
            packages=plan.packages + plan.removed, meetings_timezone=plan.meetings_timezone,
            billing_start_date=plan.billing_start)
        try:
            await repos.customers.replace(updated, expected_version=fresh.version, session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                                     "input", "externalId") from None
        if params.calling_location is not None:
            await _save_headquarters(repos, tx, updated, params.calling_location, plan.location_language, locations)
        if params.calling_location is not None or (updated.external_id, updated.billing_start_date) != (
                fresh.external_id, fresh.billing_start_date):
            await restamp_customer(repos, tx, updated)  # reports show its current billing facts
        await tx.enqueue(SettleCustomer(updated.id, "update", updated.version, screen=plan.rescreen))
        tx.record(change)
        if edit := customer_update(fresh, updated, change):  # R-AUD-1: what the edit changed, before and after
            tx.record(edit)
        old = {p.name: p for p in current.packages}
        for package in plan.packages:
            before = old.get(package.name)
            if before is None or before.status is not package.status:
                tx.record(updated.package_change(package, before.status if before else None))
        for package in plan.removed:
            tx.record(updated.package_change(package, old[package.name].status))
        return updated

    return await repos.atomic(write)


async def _save_headquarters(repos: Repositories, tx: Tx, customer: Customer, location: CallingLocation,
                             language: str | None, existing: list[dict[str, Any]]) -> None:
    fields: dict[str, Any] = {"name": location.name.strip(),
                              "address": clean_address(location.address).model_dump(by_alias=True),
                              "timezone": location.timezone.strip(), "language": language or customer.language}
    hq = next((d for d in existing if d.get("isHeadquarters")), None)
    if hq is not None:
        if any(hq.get(k) != v for k, v in fields.items()):
            fields["version"] = int(hq.get("version", 1)) + 1  # R-LOCN-1: every change of a location bumps it
        await repos.locations.set_fields(hq["_id"], fields, session=tx.session)
        return
    new = Location(id=new_id(Kind.LOCATION), customer_id=customer.id, owner_org_id=customer.owner_org_id,
                   root_org_id=customer.root_org_id, name=fields["name"], address=clean_address(location.address),
                   timezone=fields["timezone"], language=fields["language"], is_headquarters=True, created_at=tx.now)
    await repos.locations.insert(new.to_doc(), session=tx.session)


async def delete_customer(repos: Repositories, caller: Caller, customer_id: str, on_behalf_of: str | None) -> Customer:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True)
    current = await owned_customer(repos, owner, customer_id)
    require_move(CUSTOMER, current.status, CustomerStatus.DELETING, "customer")
    return await repos.atomic(lambda tx: start_deletion(repos, tx, current.id, reason="deleted by the partner"))


async def start_deletion(repos: Repositories, tx: Tx, customer_id: str, *, reason: str) -> Customer:
    """Move a customer to `deleting` (R-CUS-4): its subscribers stop holding packages at this moment."""
    doc = await repos.customers.find_doc(customer_id, session=tx.session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "id")
    fresh = Customer.from_doc(doc)
    updated, change = fresh.move(
        CustomerStatus.DELETING, tx.now, reason=reason,
        packages=[p.model_copy(update={"status": PackageStatus.DELETING}) for p in fresh.packages])
    await repos.customers.replace(updated, expected_version=fresh.version, session=tx.session)
    tx.record(change)
    for before, after in zip(fresh.packages, updated.packages, strict=True):
        if before.status is not PackageStatus.DELETING:
            tx.record(updated.package_change(after, before.status))
    for sub in await repos.subscribers.of_customer(customer_id, session=tx.session):
        await _subscriber_deleting(repos, tx, sub)
    for doc in await repos.workspaces.of_customer(customer_id, session=tx.session):
        await _workspace_deleting(repos, tx, doc)  # R-WS-2: removed with its customer
    # Timers of a customer that is going away have nothing left to do.
    await tx.cancel(review_timeout_id(customer_id))
    await tx.cancel(compliance_deadline_id(customer_id))
    await tx.cancel(attach_timeout_id(customer_id))
    await tx.enqueue(SettleCustomer(customer_id, "delete", updated.version))
    return updated


async def _workspace_deleting(repos: Repositories, tx: Tx, doc: dict[str, Any]) -> None:
    workspace = Workspace.from_doc(doc)
    if workspace.status is WorkspaceStatus.DELETING:
        return
    moved, change = workspace.move(WorkspaceStatus.DELETING, tx.now, reason="the customer is being deleted")
    await repos.workspaces.replace(moved.to_doc(), session=tx.session)
    tx.record(change)


async def _subscriber_deleting(repos: Repositories, tx: Tx, doc: dict[str, Any]) -> None:
    subscriber = Subscriber.from_doc(doc)
    if subscriber.status is SubscriberStatus.DELETING:
        return
    moved, change = subscriber.move(SubscriberStatus.DELETING, tx.now, reason="the customer is being deleted")
    await repos.subscribers.set_fields(moved.id, {"status": moved.status.value, "version": moved.version,
                                                  "lastStatusChange": moved.last_status_change}, session=tx.session)
    tx.record(change)
