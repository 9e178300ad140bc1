"""The write side of subscribers (DOMAIN.md §6, §7): provision, update, delete and precheck.

The checks that depend on other subscribers (email uniqueness, numbers, package limits, who is the
first admin) are made again inside the transaction that writes, and that transaction also writes
the customer document: two concurrent requests for one customer conflict and are serialised, so a
limit cannot be overrun and only one subscriber becomes the admin. Email uniqueness across the
whole system is guarded by a unique index as well.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.model.entities import (
    Customer,
    CustomerStatus,
    Partner,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleSubscriber
from domain.model.principal import Scope
from domain.model.status import SUBSCRIBER, require_move
from domain.rules.catalogue import CATALOGUE
from domain.rules.packages import admin_change_problems, assignment_problems, calling_problems, number_country_problems
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.acting import acting_owner
from domain.services.customers import owned_customer
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx

# A customer in one of these states cannot take new subscribers or changes.
CLOSED = (CustomerStatus.DELETING, CustomerStatus.ERROR)
# While the customer is in one of these, a new subscriber waits for it (R-RPL-5).
UNSETTLED = (CustomerStatus.PROVISIONING, CustomerStatus.PENDING_RPL_REVIEW, CustomerStatus.UPDATING)


@dataclass(frozen=True)
class NewSubscriber:
    customer_id: str
    email: str
    package: str
    first_name: str
    last_name: str
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class SubscriberUpdate:
    package: str
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: str | None = None


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


async def _location_problems(repos: Repositories, customer: Customer, package: str, location_id: str | None,
                             problems: Problems, *prefix: str) -> tuple[str | None, str]:
    """The subscriber's location: one of its customer's (default: headquarters) for calling packages; and the
    country its numbers belong to (the location's; without one, the customer's)."""
    spec = CATALOGUE.get(package)
    if spec is None or not spec.calling:
        return None, customer.address.country
    locations = (await repos.locations.by_customers([customer.id])).get(customer.id, [])
    if location_id is None:
        location_id = locations[0]["_id"] if locations else None
    found = next((d for d in locations if d["_id"] == location_id), None)
    if location_id is not None and found is None:
        problems.add(ErrorCode.NOT_FOUND, "the customer has no location with this id", *prefix, "locationId")
    country = found["address"]["country"] if found is not None else customer.address.country
    return location_id, str(country)


async def _conflicts(repos: Repositories, customer: Customer, package: str, phone: str | None,
                     extension: str | None, exclude: str | None, *prefix: str, session: Any = None,
                     package_changes: bool = True) -> list[FieldError]:
    """Checks against stored subscribers: limits (R-PKG-6) and numbers unique in the customer (R-SUB-1)."""
    problems: list[FieldError] = []
    on_customer = {p.name: p for p in customer.packages if p.status.value != "deleting"}
    limit = on_customer[package].limit if package in on_customer else None
    held = await repos.subscribers.holding(customer.id, package, session=session) if package_changes else 0
    if package_changes:
        problems += assignment_problems(package, list(on_customer), limit, held, *prefix, "package")
    if phone is not None and await repos.subscribers.number_taken(customer.id, "primaryPhoneNumber", phone, exclude,
                                                                  session=session):
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this number",
                                   (*prefix, "primaryPhoneNumber")))
    if extension is not None and await repos.subscribers.number_taken(customer.id, "extension", extension, exclude,
                                                                      session=session):
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this extension",
                                   (*prefix, "extension")))
    return problems


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


@dataclass
class SubscriberPlan:
    problems: Problems
    customer: Customer | None = None
    location_id: str | None = None


async def check_new_subscriber(repos: Repositories, owner: Partner, data: NewSubscriber) -> SubscriberPlan:
    problems = Problems()
    plan = SubscriberPlan(problems)
    p = ("input",)
    problems.text(data.first_name, 100, *p, "firstName")
    problems.text(data.last_name, 100, *p, "lastName")
    problems.email(data.email, *p, "email")
    email = data.email.strip().lower()
    if email and await repos.subscribers.by_email(email) is not None:
        problems.add(ErrorCode.EMAIL_IN_USE, "this email is already used by a subscriber (Webex 10022)", *p, "email")
    phone, extension = _blank_to_none(data.primary_phone_number), _blank_to_none(data.extension)
    problems.extend(calling_problems(data.package, phone, extension, data.location_id, *p))
    doc = await repos.customers.owned(data.customer_id, owner.id)
    if doc is None:
        problems.add(ErrorCode.NOT_FOUND, "no customer has this id", *p, "customerId")
        return plan
    customer = plan.customer = Customer.from_doc(doc)
    if customer.status in CLOSED:
        problems.add(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`", *p, "customerId")
        return plan
    plan.location_id, country = await _location_problems(repos, customer, data.package, data.location_id,
                                                         problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    problems.extend(await _conflicts(repos, customer, data.package, phone, extension, None, *p))
    return plan


async def provision_subscriber(repos: Repositories, caller: Caller, data: NewSubscriber,
                               on_behalf_of: str | None) -> Subscriber:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    plan = await check_new_subscriber(repos, owner, data)
    plan.problems.raise_if_any()
    assert plan.customer is not None
    phone, extension = _blank_to_none(data.primary_phone_number), _blank_to_none(data.extension)
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
        problems = await _conflicts(repos, customer, data.package, phone, extension, None, "input",
                                    session=tx.session)
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
    try:
        owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    except DomainError as e:
        return list(e.errors)
    return (await check_new_subscriber(repos, owner, data)).problems.items


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
    problems = Problems()
    p = ("input",)
    phone, extension = _blank_to_none(data.primary_phone_number), _blank_to_none(data.extension)
    problems.extend(calling_problems(data.package, phone, extension, data.location_id, *p))
    problems.extend(admin_change_problems(current.is_admin, current.package, data.package, *p, "package"))
    # Not named: the subscriber keeps its location (none for a package without calling).
    location_id, country = await _location_problems(repos, customer, data.package,
                                                     data.location_id or current.location_id, problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    changes_package = data.package != current.package
    problems.extend(await _conflicts(repos, customer, data.package, phone, extension, current.id, *p,
                                     package_changes=changes_package))
    problems.raise_if_any()

    async def write(tx: Tx) -> Subscriber:
        doc = await repos.subscribers.find_doc(current.id, session=tx.session)
        if doc is None or doc["version"] != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the subscriber changed meanwhile; read it and retry",
                                     "id")
        fresh_customer = Customer.from_doc(await repos.customers.find_doc(customer.id, session=tx.session) or {})
        again = await _conflicts(repos, fresh_customer, data.package, phone, extension, current.id, "input",
                                 session=tx.session, package_changes=changes_package)
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
