"""The usage ledger (R-BIL-1): which subscriber held which package on the Webex side, and when.

An interval starts in the transaction that records a subscriber's package as provisioned, and ends in
the transaction that records the package changed (the next interval starts at the same instant), the
subscriber removed, or its customer deleted. A failed assignment changes nothing: what was assigned
before stays assigned. The ledger is its own collection because events are purged after their
retention period while a report may cover the last five years (R-BIL-2).

A day's quantity is the fraction of that UTC day an interval covers, so a period's quantity is the
covered time divided by the length of a day; reports compute exactly that in a MongoDB pipeline
(`domain.store.billing_pipelines`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId

from domain.model.entities import Customer, PackageStatus, Subscriber, SubscriberStatus
from domain.model.setup_assist import SetupAssistRequest
from domain.model.status import WorkspaceStatus
from domain.model.workspaces import Workspace
from domain.rules.billing import billing_start
from domain.rules.catalogue import CATALOGUE
from domain.rules.setup_assist import BILLED_SERVICE, billed_quantity
from domain.store.repositories import Repositories, Tx

# R-ADD-2: the customer-level add-on billed per numbered user or workspace.
CALLING_PLAN = CATALOGUE["cisco_calling_plan"].name


async def _customer_facts(repos: Repositories, tx: Tx, customer: Customer) -> dict[str, Any]:
    owner = await repos.partners.get(customer.owner_org_id)
    locations = (await repos.locations.by_customers([customer.id], session=tx.session)).get(customer.id, [])
    headquarters = next((d["_id"] for d in locations if d.get("isHeadquarters")), None)
    return {"customerOrgId": customer.org_id, "customerExternalId": customer.external_id,
            "customerLocationId": headquarters, "billingStart": billing_start(customer.billing_start_date, owner)}


def _billed_packages(subscriber: Subscriber, customer: Customer | None) -> list[str]:
    """What a provisioned subscriber is billed for (R-ADD-2): its base package, each add-on, and the customer's
    `cisco_calling_plan` while the subscriber has a phone number (decision: a unit a day per numbered user)."""
    packages = [subscriber.package, *(a for a in subscriber.add_ons if a != subscriber.package)]
    spec = CATALOGUE.get(subscriber.package)
    calling = spec is not None and spec.calling
    if calling and subscriber.primary_phone_number and customer is not None and _holds(customer, CALLING_PLAN):
        packages.append(CALLING_PLAN)
    return packages


def _holds(customer: Customer, package: str) -> bool:
    return any(p.name == package and p.status is PackageStatus.PROVISIONED for p in customer.packages)


async def record_assignment(repos: Repositories, tx: Tx, subscriber: Subscriber) -> None:
    """The subscriber now holds its packages (base and add-ons, R-ADD-2): each keeps its open interval (moved to the
    subscriber's location), a package it no longer holds ends its interval, a new one starts one."""
    doc = await repos.customers.find_doc(subscriber.customer_id, session=tx.session)
    customer = Customer.from_doc(doc) if doc is not None else None
    wanted = _billed_packages(subscriber, customer)
    held = {d["package"] for d in await repos.usage.open_of(subscriber.id, session=tx.session)}
    dropped = sorted(held - set(wanted))
    if dropped:
        await repos.usage.set_open({"subscriberId": subscriber.id, "package": {"$in": dropped}}, {"end": tx.now},
                                   session=tx.session)
    if held & set(wanted):
        await repos.usage.set_open({"subscriberId": subscriber.id}, {"locationId": subscriber.location_id},
                                   session=tx.session)
    new = [p for p in wanted if p not in held]
    if not new or customer is None:
        return
    facts = await _customer_facts(repos, tx, customer)
    # R-BIL-4 (amended 2026-12): `userId` is the person id the subscriber got when provisioned.
    user_id = getattr(subscriber, "person_id", None) or subscriber.email
    await repos.usage.insert_many([{
        "_id": f"use_{ObjectId()}", "subscriberId": subscriber.id, "userId": user_id,
        "customerId": subscriber.customer_id, "locationId": subscriber.location_id,
        "ownerOrgId": subscriber.owner_org_id, "rootOrgId": subscriber.root_org_id,
        "package": package, "start": tx.now, "end": None, **facts} for package in new], session=tx.session)


async def record_workspace_assignment(repos: Repositories, tx: Tx, workspace: Workspace) -> None:
    """R-WS-2: a provisioned workspace is billed for its package from now (and for the customer's cisco_calling_plan
    while it has a phone number, R-ADD-2); a workspace already billed keeps its intervals, moved to its location."""
    doc = await repos.customers.find_doc(workspace.customer_id, session=tx.session)
    customer = Customer.from_doc(doc) if doc is not None else None
    wanted = [workspace.package]
    if workspace.primary_phone_number and customer is not None and _holds(customer, CALLING_PLAN):
        wanted.append(CALLING_PLAN)
    held = {d["package"] for d in await repos.usage.open_matching({"workspaceId": workspace.id},
                                                                  session=tx.session)}
    dropped = sorted(held - set(wanted))
    if dropped:
        await repos.usage.set_open({"workspaceId": workspace.id, "package": {"$in": dropped}}, {"end": tx.now},
                                   session=tx.session)
    if held & set(wanted):
        await repos.usage.set_open({"workspaceId": workspace.id}, {"locationId": workspace.location_id},
                                   session=tx.session)
    new = [p for p in wanted if p not in held]
    if not new or customer is None:
        return
    facts = await _customer_facts(repos, tx, customer)
    await repos.usage.insert_many([{
        "_id": f"use_{ObjectId()}", "workspaceId": workspace.id, "customerId": workspace.customer_id,
        "locationId": workspace.location_id, "ownerOrgId": workspace.owner_org_id, "rootOrgId": workspace.root_org_id,
        "package": package, "start": tx.now, "end": None, **facts} for package in new], session=tx.session)


async def record_workspace_removal(repos: Repositories, tx: Tx, workspace_id: str) -> None:
    """The workspace was removed on the Webex side: its billing ends (R-WS-2)."""
    await repos.usage.set_open({"workspaceId": workspace_id}, {"end": tx.now}, session=tx.session)


async def record_setup_assist(repos: Repositories, tx: Tx, request: SetupAssistRequest) -> None:
    """A completed Setup Assist request (R-SA-2): one charge at this instant, counting 1 (EXPRESS) or its seats
    (STANDARD), on its customer's and location's rows."""
    doc = await repos.customers.find_doc(request.customer_id, session=tx.session)
    facts = await _customer_facts(repos, tx, Customer.from_doc(doc)) if doc is not None else {}
    await repos.usage.insert({
        "_id": f"use_{ObjectId()}", "setupAssistId": request.id, "customerId": request.customer_id,
        "locationId": request.location_id, "ownerOrgId": request.owner_org_id, "rootOrgId": request.root_org_id,
        "package": BILLED_SERVICE[request.sku], "start": tx.now, "end": tx.now + timedelta(milliseconds=1),
        "fixedQuantity": billed_quantity(request), **facts}, session=tx.session)


async def record_calling_plan(repos: Repositories, tx: Tx, customer_id: str) -> None:
    """The customer's `cisco_calling_plan` was provisioned or removed (R-ADD-2): its provisioned subscribers and
    workspaces with a phone number start or stop it now (the others catch up when they next settle)."""
    for doc in await repos.subscribers.of_customer(customer_id, session=tx.session):
        subscriber = Subscriber.from_doc(doc)
        if subscriber.status is SubscriberStatus.PROVISIONED:
            await record_assignment(repos, tx, subscriber)
    for doc in await repos.workspaces.of_customer(customer_id, session=tx.session):
        workspace = Workspace.from_doc(doc)
        if workspace.status is WorkspaceStatus.PROVISIONED:
            await record_workspace_assignment(repos, tx, workspace)


async def record_removal(repos: Repositories, tx: Tx, subscriber_id: str) -> None:
    """The subscriber's package was removed on the Webex side."""
    await repos.usage.set_open({"subscriberId": subscriber_id}, {"end": tx.now}, session=tx.session)


async def record_customer_removal(repos: Repositories, tx: Tx, customer_id: str) -> None:
    """The customer's org was deleted: every package of its subscribers ends with it (R-CUS-4)."""
    await repos.usage.set_open({"customerId": customer_id}, {"end": tx.now}, session=tx.session)


async def restamp_customer(repos: Repositories, tx: Tx, customer: Customer) -> None:
    """A customer update may move its billing start, external id or headquarters: reports show the current ones."""
    await repos.usage.stamp_customer(customer.id, await _customer_facts(repos, tx, customer), session=tx.session)
