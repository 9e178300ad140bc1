"""The rules of a subscriber's provisioning request and of its changes (DOMAIN.md §6, §7: R-SUB-1…4, R-PKG-6,
R-PRE): pure functions of the request, the customer, and the facts the service loaded for them.

The checks against other subscribers (limits, numbers) are made twice with the same function: once on facts read
before the transaction (to answer with every problem at once), and again on facts read inside it (so a concurrent
request cannot slip past a limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.model.entities import Customer, CustomerStatus, Subscriber
from domain.model.errors import ErrorCode, FieldError
from domain.rules.addons import add_on_problems, base_change_problems
from domain.rules.catalogue import CATALOGUE
from domain.rules.packages import admin_change_problems, assignment_problems, calling_problems, number_country_problems
from domain.rules.validation import Problems

# A customer in one of these states cannot take new subscribers or changes.
CLOSED = (CustomerStatus.DELETING, CustomerStatus.ERROR)
# While the customer is in one of these, a new subscriber waits for it (R-RPL-5).
UNSETTLED = (CustomerStatus.PROVISIONING, CustomerStatus.PENDING_RPL_REVIEW, CustomerStatus.PENDING_CUSTOMER_APPROVAL,
             CustomerStatus.UPDATING)


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
    add_ons: tuple[str, ...] = ()  # R-ADD-1


@dataclass(frozen=True)
class SubscriberUpdate:
    package: str
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: str | None = None
    add_ons: tuple[str, ...] | None = None  # R-ADD-1: the complete list; None keeps the add-ons held


def blank_to_none(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def needs_locations(package: str) -> bool:
    """Only calling packages place a subscriber at a location."""
    spec = CATALOGUE.get(package)
    return spec is not None and spec.calling


@dataclass(frozen=True)
class Holdings:
    """What other subscribers of the customer hold: the package asked for, and the requested numbers."""

    held: int = 0  # subscribers holding the package (counted only when the package changes)
    phone_taken: bool = False
    extension_taken: bool = False
    add_ons_held: Mapping[str, int] = field(default_factory=dict)  # R-ADD-1: other subscribers holding each add-on


def conflict_problems(customer: Customer, package: str, phone: str | None, extension: str | None,
                      holdings: Holdings, *prefix: str, package_changes: bool = True) -> list[FieldError]:
    """Limits (R-PKG-6) and numbers unique in the customer (R-SUB-1)."""
    problems: list[FieldError] = []
    on_customer = {p.name: p for p in customer.packages if p.status.value != "deleting"}
    limit = on_customer[package].limit if package in on_customer else None
    if package_changes:
        problems += assignment_problems(package, list(on_customer), limit, holdings.held, *prefix, "package")
    if phone is not None and holdings.phone_taken:
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this number",
                                   (*prefix, "primaryPhoneNumber")))
    if extension is not None and holdings.extension_taken:
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "another subscriber of this customer has this extension",
                                   (*prefix, "extension")))
    return problems


def placed(customer: Customer, package: str, location_id: str | None, locations: Sequence[Mapping[str, object]],
           problems: Problems, *prefix: str) -> tuple[str | None, str]:
    """The subscriber's location: one of its customer's (default: headquarters, the first) for calling packages;
    and the country its numbers belong to (the location's; without one, the customer's)."""
    if not needs_locations(package):
        return None, customer.address.country
    if location_id is None:
        location_id = str(locations[0]["_id"]) if locations else None
    found = next((d for d in locations if d["_id"] == location_id), None)
    if location_id is not None and found is None:
        problems.add(ErrorCode.NOT_FOUND, "the customer has no location with this id", *prefix, "locationId")
    address = found["address"] if found is not None else None
    country = address["country"] if isinstance(address, Mapping) else customer.address.country
    return location_id, str(country)


@dataclass(frozen=True)
class NewSubscriberFacts:
    """What a provisioning request is judged against, loaded by the service before it asks."""

    email_taken: bool
    customer: Customer | None  # the customer named by `customerId`, if the owner has it
    locations: Sequence[Mapping[str, object]] = ()  # the customer's, for a calling package
    holdings: Holdings = field(default_factory=Holdings)


@dataclass
class SubscriberPlan:
    problems: Problems
    customer: Customer | None = None
    location_id: str | None = None


def plan_new_subscriber(data: NewSubscriber, facts: NewSubscriberFacts) -> SubscriberPlan:
    """Every problem of a provisioning request (R-PRE), and where the subscriber goes."""
    problems = Problems()
    plan = SubscriberPlan(problems)
    p = ("input",)
    problems.text(data.first_name, 100, *p, "firstName")
    problems.text(data.last_name, 100, *p, "lastName")
    problems.email(data.email, *p, "email")
    if data.email.strip() and facts.email_taken:
        problems.add(ErrorCode.EMAIL_IN_USE, "this email is already used by a subscriber (Webex 10022)", *p, "email")
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    problems.extend(calling_problems(data.package, phone, extension, data.location_id, *p))
    customer = facts.customer
    if customer is None:
        problems.add(ErrorCode.NOT_FOUND, "no customer has this id", *p, "customerId")
        return plan
    plan.customer = customer
    if customer.status in CLOSED:
        problems.add(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`", *p, "customerId")
        return plan
    plan.location_id, country = placed(customer, data.package, data.location_id, facts.locations, problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    problems.extend(conflict_problems(customer, data.package, phone, extension, facts.holdings, *p))
    problems.extend(add_on_problems(data.add_ons, data.package, customer, facts.holdings.add_ons_held, (), *p))
    return plan


@dataclass(frozen=True)
class UpdateFacts:
    locations: Sequence[Mapping[str, object]]
    holdings: Holdings


def plan_subscriber_update(current: Subscriber, customer: Customer, data: SubscriberUpdate,
                           facts: UpdateFacts) -> SubscriberPlan:
    """Every problem of a change of `current` (R-SUB-1/2/4, R-PKG-6), and where the subscriber goes."""
    problems = Problems()
    plan = SubscriberPlan(problems, customer)
    p = ("input",)
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    problems.extend(calling_problems(data.package, phone, extension, data.location_id, *p))
    problems.extend(admin_change_problems(current.is_admin, current.package, data.package, *p, "package"))
    # Not named: the subscriber keeps its location (none for a package without calling).
    plan.location_id, country = placed(customer, data.package, data.location_id or current.location_id,
                                       facts.locations, problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    problems.extend(conflict_problems(customer, data.package, phone, extension, facts.holdings, *p,
                                      package_changes=data.package != current.package))
    problems.extend(update_add_on_problems(current, customer, data, facts.holdings))
    return plan


def update_add_on_problems(current: Subscriber, customer: Customer, data: SubscriberUpdate,
                           holdings: Holdings) -> list[FieldError]:
    """R-ADD-1 on an update: a new list is judged whole; no list keeps the add-ons, which the new base must carry."""
    if data.add_ons is None:
        return base_change_problems(current.add_ons, data.package, "input")
    return add_on_problems(data.add_ons, data.package, customer, holdings.add_ons_held, current.add_ons, "input")
