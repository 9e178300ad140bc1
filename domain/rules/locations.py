"""The rules of a customer's locations (DOMAIN.md §6, R-LOCN-1/2): pure functions of the request, the customer,
the location as it is and the facts the service loaded for them.

A customer gets its headquarters from the calling parameters of its provisioning; branches are added, changed
and deleted here, synchronously (no Webex-side job), with no RPL screening.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.model.entities import Address, Customer, CustomerStatus, Location, PackageStatus
from domain.model.errors import ErrorCode
from domain.rules.catalogue import CATALOGUE
from domain.rules.customers import CallingLocation, clean_address
from domain.rules.locales import resolve_locale
from domain.rules.validation import Problems

NAME_MAX_LENGTH = 80  # R-LOCN-1 (the Locations API's limit for calling-enabled locations)
EMERGENCY_ID_MAX_LENGTH = 100
# The customer states in which its locations may change (R-LOCN-1).
CHANGEABLE: frozenset[CustomerStatus] = frozenset(
    {CustomerStatus.PROVISIONED, CustomerStatus.PROVISIONED_WITH_ERRORS, CustomerStatus.UPDATING})
# What a location's events say it is: it has no status of its own, it exists or it is gone.
ACTIVE = "active"
# The stored fields an update may change, in the order their changes are reported (R-AUD-1).
UPDATABLE_FIELDS = ("name", "address", "timezone", "language", "emergencyLocationIdentifier")


@dataclass(frozen=True)
class LocationUpdate:
    """A change of a location: each field absent (None) stays as it is."""

    name: str | None = None
    address: Address | None = None
    timezone: str | None = None
    language: str | None = None
    emergency_location_identifier: str | None = None


@dataclass
class LocationPlan:
    """A validated request: its problems, or the stored fields the location gets (all of them for a new one, the
    changed ones for an update)."""

    problems: Problems
    fields: dict[str, Any] = field(default_factory=dict)


def holds_calling(customer: Customer) -> bool:
    """R-LOCN-1: branches need a calling package, common-area calling included (one that is not being removed)."""
    return any(p.status is not PackageStatus.DELETING and (spec := CATALOGUE.get(p.name)) is not None
               and (spec.calling or p.name == "common_area_calling") for p in customer.packages)


def customer_problems(customer: Customer, *path: str) -> Problems:
    """Whether the customer's locations may change now: a calling customer (LOCATION_NOT_ALLOWED), settled or being
    updated (INVALID_STATE)."""
    problems = Problems()
    if not holds_calling(customer):
        problems.add(ErrorCode.LOCATION_NOT_ALLOWED, "locations need a calling package (common-area calling included)",
                     *path)
    elif customer.status not in CHANGEABLE:
        problems.add(ErrorCode.INVALID_STATE,
                     f"the customer is `{customer.status.value}`: locations change only once it is provisioned", *path)
    return problems


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def name_taken(name: str, existing: Sequence[Mapping[str, Any]], exclude: str | None = None) -> bool:
    """R-LOCN-1: names are unique per customer, compared without case and surrounding or repeated spaces."""
    key = _name_key(name)
    return any(d["_id"] != exclude and _name_key(str(d.get("name", ""))) == key for d in existing)


def _name(name: str, existing: Sequence[Mapping[str, Any]], exclude: str | None, problems: Problems) -> None:
    before = len(problems.items)
    problems.text(name, NAME_MAX_LENGTH, "input", "name")
    if len(problems.items) == before and name_taken(name, existing, exclude):
        problems.add(ErrorCode.NAME_IN_USE, "another location of this customer has this name", "input", "name")


def _language(language: str, country: str, problems: Problems) -> str | None:
    locale = resolve_locale(language.strip(), country.strip().upper(), "") if language.strip() else None
    if not locale:
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code (R-LOC-3)",
                     "input", "language")
    return locale


def _emergency_id(value: str | None, problems: Problems) -> str | None:
    problems.text(value, EMERGENCY_ID_MAX_LENGTH, "input", "emergencyLocationIdentifier", required=False)
    return value.strip() or None if value is not None else None


def plan_new_location(customer: Customer, data: CallingLocation, existing: Sequence[Mapping[str, Any]]
                      ) -> LocationPlan:
    """Every problem of a new branch of `customer` (R-LOCN-1), or the fields it is stored with."""
    problems = customer_problems(customer, "customerId")
    plan = LocationPlan(problems)
    _name(data.name, existing, None, problems)
    problems.address(data.address, "input", "address")
    problems.timezone(data.timezone, "input", "timezone")
    language = _language(data.language, data.address.country, problems)
    emergency = _emergency_id(data.emergency_location_identifier, problems)
    if problems.items:
        return plan
    plan.fields = {"name": data.name.strip(), "address": clean_address(data.address),
                   "timezone": data.timezone.strip(), "language": language,
                   "emergency_location_identifier": emergency}
    return plan


def plan_location_update(customer: Customer, current: Location, data: LocationUpdate,
                         existing: Sequence[Mapping[str, Any]]) -> LocationPlan:
    """Every problem of a change of `current` (R-LOCN-1), or the fields that change (none: nothing to do)."""
    problems = customer_problems(customer, "id")
    plan = LocationPlan(problems)
    wanted: dict[str, Any] = {}
    if data.name is not None:
        _name(data.name, existing, current.id, problems)
        wanted["name"] = data.name.strip()
    if data.address is not None:
        problems.address(data.address, "input", "address")
        wanted["address"] = clean_address(data.address)
    if data.timezone is not None:
        problems.timezone(data.timezone, "input", "timezone")
        wanted["timezone"] = data.timezone.strip()
    if data.language is not None:
        country = (data.address or current.address).country
        wanted["language"] = _language(data.language, country, problems)
    if data.emergency_location_identifier is not None:
        # An empty string clears it.
        wanted["emergency_location_identifier"] = _emergency_id(data.emergency_location_identifier, problems)
    if problems.items:
        return plan
    plan.fields = {k: v for k, v in wanted.items() if getattr(current, k) != v}
    return plan


@dataclass(frozen=True)
class LocationUse:
    """What still belongs to a location the partner wants to delete (loaded by the service)."""

    subscribers: int
    workspaces: int
    open_setup_assist: bool = False


def deletion_problems(customer: Customer, location: Location, use: LocationUse) -> Problems:
    """R-LOCN-2: the headquarters, and a location anything still belongs to, cannot be deleted (no cascade)."""
    problems = customer_problems(customer, "id")
    if problems.items:
        return problems
    if location.is_headquarters:
        problems.add(ErrorCode.LOCATION_IN_USE, "the headquarters location cannot be deleted", "id")
    elif use.subscribers or use.workspaces:
        problems.add(ErrorCode.LOCATION_IN_USE,
                     f"{use.subscribers} subscribers and {use.workspaces} workspaces belong to this location; "
                     "move or delete them first", "id")
    elif use.open_setup_assist:
        problems.add(ErrorCode.LOCATION_IN_USE, "an open Setup Assist request is for this location; cancel it first",
                     "id")
    return problems
