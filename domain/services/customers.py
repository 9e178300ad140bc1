"""The write side of customers (DOMAIN.md §5): provision, update, delete and precheck.

Each command validates everything first (collecting every problem, R-PRE), then writes the
customer in its new status, the job that will move it on and the events of the change in one
transaction (R-CUS-1, R-EVT-1). The slow work happens in `domain.workflows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.model.entities import (
    Address,
    Customer,
    CustomerPackage,
    CustomerStatus,
    Location,
    OnboardingTemplate,
    PackageStatus,
    Partner,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleCustomer, compliance_deadline_id, review_timeout_id
from domain.model.principal import Scope
from domain.model.status import CUSTOMER, require_move
from domain.rules.catalogue import CATALOGUE
from domain.rules.locales import resolve_locale
from domain.rules.packages import customer_package_problems, limit_problems
from domain.rules.tenancy import Caller
from domain.rules.validation import CUSTOMER_NAME_MAX_LENGTH, Problems
from domain.services.acting import acting_owner
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx
from domain.store.usage import restamp_customer

# How far ahead a delayed billing start may lie (R-BILLSTART).
BILLING_START_WINDOW = timedelta(days=90)
SUCCESS_INFO = (100, "validation successful")


@dataclass(frozen=True)
class CallingLocation:
    name: str
    address: Address
    timezone: str
    language: str
    emergency_location_identifier: str | None = None


@dataclass(frozen=True)
class Parameters:
    calling_location: CallingLocation | None = None
    meetings_timezone: str | None = None
    limits: Sequence[tuple[str, int]] | None = None


@dataclass(frozen=True)
class NewCustomer:
    provisioning_id: str
    external_id: str
    packages: Sequence[str]
    address: Address
    name: str
    primary_email: str
    language: str | None = None
    parameters: Parameters = field(default_factory=Parameters)
    billing_start_date: date | None = None


@dataclass(frozen=True)
class CustomerUpdate:
    packages: Sequence[str]
    external_id: str | None = None
    address: Address | None = None
    parameters: Parameters | None = None
    billing_start_date: date | None = None


def needs_location(packages: Sequence[str]) -> bool:
    """R-CUS-3: calling packages (and common-area calling) need the calling location parameters."""
    return any((spec := CATALOGUE.get(p)) is not None and (spec.calling or p == "common_area_calling")
               for p in packages)


def has_meetings(packages: Sequence[str]) -> bool:
    return any("meet_full" in CATALOGUE[p].capabilities for p in packages if p in CATALOGUE)


def clean_address(a: Address) -> Address:
    return a.model_copy(update={"country": a.country.strip().upper(), "address_line1": a.address_line1.strip(),
                                "city": a.city.strip()})


def _limits(parameters: Parameters | None, packages: Sequence[str], problems: Problems,
            *path: str) -> dict[str, int] | None:
    if parameters is None or parameters.limits is None:
        return None
    limits: dict[str, int] = {}
    for package, limit in parameters.limits:
        if package in limits:
            problems.add(ErrorCode.VALIDATION_FAILED, f"`{package}` has two limits", *path)
        limits[package] = limit
    problems.extend(limit_problems(limits, packages, *path))
    return limits


def _location_problems(location: CallingLocation, problems: Problems, *path: str) -> str | None:
    problems.text(location.name, 80, *path, "name")
    problems.address(location.address, *path, "address")
    problems.timezone(location.timezone, *path, "timezone")
    locale = resolve_locale(location.language.strip(), location.address.country.strip().upper(), "")
    if not locale:
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code",
                     *path, "language")
    problems.text(location.emergency_location_identifier, 100, *path, "emergencyLocationIdentifier", required=False)
    return locale


def _billing_start_problems(owner: Partner, requested: date, earliest: date, problems: Problems,
                            *path: str) -> None:
    """R-BILLSTART: only with delayed billing enabled, and within 90 days of the customer's creation."""
    if not owner.delayed_billing_enabled:
        problems.add(ErrorCode.DELAYED_BILLING_NOT_ENABLED,
                     "delayed billing is not enabled for this partner (enable_wholesale_delayed_billing)", *path)
    elif not earliest <= requested <= earliest + BILLING_START_WINDOW:
        problems.add(ErrorCode.BILLING_START_DATE_INVALID,
                     f"`billingStartDate` must lie between {earliest} and {earliest + BILLING_START_WINDOW}", *path)


@dataclass
class CustomerPlan:
    """A validated provisioning request, with what validation resolved (template, locale, limits)."""

    problems: Problems
    template: OnboardingTemplate | None = None
    language: str | None = None
    location_language: str | None = None
    limits: dict[str, int] | None = None
    meetings_timezone: str | None = None


async def check_new_customer(repos: Repositories, owner: Partner, data: NewCustomer) -> CustomerPlan:
    """Every validation of a provisioning request, plus its conflicts with stored data (R-PRE)."""
    problems = Problems()
    plan = CustomerPlan(problems)
    template = await repos.templates.by_provisioning_id(data.provisioning_id.strip())
    if template is None or template.owner_org_id != owner.id:
        # R-TPL-1; a foreign template is answered like a missing one (R-ORG-6).
        problems.add(ErrorCode.TEMPLATE_NOT_FOUND, "no onboarding template has this provisioningId",
                     "input", "provisioningId")
    else:
        plan.template = template
    problems.text(data.external_id, 100, "input", "externalId")
    if data.external_id.strip() and await repos.customers.ids_by_external_id(
            {"ownerOrgId": owner.id}, data.external_id.strip()):
        problems.add(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists", "input", "externalId")
    problems.extend(customer_package_problems(list(data.packages), "input", "packages"))
    problems.address(data.address, "input", "address")
    problems.text(data.name, CUSTOMER_NAME_MAX_LENGTH, "input", "customerInfo", "name")
    if "%" in data.name:
        problems.add(ErrorCode.NAME_HAS_PERCENT, "`name` may not contain `%`", "input", "customerInfo", "name")
    problems.email(data.primary_email, "input", "customerInfo", "primaryEmail")
    requested = (data.language or "").strip()
    if template is not None:
        plan.language = resolve_locale(requested, template.country, template.language)
    else:  # judged without a template's country: still refused if no country could make it valid
        plan.language = resolve_locale(requested, "", "en_US") if requested else "en_US"
    if not plan.language:
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code",
                     "input", "customerInfo", "language")
    params = data.parameters
    location = params.calling_location
    path = ("input", "provisioningParameters")
    if location is not None:
        plan.location_language = _location_problems(location, problems, *path, "callingLocation")
    elif needs_location(data.packages):
        problems.add(ErrorCode.REQUIRED, "calling packages need the calling location parameters", *path,
                     "callingLocation")
    if params.meetings_timezone is not None:
        problems.timezone(params.meetings_timezone, *path, "meetingsTimezone")
        plan.meetings_timezone = params.meetings_timezone.strip()
    elif has_meetings(data.packages):
        if location is None:
            problems.add(ErrorCode.REQUIRED, "meetings packages need a meetings time zone", *path,
                         "meetingsTimezone")
        else:
            plan.meetings_timezone = location.timezone.strip()
    plan.limits = _limits(params, data.packages, problems, *path, "limits")
    if data.billing_start_date is not None:
        today = repos.clock.now().date()
        _billing_start_problems(owner, data.billing_start_date, today, problems, "input", "billingStartDate")
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
    location = None
    if data.parameters.calling_location is not None:
        loc = data.parameters.calling_location
        location = Location(id=new_id(Kind.LOCATION), customer_id=customer.id, owner_org_id=owner.id,
                            root_org_id=owner.root_id, name=loc.name.strip(), address=clean_address(loc.address),
                            timezone=loc.timezone.strip(), language=plan.location_language or customer.language,
                            is_headquarters=True, created_at=now)

    async def write(tx: Tx) -> None:
        try:
            await repos.customers.insert_customers([customer], session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                                     "input", "externalId") from None
        if location is not None:
            await repos.locations.insert(location.to_doc(), session=tx.session)
        await tx.enqueue(SettleCustomer(customer.id, "provision", customer.version, screen=True))
        tx.record(customer.change(None))
        for package in customer.packages:
            tx.record(customer.package_change(package, None))

    await repos.atomic(write)
    return customer


async def precheck_customer(repos: Repositories, caller: Caller, data: NewCustomer,
                            on_behalf_of: str | None) -> list[FieldError]:
    """Every problem of a provisioning request at once, without writing anything (R-PRE)."""
    try:
        owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE)
    except DomainError as e:
        return list(e.errors)
    return (await check_new_customer(repos, owner, data)).problems.items


async def owned_customer(repos: Repositories, owner: Partner, customer_id: str, *field: str) -> Customer:
    """A customer of `owner`; any other id is NOT_FOUND, whether it exists elsewhere or not (R-ORG-6)."""
    doc = await repos.customers.owned(customer_id, owner.id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", *(field or ("id",)))
    return Customer.from_doc(doc)


async def update_customer(repos: Repositories, caller: Caller, customer_id: str, data: CustomerUpdate,
                          on_behalf_of: str | None) -> Customer:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE)
    current = await owned_customer(repos, owner, customer_id)
    require_move(CUSTOMER, current.status, CustomerStatus.UPDATING, "customer")
    problems = Problems()
    packages = list(data.packages)
    problems.extend(customer_package_problems(packages, "input", "packages"))
    assigned = await repos.subscribers.assigned_counts([current.id])
    for held in current.packages:
        if held.name not in packages and assigned.get((current.id, held.name), 0):
            problems.add(ErrorCode.PACKAGE_IN_USE, f"`{held.name}` is held by subscribers; move or delete them first",
                         "input", "packages")
    external_id = current.external_id
    if data.external_id is not None and data.external_id.strip() != current.external_id:
        problems.text(data.external_id, 100, "input", "externalId")
        external_id = data.external_id.strip()
        if external_id and await repos.customers.ids_by_external_id({"ownerOrgId": owner.id}, external_id):
            problems.add(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                         "input", "externalId")
    address = current.address
    if data.address is not None:
        problems.address(data.address, "input", "address")
        address = clean_address(data.address)
    params = data.parameters or Parameters()
    path = ("input", "provisioningParameters")
    locations = (await repos.locations.by_customers([current.id])).get(current.id, [])
    location_language = None
    if params.calling_location is not None:
        location_language = _location_problems(params.calling_location, problems, *path, "callingLocation")
    elif needs_location([p for p in packages if p not in {o.name for o in current.packages}]) and not locations:
        problems.add(ErrorCode.REQUIRED, "calling packages need the calling location parameters", *path,
                     "callingLocation")
    meetings_timezone = current.meetings_timezone
    if params.meetings_timezone is not None:
        problems.timezone(params.meetings_timezone, *path, "meetingsTimezone")
        meetings_timezone = params.meetings_timezone.strip()
    elif has_meetings(packages) and meetings_timezone is None:
        if params.calling_location is not None:
            meetings_timezone = params.calling_location.timezone.strip()
        elif locations:
            meetings_timezone = locations[0]["timezone"]
        else:
            problems.add(ErrorCode.REQUIRED, "meetings packages need a meetings time zone", *path, "meetingsTimezone")
    limits = _limits(data.parameters, packages, problems, *path, "limits")
    if limits is None:
        limits = {p.name: p.limit for p in current.packages if p.limit is not None and p.name in packages}
    for package, limit in limits.items():
        if limit < assigned.get((current.id, package), 0):
            problems.add(ErrorCode.PACKAGE_LIMIT_REACHED,
                         f"`{package}` is held by {assigned[(current.id, package)]} subscribers, more than {limit}",
                         *path, "limits")
    billing_start = current.billing_start_date
    if data.billing_start_date is not None and data.billing_start_date != current.billing_start_date:
        today = repos.clock.now().date()
        started_on = current.billing_start_date or current.created_at.date()
        if started_on <= today:
            problems.add(ErrorCode.BILLING_ALREADY_STARTED, f"billing started on {started_on}; it cannot move",
                         "input", "billingStartDate")
        else:
            _billing_start_problems(owner, data.billing_start_date, current.created_at.date(), problems,
                                    "input", "billingStartDate")
        billing_start = data.billing_start_date
    problems.raise_if_any()

    rescreen = address != current.address  # R-RPL-1: screened again whenever the billing address changes
    old = {p.name: p for p in current.packages}
    new_packages: list[CustomerPackage] = []
    for name in packages:
        kept = old.get(name)
        if kept is not None and kept.status is PackageStatus.PROVISIONED:
            new_packages.append(kept.model_copy(update={"limit": limits.get(name)}))
        else:  # new, or a failed package that the update retries
            new_packages.append(CustomerPackage(name=name, status=PackageStatus.PROVISIONING, limit=limits.get(name)))
    removed = [p.model_copy(update={"status": PackageStatus.DELETING}) for p in current.packages
               if p.name not in packages]

    async def write(tx: Tx) -> Customer:
        doc = await repos.customers.find_doc(current.id, session=tx.session)
        fresh = Customer.from_doc(doc) if doc else None
        if fresh is None or fresh.version != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the customer changed meanwhile; read it and retry",
                                     "id")
        updated, change = fresh.move(
            CustomerStatus.UPDATING, tx.now, external_id=external_id, address=address,
            packages=new_packages + removed, meetings_timezone=meetings_timezone, billing_start_date=billing_start)
        try:
            await repos.customers.replace(updated, expected_version=fresh.version, session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                                     "input", "externalId") from None
        if params.calling_location is not None:
            await _save_headquarters(repos, tx, updated, params.calling_location, location_language, locations)
        if params.calling_location is not None or (updated.external_id, updated.billing_start_date) != (
                fresh.external_id, fresh.billing_start_date):
            await restamp_customer(repos, tx, updated)  # reports show its current billing facts
        await tx.enqueue(SettleCustomer(updated.id, "update", updated.version, screen=rescreen))
        tx.record(change)
        for package in new_packages:
            before = old.get(package.name)
            if before is None or before.status is not package.status:
                tx.record(updated.package_change(package, before.status if before else None))
        for package in removed:
            tx.record(updated.package_change(package, old[package.name].status))
        return updated

    return await repos.atomic(write)


async def _save_headquarters(repos: Repositories, tx: Tx, customer: Customer, location: CallingLocation,
                             language: str | None, existing: list[dict[str, Any]]) -> None:
    fields = {"name": location.name.strip(), "address": clean_address(location.address).model_dump(by_alias=True),
              "timezone": location.timezone.strip(), "language": language or customer.language}
    hq = next((d for d in existing if d.get("isHeadquarters")), None)
    if hq is not None:
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
    # Timers of a customer that is going away have nothing left to do.
    await tx.cancel(review_timeout_id(customer_id))
    await tx.cancel(compliance_deadline_id(customer_id))
    await tx.enqueue(SettleCustomer(customer_id, "delete", updated.version))
    return updated


async def _subscriber_deleting(repos: Repositories, tx: Tx, doc: dict[str, Any]) -> None:
    subscriber = Subscriber.from_doc(doc)
    if subscriber.status is SubscriberStatus.DELETING:
        return
    moved, change = subscriber.move(SubscriberStatus.DELETING, tx.now, reason="the customer is being deleted")
    await repos.subscribers.set_fields(moved.id, {"status": moved.status.value, "version": moved.version,
                                                  "lastStatusChange": moved.last_status_change}, session=tx.session)
    tx.record(change)
