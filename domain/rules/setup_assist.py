"""The rules of Setup Assist (DOMAIN.md §18, R-SA-1/2): pure functions of the request and the facts loaded for it.

Setup Assist is Cisco's paid help setting up one location of a provisioned customer. Its SKU follows from the
location's seats when it is requested (calling subscribers plus workspaces): up to 5 seats is EXPRESS, a flat
fee billed once; more is STANDARD, billed per seat. Either is billed once, on the day the request is completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.model.entities import Customer, CustomerStatus
from domain.model.errors import ErrorCode
from domain.model.setup_assist import SetupAssistRequest, SetupAssistSku
from domain.model.status import SETUP_ASSIST, SetupAssistStatus
from domain.rules.validation import Problems

LEAD_TIME_BUSINESS_DAYS = 6  # R-SA-1
EXPRESS_MAX_SEATS = 5  # R-SA-1
CONTACT_NAME_MAX_LENGTH = 100  # (decision)
# The customer states a request may be made in (R-SA-1: provisioned*).
REQUESTABLE: frozenset[CustomerStatus] = frozenset({CustomerStatus.PROVISIONED, CustomerStatus.PROVISIONED_WITH_ERRORS})
# The billing ledger's service names of the two SKUs (their SKU codes are in the catalogue's SERVICES).
BILLED_SERVICE: dict[SetupAssistSku, str] = {SetupAssistSku.EXPRESS: "setup_assist_express",
                                             SetupAssistSku.STANDARD: "setup_assist_standard"}


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday; no holidays are known) after `start`."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def earliest_target(today: date) -> date:
    """R-SA-1: the first date a request made `today` may name."""
    return add_business_days(today, LEAD_TIME_BUSINESS_DAYS)


def sku_for(seats: int) -> SetupAssistSku:
    return SetupAssistSku.EXPRESS if seats <= EXPRESS_MAX_SEATS else SetupAssistSku.STANDARD


def billed_quantity(request: SetupAssistRequest) -> float:
    """R-SA-2: what its one billing row counts: 1 (EXPRESS, flat) or its seats (STANDARD, per seat)."""
    return 1.0 if request.sku is SetupAssistSku.EXPRESS else float(request.seats)


@dataclass(frozen=True)
class NewSetupAssist:
    location_id: str
    contact_name: str
    contact_email: str
    target_date: date


@dataclass(frozen=True)
class SetupAssistFacts:
    """What a request is judged against, loaded by the service (the location is the caller's, or None)."""

    customer: Customer | None
    open_request: bool  # the location has a submitted or in-progress request
    seats: int
    today: date


@dataclass
class SetupAssistPlan:
    problems: Problems
    sku: SetupAssistSku = SetupAssistSku.EXPRESS
    seats: int = 0


def plan_setup_assist(data: NewSetupAssist, facts: SetupAssistFacts) -> SetupAssistPlan:
    """Every problem of a Setup Assist request (R-SA-1), or its SKU and seats."""
    problems = Problems()
    plan = SetupAssistPlan(problems)
    customer = facts.customer
    if customer is None:
        problems.add(ErrorCode.NOT_FOUND, "no location has this id", "input", "locationId")
    elif customer.status not in REQUESTABLE:
        problems.add(ErrorCode.INVALID_STATE, f"the location's customer is `{customer.status.value}`: Setup Assist "
                     "needs a provisioned customer", "input", "locationId")
    elif facts.open_request:
        problems.add(ErrorCode.INVALID_STATE, "this location already has an open Setup Assist request",
                     "input", "locationId")
    problems.text(data.contact_name, CONTACT_NAME_MAX_LENGTH, "input", "contactName")
    problems.email(data.contact_email, "input", "contactEmail")
    earliest = earliest_target(facts.today)
    if data.target_date < earliest:
        problems.add(ErrorCode.SETUP_ASSIST_LEAD_TIME, f"`targetDate` must be at least {LEAD_TIME_BUSINESS_DAYS} "
                     f"business days ahead: {earliest} or later", "input", "targetDate")
    plan.seats = facts.seats
    plan.sku = sku_for(facts.seats)
    return plan


def move_problems(request: SetupAssistRequest, to: SetupAssistStatus, *, by_platform: bool) -> Problems:
    """R-SA-2: the platform moves a request along its machine; the partner may only cancel it while submitted."""
    problems = Problems()
    if not by_platform and (to is not SetupAssistStatus.CANCELLED or request.status is not SetupAssistStatus.SUBMITTED):
        problems.add(ErrorCode.INVALID_STATE, f"the request is `{request.status.value}`: the partner may cancel it "
                     "only while it is submitted", "id")
    elif to not in SETUP_ASSIST[request.status]:
        problems.add(ErrorCode.INVALID_STATE, f"a request in status `{request.status.value}` cannot become "
                     f"`{to.value}`", "status" if by_platform else "id")
    return problems
