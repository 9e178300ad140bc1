"""The write side of locations (DOMAIN.md §6, R-LOCN-1/2): add, update and delete a customer's branches.

Synchronous: each command validates everything first, then writes the location and its event (entity type
LOCATION: → `active` on creation, an UPDATE with the changed fields, → `deleted`) in one transaction, with no job.
The transaction judges the request again on what it reads and writes the customer document too, so requests for
one customer (two branches with one name, a deletion and a subscriber moving in) conflict and are serialised.
"""

from __future__ import annotations

from typing import Any

from domain.model.audit import EventAction, field_changes
from domain.model.changes import DELETED, Change, EntityType
from domain.model.entities import Customer, Location, Partner
from domain.model.errors import DomainError, ErrorCode
from domain.model.ids import Kind, new_id
from domain.model.principal import Scope
from domain.rules.customers import CallingLocation as CallingLocation
from domain.rules.locations import (
    ACTIVE,
    UPDATABLE_FIELDS,
    LocationUse,
    deletion_problems,
    plan_location_update,
    plan_new_location,
)
from domain.rules.locations import LocationUpdate as LocationUpdate
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.services.customers import owned_customer
from domain.store.driver import Document
from domain.store.repositories import Repositories, Tx


def location_change(location: Location, from_status: str | None, to_status: str, version: int) -> Change:
    return Change(EntityType.LOCATION, location.id, location.owner_org_id, location.root_org_id, from_status,
                  to_status, version, customer_id=location.customer_id, details={"name": location.name})


async def _owned_location(repos: Repositories, owner: Partner, location_id: str, *field: str,
                          session: Any = None) -> Location:
    """A location of `owner`'s customers; any other id is NOT_FOUND, whether it exists elsewhere or not (R-ORG-6)."""
    doc = await repos.locations.owned_doc(location_id, owner.id, session=session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no location has this id", *(field or ("id",)))
    return Location.from_doc(doc)


async def _fresh(repos: Repositories, tx: Tx, customer_id: str) -> tuple[Customer, list[Document]]:
    """The customer and its locations as the transaction sees them; the customer is written so that concurrent
    changes of its locations or subscribers conflict."""
    doc = await repos.customers.find_doc(customer_id, session=tx.session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "customerId")
    await repos.customers.set_fields(customer_id, {"locationWrites": tx.now}, session=tx.session)
    locations = (await repos.locations.by_customers([customer_id], session=tx.session)).get(customer_id, [])
    return Customer.from_doc(doc), locations


async def add_location(repos: Repositories, caller: Caller, customer_id: str, data: CallingLocation,
                       on_behalf_of: str | None) -> Location:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, full_admin=True)
    customer = await owned_customer(repos, owner, customer_id, "customerId")
    existing = (await repos.locations.by_customers([customer.id])).get(customer.id, [])
    plan_new_location(customer, data, existing).problems.raise_if_any()
    location_id = new_id(Kind.LOCATION)

    async def write(tx: Tx) -> Location:
        fresh, locations = await _fresh(repos, tx, customer.id)
        plan = plan_new_location(fresh, data, locations)
        plan.problems.raise_if_any()
        location = Location(id=location_id, customer_id=fresh.id, owner_org_id=fresh.owner_org_id,
                            root_org_id=fresh.root_org_id, is_headquarters=False, version=1, created_at=tx.now,
                            **plan.fields)
        await repos.locations.insert(location.to_doc(), session=tx.session)
        tx.record(location_change(location, None, ACTIVE, location.version))
        return location

    return await repos.atomic(write)


async def update_location(repos: Repositories, caller: Caller, location_id: str, data: LocationUpdate,
                          on_behalf_of: str | None) -> Location:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, full_admin=True)
    current = await _owned_location(repos, owner, location_id)
    customer = await owned_customer(repos, owner, current.customer_id)
    existing = (await repos.locations.by_customers([customer.id])).get(customer.id, [])
    plan = plan_location_update(customer, current, data, existing)
    plan.problems.raise_if_any()
    if not plan.fields:
        return current  # nothing changes: no write, no event

    async def write(tx: Tx) -> Location:
        fresh_customer, locations = await _fresh(repos, tx, customer.id)
        before = await _owned_location(repos, owner, location_id, session=tx.session)
        again = plan_location_update(fresh_customer, before, data, locations)
        again.problems.raise_if_any()
        after = before.model_copy(update={**again.fields, "version": before.version + 1})
        if not await repos.locations.replace(after.to_doc(), expected_version=before.version, session=tx.session):
            raise DomainError.single(ErrorCode.INVALID_STATE, "the location changed meanwhile; read it and retry", "id")
        changes = field_changes(before.to_doc(), after.to_doc(), UPDATABLE_FIELDS)
        if changes:
            tx.record(Change(EntityType.LOCATION, after.id, after.owner_org_id, after.root_org_id, ACTIVE, ACTIVE,
                             after.version, customer_id=after.customer_id, details={"name": after.name},
                             action=EventAction.UPDATE, changes=changes))
        return after

    return await repos.atomic(write)


async def _use(repos: Repositories, location_id: str, session: Any = None) -> LocationUse:
    subscribers = await repos.locations.subscriber_counts([location_id], session=session)
    workspaces = await repos.locations.workspace_counts([location_id], session=session)
    open_request = await repos.setup_assist.open_for(location_id, session=session)
    return LocationUse(subscribers.get(location_id, 0), workspaces.get(location_id, 0), open_request is not None)


async def delete_location(repos: Repositories, caller: Caller, location_id: str, on_behalf_of: str | None
                          ) -> Location:
    """R-LOCN-2: an empty branch leaves at once (no cascade); answers the location as it was."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    current = await _owned_location(repos, owner, location_id)
    customer = await owned_customer(repos, owner, current.customer_id)
    deletion_problems(customer, current, await _use(repos, current.id)).raise_if_any()

    async def write(tx: Tx) -> Location:
        fresh_customer, _ = await _fresh(repos, tx, customer.id)
        gone = await _owned_location(repos, owner, location_id, session=tx.session)
        deletion_problems(fresh_customer, gone, await _use(repos, gone.id, tx.session)).raise_if_any()
        await repos.locations.delete({"_id": gone.id}, session=tx.session)
        tx.record(location_change(gone, ACTIVE, DELETED, gone.version + 1))
        return gone

    return await repos.atomic(write)
