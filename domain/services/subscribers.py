"""The write side of subscribers (DOMAIN.md §6, §7): provision, update, delete and precheck.

The checks that depend on other subscribers (email uniqueness, numbers, package limits, who is the
first admin) are made again inside the transaction that writes, and that transaction also writes
the customer document: two concurrent requests for one customer conflict and are serialised, so a
limit cannot be overrun and only one subscriber becomes the admin. Email uniqueness across the
whole system is guarded by a unique index as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.model.audit import EventAction, field_changes
from domain.model.changes import Change
from domain.model.entities import (
    Customer,
    Partner,
    ProvisioningError,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleSubscriber
from domain.model.principal import Scope
from domain.model.status import SUBSCRIBER, require_move

# The request types and rules of this service, under the names its callers (resolvers, demo, workflows) use.
from domain.rules.addons import add_on_problems
from domain.rules.subscribers import (
    CLOSED,
    Holdings,
    NewSubscriberFacts,
    SubscriberPlan,
    UpdateFacts,
    blank_to_none,
    conflict_problems,
    needs_locations,
    plan_new_subscriber,
    plan_subscriber_update,
    update_add_on_problems,
)
from domain.rules.subscribers import UNSETTLED as UNSETTLED
from domain.rules.subscribers import NewSubscriber as NewSubscriber
from domain.rules.subscribers import SubscriberUpdate as SubscriberUpdate
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.acting import acting_owner, precheck
from domain.services.attach import joining_terms
from domain.services.customers import owned_customer
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx


async def _holdings(repos: Repositories, customer: Customer, package: str, phone: str | None,
                    extension: str | None, exclude: str | None, *, session: Any = None,
                    package_changes: bool = True, add_ons: Sequence[str] = ()) -> Holdings:
    """What the customer's other subscribers hold of what a request asks for (read inside a transaction too)."""
    subscribers = repos.subscribers
    return Holdings(
        held=await subscribers.holding(customer.id, package, session=session) if package_changes else 0,
        # R-WS-1: numbers are unique in the customer across subscribers and workspaces.
        phone_taken=phone is not None and (await subscribers.number_taken(
            customer.id, "primaryPhoneNumber", phone, exclude, session=session) or await repos.workspaces.taken(
            customer.id, "primaryPhoneNumber", phone, session=session)),
        extension_taken=extension is not None and (await subscribers.number_taken(
            customer.id, "extension", extension, exclude, session=session) or await repos.workspaces.taken(
            customer.id, "extension", extension, session=session)),
        add_ons_held=await subscribers.holding_add_ons(customer.id, add_ons, exclude, session=session))


async def _locations(repos: Repositories, customer: Customer, package: str) -> list[Document]:
    if not needs_locations(package):
        return []
    return (await repos.locations.by_customers([customer.id])).get(customer.id, [])


def _duplicate(exc: DuplicateKey, *prefix: str) -> DomainError:
    keys = set((exc.details or {}).get("keyPattern", {}) or {})
    if "primaryPhoneNumber" in keys:
        return DomainError.single(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this number",
                                  *prefix, "primaryPhoneNumber")
    if "extension" in keys:
        return DomainError.single(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this extension",
                                  *prefix, "extension")
    return DomainError.single(ErrorCode.EMAIL_IN_USE, "this email is already used by a subscriber (Webex 10022)",
                              *prefix, "email")


def becomes_admin(customer: Customer, admin_id: str | None) -> bool:
    """R-SUB-2 (amended 2026-12): the customer's first subscriber becomes its admin, never in an attached org
    (R-ATT-3). `admin_id`: the customer's admin as the writer knows it (a bulk chunk: including the ones it made)."""
    return admin_id is None and customer.attach is None


def new_subscriber_entity(subscriber_id: str, customer: Customer, data: NewSubscriber, location_id: str | None,
                          is_admin: bool, now: datetime, *, org_user: bool = False,
                          warnings: Sequence[ProvisioningError] = ()) -> Subscriber:
    """The subscriber a provisioning request creates (the single mutation's and a bulk row's); `org_user`: one of
    its attached org's own users, joining without consent (R-ATT-3)."""
    return Subscriber(org_user=org_user, warnings=list(warnings),
        id=subscriber_id, customer_id=customer.id, owner_org_id=customer.owner_org_id,
        root_org_id=customer.root_org_id, email=data.email.strip().lower(), first_name=data.first_name.strip(),
        last_name=data.last_name.strip(), package=data.package, add_ons=list(data.add_ons),
        primary_phone_number=blank_to_none(data.primary_phone_number), extension=blank_to_none(data.extension),
        location_id=location_id, is_admin=is_admin, status=SubscriberStatus.PROVISIONING, version=1,
        created_at=now, last_status_change=now)


def updated_subscriber(current: Subscriber, data: SubscriberUpdate, location_id: str | None, now: datetime
                       ) -> tuple[Subscriber, list[Change]]:
    """The subscriber an update makes and its events (the single mutation's and a bulk row's): the status change,
    naming the previous package (R-SUB-4), and an UPDATE event of what changed, before and after (R-AUD-1)."""
    add_ons = list(data.add_ons) if data.add_ons is not None else current.add_ons
    updated, change = current.move(SubscriberStatus.UPDATING, now, package=data.package, add_ons=add_ons,
                                   primary_phone_number=blank_to_none(data.primary_phone_number),
                                   extension=blank_to_none(data.extension), location_id=location_id, errors=[])
    events = [replace(change, details={**change.details, "previousPackage": current.package})]
    changed = field_changes(current.to_doc(), updated.to_doc(), _UPDATABLE)
    if changed:
        events.append(replace(change, from_status=change.to_status, action=EventAction.UPDATE, changes=changed))
    return updated, events


async def check_new_subscriber(repos: Repositories, owner: Partner, data: NewSubscriber) -> SubscriberPlan:
    email = data.email.strip().lower()
    email_taken = bool(email) and await repos.subscribers.by_email(email) is not None
    doc = await repos.customers.owned_doc(data.customer_id, owner.id)
    customer = Customer.from_doc(doc) if doc is not None else None
    if customer is None or customer.status in CLOSED:
        return plan_new_subscriber(data, NewSubscriberFacts(email_taken, customer))
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    return plan_new_subscriber(data, NewSubscriberFacts(
        email_taken, customer, await _locations(repos, customer, data.package),
        await _holdings(repos, customer, data.package, phone, extension, None, add_ons=data.add_ons)))


async def provision_subscriber(repos: Repositories, caller: Caller, data: NewSubscriber,
                               on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    return await provision_for(repos, owner, data)


async def provision_for(repos: Repositories, owner: Partner, data: NewSubscriber) -> Subscriber:
    """A subscriber provisioned for `owner` (its partner's request, or its customer's admin, R-RBP-2)."""
    terms = await joining_terms(repos, owner, data)  # R-ATT-3: an attached org's own users keep their settings
    data = terms.data
    plan = await check_new_subscriber(repos, owner, data)
    plan.problems.raise_if_any()
    assert plan.customer is not None
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    subscriber_id = new_id(Kind.SUBSCRIBER)

    async def write(tx: Tx) -> Subscriber:
        doc = await repos.customers.find_doc(data.customer_id, session=tx.session)
        if doc is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "input", "customerId")
        customer = Customer.from_doc(doc)
        if customer.status in CLOSED:
            raise DomainError.single(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`",
                                     "input", "customerId")
        if await repos.subscribers.by_email(data.email.strip().lower(), session=tx.session) is not None:
            raise DomainError.single(ErrorCode.EMAIL_IN_USE, "this email is already used by a subscriber "
                                     "(Webex 10022)", "input", "email")
        holdings = await _holdings(repos, customer, data.package, phone, extension, None, session=tx.session,
                                   add_ons=data.add_ons)
        problems = conflict_problems(customer, data.package, phone, extension, holdings, "input")
        problems += add_on_problems(data.add_ons, data.package, customer, holdings.add_ons_held, (), "input")
        if problems:
            raise DomainError(problems)
        # R-SUB-2 (amended 2026-12): the first subscriber becomes the admin, never in an attached org (R-ATT-3).
        is_admin = becomes_admin(customer, customer.admin_subscriber_id)
        subscriber = new_subscriber_entity(subscriber_id, customer, data, plan.location_id, is_admin, tx.now,
                                           org_user=terms.org_user, warnings=terms.warnings)
        # Writing the customer makes concurrent requests for it conflict (limits, admin, numbers).
        await repos.customers.set_fields(customer.id, {
            "adminSubscriberId": customer.admin_subscriber_id or (subscriber.id if is_admin else None),
            "subscriberWrites": tx.now}, session=tx.session)
        try:
            await repos.subscribers.insert(subscriber.to_doc(), session=tx.session)
        except DuplicateKey as exc:
            raise _duplicate(exc, "input") from None
        wait = customer.id if customer.status in UNSETTLED else None
        await tx.enqueue(SettleSubscriber(subscriber.id, "provision", 1, waiting_for=wait))
        tx.record(subscriber.change(None))
        return subscriber

    return await repos.atomic(write)


async def precheck_subscriber(repos: Repositories, caller: Caller, data: NewSubscriber,
                              on_behalf_of: str | None) -> list[FieldError]:
    """Every problem of a provisioning request at once, without writing anything (R-PRE)."""
    async def problems_for(owner: Partner) -> Problems:
        terms = await joining_terms(repos, owner, data)  # R-ATT-3
        return (await check_new_subscriber(repos, owner, terms.data)).problems

    return await precheck(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE, problems_for)


async def _owned_subscriber(repos: Repositories, owner: Partner, subscriber_id: str) -> Subscriber:
    doc = await repos.subscribers.owned_doc(subscriber_id, owner.id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber has this id", "id")
    return Subscriber.from_doc(doc)


async def update_subscriber(repos: Repositories, caller: Caller, subscriber_id: str, data: SubscriberUpdate,
                            on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    return await update_for(repos, owner, subscriber_id, data)


async def update_for(repos: Repositories, owner: Partner, subscriber_id: str, data: SubscriberUpdate) -> Subscriber:
    """A subscriber of `owner` updated (its partner's request, or its customer's admin, R-RBP-2)."""
    current = await _owned_subscriber(repos, owner, subscriber_id)
    require_move(SUBSCRIBER, current.status, SubscriberStatus.UPDATING, "subscriber")
    customer = await owned_customer(repos, owner, current.customer_id)
    if customer.status in CLOSED or customer.status in UNSETTLED:
        raise DomainError.single(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`", "id")
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    changes_package = data.package != current.package
    plan = plan_subscriber_update(current, customer, data, UpdateFacts(
        await _locations(repos, customer, data.package),
        await _holdings(repos, customer, data.package, phone, extension, current.id,
                        package_changes=changes_package, add_ons=data.add_ons or ())))
    plan.problems.raise_if_any()
    location_id = plan.location_id

    async def write(tx: Tx) -> Subscriber:
        doc = await repos.subscribers.find_doc(current.id, session=tx.session)
        if doc is None or doc["version"] != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the subscriber changed meanwhile; read it and retry",
                                     "id")
        fresh_customer = Customer.from_doc(await repos.customers.find_doc(customer.id, session=tx.session) or {})
        holdings = await _holdings(repos, fresh_customer, data.package, phone, extension, current.id,
                                   session=tx.session, package_changes=changes_package, add_ons=data.add_ons or ())
        again = conflict_problems(fresh_customer, data.package, phone, extension, holdings, "input",
                                  package_changes=changes_package)
        again += update_add_on_problems(current, fresh_customer, data, holdings)
        if again:
            raise DomainError(again)
        await repos.customers.set_fields(customer.id, {"subscriberWrites": tx.now}, session=tx.session)
        # R-SUB-4: a package change ends one billing interval and starts another; the event says both.
        # R-AUD-1: what the update changed, before and after.
        updated, events = updated_subscriber(current, data, location_id, tx.now)
        try:
            await repos.subscribers.replace(updated.to_doc(), session=tx.session)
        except DuplicateKey as exc:
            raise _duplicate(exc, "input") from None
        await tx.enqueue(SettleSubscriber(updated.id, "update", updated.version, previous_package=current.package))
        for event in events:
            tx.record(event)
        return updated

    return await repos.atomic(write)


# The fields an update may change, as stored (UPDATE events name them so).
_UPDATABLE = ("package", "addOns", "primaryPhoneNumber", "extension", "locationId")


async def delete_subscriber(repos: Repositories, caller: Caller, subscriber_id: str,
                            on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE, allow_suspended=True)
    current = await _owned_subscriber(repos, owner, subscriber_id)
    require_move(SUBSCRIBER, current.status, SubscriberStatus.DELETING, "subscriber")

    async def write(tx: Tx) -> Subscriber:
        doc: Document | None = await repos.subscribers.find_doc(current.id, session=tx.session)
        if doc is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber has this id", "id")
        fresh = Subscriber.from_doc(doc)
        updated, change = fresh.move(SubscriberStatus.DELETING, tx.now)
        await repos.subscribers.replace(updated.to_doc(), session=tx.session)
        await tx.enqueue(SettleSubscriber(updated.id, "delete", updated.version))
        tx.record(change)
        return updated

    return await repos.atomic(write)
