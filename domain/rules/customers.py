"""The rules of a customer's provisioning request and of its changes (DOMAIN.md §5, R-PRE, R-CUS-1…3, R-BILLSTART):
pure functions of the request, the customer as it is, and the facts the service loaded for them.

Each check adds every problem it finds (R-PRE: all at once, in a stable order) and resolves what the write needs
(template, locale, limits, time zone), so the service only loads facts first and writes after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.model.entities import Address, Customer, CustomerPackage, OnboardingTemplate, PackageStatus, Partner
from domain.model.errors import ErrorCode
from domain.rules.attach import AttachPlan
from domain.rules.catalogue import CATALOGUE
from domain.rules.locales import resolve_locale
from domain.rules.packages import customer_package_problems, limit_problems
from domain.rules.validation import CUSTOMER_NAME_MAX_LENGTH, Problems

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
    org_id: str | None = None  # R-ATT-1: attach Wholesale to this existing org instead of creating one


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
    attach: AttachPlan | None = None  # R-ATT-1: set when the request names an existing org




@dataclass(frozen=True)
class NewCustomerFacts:
    """What a provisioning request is judged against, loaded by the service before it asks."""

    template: OnboardingTemplate | None  # the template named by `provisioningId`, if it exists at all
    external_id_taken: bool  # another customer of the owner has the (stripped) `externalId`
    today: date


def plan_new_customer(owner: Partner, data: NewCustomer, facts: NewCustomerFacts) -> CustomerPlan:
    """Every problem of a provisioning request (R-PRE), and what validation resolved for the write."""
    problems = Problems()
    plan = CustomerPlan(problems)
    template = facts.template
    if template is None or template.owner_org_id != owner.id or template.retired_at is not None:
        # R-TPL-1; a foreign template is answered like a missing one (R-ORG-6), and so is a retired one (R-TPL-5).
        template = None
        problems.add(ErrorCode.TEMPLATE_NOT_FOUND, "no onboarding template has this provisioningId",
                     "input", "provisioningId")
    else:
        plan.template = template
    problems.text(data.external_id, 100, "input", "externalId")
    if data.external_id.strip() and facts.external_id_taken:
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
        _billing_start_problems(owner, data.billing_start_date, facts.today, problems, "input", "billingStartDate")
    return plan


@dataclass(frozen=True)
class UpdateFacts:
    """What a change of a customer is judged against, loaded by the service before it asks."""

    assigned: Mapping[str, int]  # subscribers holding each package of the customer
    external_id_taken: bool  # another customer of the owner has the requested (changed) `externalId`
    locations: Sequence[Mapping[str, Any]]  # the customer's stored locations (headquarters first)
    today: date


def requested_external_id(current: Customer, data: CustomerUpdate) -> str | None:
    """The new `externalId` a change asks for, when it asks for one different from the current (None: it keeps)."""
    if data.external_id is None or data.external_id.strip() == current.external_id:
        return None
    return data.external_id.strip()


@dataclass
class UpdatePlan:
    """A validated change of a customer: its problems, or what the customer becomes."""

    problems: Problems
    external_id: str = ""
    address: Address | None = None
    meetings_timezone: str | None = None
    billing_start: date | None = None
    location_language: str | None = None
    packages: list[CustomerPackage] = field(default_factory=list)  # kept, new or retried
    removed: list[CustomerPackage] = field(default_factory=list)  # dropped: now `deleting`
    rescreen: bool = False  # R-RPL-1: screened again whenever the billing address changes


def plan_update(current: Customer, owner: Partner, data: CustomerUpdate, facts: UpdateFacts) -> UpdatePlan:
    """Every problem of a change of `current` (R-PRE, R-CUS-2/3, R-PKG-6, R-BILLSTART), or what it becomes."""
    problems = Problems()
    plan = UpdatePlan(problems)
    packages = list(data.packages)
    problems.extend(customer_package_problems(packages, "input", "packages"))
    for held in current.packages:
        if held.name not in packages and facts.assigned.get(held.name, 0):
            problems.add(ErrorCode.PACKAGE_IN_USE,
                         f"`{held.name}` is held by subscribers or workspaces; move or delete them first",
                         "input", "packages")
    plan.external_id = current.external_id
    if (external_id := requested_external_id(current, data)) is not None:
        problems.text(data.external_id, 100, "input", "externalId")
        plan.external_id = external_id
        if external_id and facts.external_id_taken:
            problems.add(ErrorCode.DUPLICATE_EXTERNAL_ID, "a customer with this externalId exists",
                         "input", "externalId")
    plan.address = current.address
    if data.address is not None:
        problems.address(data.address, "input", "address")
        plan.address = clean_address(data.address)
    params = data.parameters or Parameters()
    path = ("input", "provisioningParameters")
    if params.calling_location is not None:
        plan.location_language = _location_problems(params.calling_location, problems, *path, "callingLocation")
    elif needs_location([p for p in packages if p not in {o.name for o in current.packages}]) and \
            not facts.locations:
        problems.add(ErrorCode.REQUIRED, "calling packages need the calling location parameters", *path,
                     "callingLocation")
    plan.meetings_timezone = current.meetings_timezone
    if params.meetings_timezone is not None:
        problems.timezone(params.meetings_timezone, *path, "meetingsTimezone")
        plan.meetings_timezone = params.meetings_timezone.strip()
    elif has_meetings(packages) and plan.meetings_timezone is None:
        if params.calling_location is not None:
            plan.meetings_timezone = params.calling_location.timezone.strip()
        elif facts.locations:
            plan.meetings_timezone = facts.locations[0]["timezone"]
        else:
            problems.add(ErrorCode.REQUIRED, "meetings packages need a meetings time zone", *path, "meetingsTimezone")
    limits = _limits(data.parameters, packages, problems, *path, "limits")
    if limits is None:
        limits = {p.name: p.limit for p in current.packages if p.limit is not None and p.name in packages}
    for package, limit in limits.items():
        if limit < facts.assigned.get(package, 0):
            problems.add(ErrorCode.PACKAGE_LIMIT_REACHED,
                         f"`{package}` is held by {facts.assigned[package]} subscribers, more than {limit}",
                         *path, "limits")
    plan.billing_start = current.billing_start_date
    if data.billing_start_date is not None and data.billing_start_date != current.billing_start_date:
        started_on = current.billing_start_date or current.created_at.date()
        if started_on <= facts.today:
            problems.add(ErrorCode.BILLING_ALREADY_STARTED, f"billing started on {started_on}; it cannot move",
                         "input", "billingStartDate")
        else:
            _billing_start_problems(owner, data.billing_start_date, current.created_at.date(), problems,
                                    "input", "billingStartDate")
        plan.billing_start = data.billing_start_date
    if problems.items:
        return plan
    plan.rescreen = plan.address != current.address
    old = {p.name: p for p in current.packages}
    for name in packages:
        kept = old.get(name)
        if kept is not None and kept.status is PackageStatus.PROVISIONED:
            plan.packages.append(kept.model_copy(update={"limit": limits.get(name)}))
        else:  # new, or a failed package that the update retries
            plan.packages.append(CustomerPackage(name=name, status=PackageStatus.PROVISIONING, limit=limits.get(name)))
    plan.removed = [p.model_copy(update={"status": PackageStatus.DELETING}) for p in current.packages
                    if p.name not in packages]
    return plan
