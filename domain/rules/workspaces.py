"""The rules of a workspace's provisioning request and of its changes (DOMAIN.md §14: R-WS-1, with R-PKG-6,
R-SUB-1 amended for its numbers and §6 for its location): pure functions of the request, the customer and the
facts the service loaded for them.

Like the subscriber rules, the checks against other records (name, numbers, the package limit) are made twice
with the same function: on facts read before the transaction (every problem at once) and on facts read inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.model.entities import Customer, PackageStatus
from domain.model.errors import ErrorCode, FieldError
from domain.model.workspaces import WORKSPACE_PACKAGE, Workspace, name_key
from domain.rules.packages import calling_problems, number_country_problems
from domain.rules.subscribers import CLOSED, blank_to_none
from domain.rules.validation import Problems

NAME_MAX_LENGTH = 80  # R-WS-1 (decision: the Locations API's limit)


@dataclass(frozen=True)
class NewWorkspace:
    customer_id: str
    name: str
    location_id: str | None = None
    primary_phone_number: str | None = None
    extension: str | None = None


@dataclass(frozen=True)
class WorkspaceUpdate:
    """A change: a field left None keeps its value; an empty number or extension removes it (decision)."""

    name: str | None = None
    location_id: str | None = None
    primary_phone_number: str | None = None
    extension: str | None = None


@dataclass(frozen=True)
class WorkspaceHoldings:
    """What the customer's other records hold of what a request asks for."""

    held: int = 0  # workspaces holding common_area_calling (counted only for a new workspace)
    name_taken: bool = False  # another workspace of the customer has this name
    phone_taken: bool = False  # a subscriber or another workspace of the customer has this number
    extension_taken: bool = False  # ... this extension


@dataclass(frozen=True)
class WorkspaceFacts:
    customer: Customer | None  # the customer named by the request, if the owner has it
    locations: Sequence[Mapping[str, object]] = ()  # the customer's, headquarters first
    holdings: WorkspaceHoldings = field(default_factory=WorkspaceHoldings)


@dataclass
class WorkspacePlan:
    """A validated request: its problems, or what the workspace becomes."""

    problems: Problems
    customer: Customer | None = None
    name: str = ""
    location_id: str | None = None
    primary_phone_number: str | None = None
    extension: str | None = None


def package_problems(customer: Customer, held: int, *prefix: str) -> list[FieldError]:
    """R-WS-1: the customer holds common_area_calling, and a new workspace stays within its limit (R-PKG-6)."""
    package = next((p for p in customer.packages if p.name == WORKSPACE_PACKAGE
                    and p.status is not PackageStatus.DELETING), None)
    if package is None:
        return [FieldError(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, f"the customer does not have `{WORKSPACE_PACKAGE}`",
                           (*prefix, "customerId"))]
    if package.limit is not None and held >= package.limit:
        return [FieldError(ErrorCode.PACKAGE_LIMIT_REACHED,
                           f"`{WORKSPACE_PACKAGE}` is limited to {package.limit} workspaces", (*prefix, "customerId"))]
    return []


def conflict_problems(customer: Customer, name: str, phone: str | None, extension: str | None,
                      holdings: WorkspaceHoldings, *prefix: str, new: bool = True) -> list[FieldError]:
    """What other records decide (R-WS-1): the package and its limit (a new workspace only), a name unique in the
    customer, numbers unique in the customer across subscribers and workspaces."""
    problems = package_problems(customer, holdings.held, *prefix) if new else []
    if name and holdings.name_taken:
        problems.append(FieldError(ErrorCode.NAME_IN_USE, "another workspace of this customer has this name",
                                   (*prefix, "name")))
    if phone is not None and holdings.phone_taken:
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "a subscriber or workspace of this customer has this "
                                   "number", (*prefix, "primaryPhoneNumber")))
    if extension is not None and holdings.extension_taken:
        problems.append(FieldError(ErrorCode.NUMBER_IN_USE, "a subscriber or workspace of this customer has this "
                                   "extension", (*prefix, "extension")))
    return problems


def located(customer: Customer, location_id: str | None, locations: Sequence[Mapping[str, object]],
            problems: Problems, *prefix: str) -> tuple[str | None, str]:
    """The workspace's location (default: the headquarters, listed first) and the country its number belongs to
    (the location's; without one, the customer's billing country)."""
    chosen = location_id if location_id is not None else (str(locations[0]["_id"]) if locations else None)
    found = next((d for d in locations if d["_id"] == chosen), None)
    if location_id is not None and found is None:
        problems.add(ErrorCode.NOT_FOUND, "the customer has no location with this id", *prefix, "locationId")
    elif chosen is None:
        problems.add(ErrorCode.REQUIRED, "the customer has no calling location yet", *prefix, "locationId")
    address = found["address"] if found is not None else None
    country = address["country"] if isinstance(address, Mapping) else customer.address.country
    return chosen, str(country)


def _numbers(phone: str | None, extension: str | None, problems: Problems, *prefix: str) -> None:
    """R-WS-1 / R-SUB-1: a valid number and/or extension, at least one of them."""
    problems.extend(calling_problems(WORKSPACE_PACKAGE, phone, extension, None, *prefix))
    if phone is None and extension is None:
        problems.add(ErrorCode.CALLING_NUMBER_REQUIRED, "a workspace needs a primaryPhoneNumber or an extension",
                     *prefix, "primaryPhoneNumber")


def plan_new_workspace(data: NewWorkspace, facts: WorkspaceFacts) -> WorkspacePlan:
    """Every problem of a provisioning request (R-WS-1, R-PRE), and where the workspace goes."""
    problems = Problems()
    p = ("input",)
    plan = WorkspacePlan(problems, name=" ".join(data.name.split()))
    problems.text(data.name, NAME_MAX_LENGTH, *p, "name")
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    plan.primary_phone_number, plan.extension = phone, extension
    _numbers(phone, extension, problems, *p)
    customer = facts.customer
    if customer is None:
        problems.add(ErrorCode.NOT_FOUND, "no customer has this id", *p, "customerId")
        return plan
    plan.customer = customer
    if customer.status in CLOSED:
        problems.add(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`", *p, "customerId")
        return plan
    plan.location_id, country = located(customer, data.location_id, facts.locations, problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    problems.extend(conflict_problems(customer, plan.name, phone, extension, facts.holdings, *p))
    return plan


def updated_values(current: Workspace, data: WorkspaceUpdate) -> tuple[str, str | None, str | None]:
    """The name, number and extension a change leaves the workspace with (None in the request: kept)."""
    name = " ".join(data.name.split()) if data.name is not None else current.name
    phone = blank_to_none(data.primary_phone_number) if data.primary_phone_number is not None \
        else current.primary_phone_number
    extension = blank_to_none(data.extension) if data.extension is not None else current.extension
    return name, phone, extension


def plan_workspace_update(current: Workspace, customer: Customer, data: WorkspaceUpdate,
                          facts: WorkspaceFacts) -> WorkspacePlan:
    """Every problem of a change of `current` (R-WS-1), and what it becomes; a move to another location is the
    update of `locationId` (R-LOCN-2)."""
    problems = Problems()
    p = ("input",)
    name, phone, extension = updated_values(current, data)
    plan = WorkspacePlan(problems, customer, name, primary_phone_number=phone, extension=extension)
    if data.name is not None:
        problems.text(data.name, NAME_MAX_LENGTH, *p, "name")
    _numbers(phone, extension, problems, *p)
    plan.location_id, country = located(customer, data.location_id or current.location_id, facts.locations,
                                        problems, *p)
    problems.extend(number_country_problems(phone, country, *p))
    # Only what changes is checked against the others: a workspace never conflicts with itself.
    holdings = facts.holdings
    problems.extend(conflict_problems(
        customer, name if name_key(name) != current.name_key else "",
        phone if phone != current.primary_phone_number else None,
        extension if extension != current.extension else None, holdings, *p, new=False))
    return plan


def changed(current: Workspace, plan: WorkspacePlan) -> bool:
    """Whether a validated change changes anything at all."""
    return (plan.name, plan.location_id, plan.primary_phone_number, plan.extension) != (
        current.name, current.location_id, current.primary_phone_number, current.extension)
