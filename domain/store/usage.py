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

from typing import Any

from bson import ObjectId

from domain.model.entities import Customer, Subscriber
from domain.rules.billing import billing_start
from domain.store.repositories import Repositories, Tx


async def _customer_facts(repos: Repositories, tx: Tx, customer: Customer) -> dict[str, Any]:
    owner = await repos.partners.get(customer.owner_org_id)
    locations = (await repos.locations.by_customers([customer.id], session=tx.session)).get(customer.id, [])
    headquarters = next((d["_id"] for d in locations if d.get("isHeadquarters")), None)
    return {"customerOrgId": customer.org_id, "customerExternalId": customer.external_id,
            "customerLocationId": headquarters, "billingStart": billing_start(customer.billing_start_date, owner)}


async def record_assignment(repos: Repositories, tx: Tx, subscriber: Subscriber) -> None:
    """The subscriber now holds its package: an open interval of another package ends, one for this starts."""
    held = await repos.usage.open_of(subscriber.id, session=tx.session)
    if any(d["package"] == subscriber.package for d in held):
        await repos.usage.set_open({"subscriberId": subscriber.id}, {"locationId": subscriber.location_id},
                                    session=tx.session)
        return
    await repos.usage.set_open({"subscriberId": subscriber.id}, {"end": tx.now}, session=tx.session)
    doc = await repos.customers.find_doc(subscriber.customer_id, session=tx.session)
    if doc is None:
        return
    facts = await _customer_facts(repos, tx, Customer.from_doc(doc))
    await repos.usage.insert({
        "_id": f"use_{ObjectId()}", "subscriberId": subscriber.id, "userId": subscriber.email,
        "customerId": subscriber.customer_id, "locationId": subscriber.location_id,
        "ownerOrgId": subscriber.owner_org_id, "rootOrgId": subscriber.root_org_id,
        "package": subscriber.package, "start": tx.now, "end": None, **facts}, session=tx.session)


async def record_removal(repos: Repositories, tx: Tx, subscriber_id: str) -> None:
    """The subscriber's package was removed on the Webex side."""
    await repos.usage.set_open({"subscriberId": subscriber_id}, {"end": tx.now}, session=tx.session)


async def record_customer_removal(repos: Repositories, tx: Tx, customer_id: str) -> None:
    """The customer's org was deleted: every package of its subscribers ends with it (R-CUS-4)."""
    await repos.usage.set_open({"customerId": customer_id}, {"end": tx.now}, session=tx.session)


async def restamp_customer(repos: Repositories, tx: Tx, customer: Customer) -> None:
    """A customer update may move its billing start, external id or headquarters: reports show the current ones."""
    await repos.usage.stamp_customer(customer.id, await _customer_facts(repos, tx, customer), session=tx.session)
