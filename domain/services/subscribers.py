"""The write side of subscribers (DOMAIN.md §6, §7): provision, update, delete and precheck.

The checks that depend on other subscribers (email uniqueness, numbers, package limits, who is the
first admin) are made again inside the transaction that writes, and that transaction also writes
the customer document: two concurrent requests for one customer conflict and are serialised, so a
limit cannot be overrun and only one subscriber becomes the admin. Email uniqueness across the
whole system is guarded by a unique index as well.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.model.entities import (
    Customer,
    Partner,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleSubscriber
from domain.model.principal import Scope
from domain.model.status import SUBSCRIBER, require_move

# The request types and rules of this service, under the names its callers (resolvers, demo, workflows) use.
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
)
from domain.rules.subscribers import UNSETTLED as UNSETTLED
from domain.rules.subscribers import NewSubscriber as NewSubscriber
from domain.rules.subscribers import SubscriberUpdate as SubscriberUpdate
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.acting import acting_owner, precheck
from domain.services.customers import owned_customer
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx


async def _holdings(repos: Repositories, customer: Customer, package: str, phone: str | None,
                    extension: str | None, exclude: str | None, *, session: Any = None,
                    package_changes: bool = True) -> Holdings:
    """What the customer's other subscribers hold of what a request asks for (read inside a transaction too)."""
    subscribers = repos.subscribers
    return Holdings(
        held=await subscribers.holding(customer.id, package, session=session) if package_changes else 0,
        phone_taken=phone is not None and await subscribers.number_taken(
            customer.id, "primaryPhoneNumber", phone, exclude, session=session),
        extension_taken=extension is not None and await subscribers.number_taken(
            customer.id, "extension", extension, exclude, session=session))


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


async def check_new_subscriber(repos: Repositories, owner: Partner, data: NewSubscriber) -> SubscriberPlan:
    email = data.email.strip().lower()
    email_taken = bool(email) and await repos.subscribers.by_email(email) is not None
    doc = await repos.customers.owned(data.customer_id, owner.id)
    customer = Customer.from_doc(doc) if doc is not None else None
    if customer is None or customer.status in CLOSED:
        return plan_new_subscriber(data, NewSubscriberFacts(email_taken, customer))
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    return plan_new_subscriber(data, NewSubscriberFacts(
        email_taken, customer, await _locations(repos, customer, data.package),
        await _holdings(repos, customer, data.package, phone, extension, None)))


async def provision_subscriber(repos: Repositories, caller: Caller, data: NewSubscriber,
                               on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
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
        holdings = await _holdings(repos, customer, data.package, phone, extension, None, session=tx.session)
        problems = conflict_problems(customer, data.package, phone, extension, holdings, "input")
        if problems:
            raise DomainError(problems)
        is_admin = customer.admin_subscriber_id is None  # R-SUB-2: the first subscriber becomes the admin
        subscriber = Subscriber(
            id=subscriber_id, customer_id=customer.id, owner_org_id=customer.owner_org_id,
            root_org_id=customer.root_org_id, email=data.email.strip().lower(), first_name=data.first_name.strip(),
            last_name=data.last_name.strip(), package=data.package, primary_phone_number=phone, extension=extension,
            location_id=plan.location_id, is_admin=is_admin, status=SubscriberStatus.PROVISIONING, version=1,
            created_at=tx.now, last_status_change=tx.now)
        # Writing the customer makes concurrent requests for it conflict (limits, admin, numbers).
        await repos.customers.set_fields(customer.id, {
            "adminSubscriberId": customer.admin_subscriber_id or subscriber.id,
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
        return (await check_new_subscriber(repos, owner, data)).problems

    return await precheck(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE, problems_for)


async def _owned_subscriber(repos: Repositories, owner: Partner, subscriber_id: str) -> Subscriber:
    doc = await repos.subscribers.find_doc(subscriber_id)
    if doc is None or doc["ownerOrgId"] != owner.id:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber has this id", "id")
    return Subscriber.from_doc(doc)


async def update_subscriber(repos: Repositories, caller: Caller, subscriber_id: str, data: SubscriberUpdate,
                            on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
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
                        package_changes=changes_package)))
    plan.problems.raise_if_any()
    location_id = plan.location_id

    async def write(tx: Tx) -> Subscriber:
        doc = await repos.subscribers.find_doc(current.id, session=tx.session)
        if doc is None or doc["version"] != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the subscriber changed meanwhile; read it and retry",
                                     "id")
        fresh_customer = Customer.from_doc(await repos.customers.find_doc(customer.id, session=tx.session) or {})
        holdings = await _holdings(repos, fresh_customer, data.package, phone, extension, current.id,
                                   session=tx.session, package_changes=changes_package)
        again = conflict_problems(fresh_customer, data.package, phone, extension, holdings, "input",
                                  package_changes=changes_package)
        if again:
            raise DomainError(again)
        await repos.customers.set_fields(customer.id, {"subscriberWrites": tx.now}, session=tx.session)
        updated, change = current.move(SubscriberStatus.UPDATING, tx.now, package=data.package,
                                       primary_phone_number=phone, extension=extension, location_id=location_id,
                                       errors=[])
        try:
            await repos.subscribers.replace(updated.to_doc(), session=tx.session)
        except DuplicateKey as exc:
            raise _duplicate(exc, "input") from None
        await tx.enqueue(SettleSubscriber(updated.id, "update", updated.version, previous_package=current.package))
        # R-SUB-4: a package change ends one billing interval and starts another; the event says both.
        tx.record(replace(change, details={**change.details, "previousPackage": current.package}))
        return updated

    return await repos.atomic(write)


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
