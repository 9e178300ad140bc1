"""The rules of orders and the setup wizard (DOMAIN.md §12, R-ORD-1…8): pure functions of an order, the request
and the facts the service loaded for it. Every check reports all its problems at once (R-ORD-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from domain.model.errors import ErrorCode, FieldError
from domain.model.orders import LINK_STATES, ORDER_MOVES, Order, OrderStatus, ResaleOffer, SetupResponsibility
from domain.model.trials import ResaleService
from domain.rules.customers import CallingLocation
from domain.rules.locales import resolve_locale
from domain.rules.validation import Problems

MIN_QUANTITY, MAX_QUANTITY = 1, 100_000  # R-ORD-1
START_WINDOW = timedelta(days=365)  # R-ORD-1: requestedStartDate today..today + 365 days
FOLLOW_UP_AFTER_EMAIL = timedelta(hours=24)  # R-ORD-3
ORDERABLE: frozenset[ResaleService] = frozenset({ResaleService.MESSAGING, ResaleService.MEETINGS,
                                                 ResaleService.CALLING})


@dataclass(frozen=True)
class NewOrder:
    offer: ResaleOffer
    lines: tuple[tuple[ResaleService, int], ...]
    requested_start_date: date
    provisioning_contact_email: str
    meetings_site_url: str | None = None


def order_problems(data: NewOrder, today: date, *prefix: str, latest: date | None = None,
                   conversion: bool = False) -> Problems:
    """R-ORD-1: lines, the start-date window (`latest` narrows it, R-TRI-10), the contact; every problem at once."""
    problems = Problems()
    if not data.lines:
        problems.add(ErrorCode.REQUIRED, "an order needs at least one line", *prefix, "lines")
    seen: set[ResaleService] = set()
    for i, (service, quantity) in enumerate(data.lines):
        if service not in ORDERABLE:
            problems.add(ErrorCode.VALIDATION_FAILED, f"`{service.value}` cannot be ordered (devices are trial-only)",
                         *prefix, "lines", str(i), "service")
        elif service in seen:
            problems.add(ErrorCode.VALIDATION_FAILED, f"`{service.value}` is on two lines", *prefix, "lines", str(i),
                         "service")
        seen.add(service)
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            problems.add(ErrorCode.VALIDATION_FAILED, f"`quantity` must be {MIN_QUANTITY} to {MAX_QUANTITY}",
                         *prefix, "lines", str(i), "quantity")
    last = today + START_WINDOW
    if latest is not None and latest < last:
        last = latest
    if not today <= data.requested_start_date <= last:
        problems.add(ErrorCode.REQUESTED_START_DATE_INVALID,
                     f"`requestedStartDate` must lie between {today} and {last}", *prefix, "requestedStartDate")
    problems.email(data.provisioning_contact_email, *prefix, "provisioningContactEmail")
    if data.meetings_site_url is not None and not conversion:
        problems.add(ErrorCode.VALIDATION_FAILED, "`meetingsSiteUrl` is for converting a trial; a new order chooses "
                     "its site in the setup wizard", *prefix, "meetingsSiteUrl")
    return problems


def move_problem(order: Order, to: OrderStatus) -> FieldError | None:
    """R-ORD-STATE: INVALID_STATE for a move the table does not allow."""
    if to in ORDER_MOVES[order.status]:
        return None
    return FieldError(ErrorCode.INVALID_STATE, f"an order in status `{order.status.value}` cannot become "
                      f"`{to.value}`", ("id",))


def setup_starts_at(requested: date) -> datetime:
    """R-ORD-STATE: `placed` -> `awaiting_setup` at the requested start date's 00:00 UTC."""
    return datetime.combine(requested, time(0), tzinfo=UTC)


def follow_up_at(order: Order) -> datetime | None:
    """R-ORD-3: max(requestedStartDate + 1 day 00:00 UTC, setup email + 24 h); None before the setup email."""
    if order.setup_email_sent_at is None:
        return None
    return max(setup_starts_at(order.requested_start_date + timedelta(days=1)),
               order.setup_email_sent_at + FOLLOW_UP_AFTER_EMAIL)


def follow_up_due(order: Order, now: datetime) -> bool:
    """R-ORD-3: once, only while the order has not reached `provisioning`."""
    at = follow_up_at(order)
    return (at is not None and now >= at and not order.follow_up_sent
            and order.status in (OrderStatus.AWAITING_SETUP, OrderStatus.SET_UP))


def partner_runs_wizard(order: Order) -> bool:
    """R-ORD-4: the owner's admins may run the wizard only while the setup is the partner's."""
    return order.setup_by in (SetupResponsibility.PARTNER, SetupResponsibility.PARTNER_COLLEAGUE)


def link_usable(order: Order, link_version: int) -> bool:
    """R-NOT-6: a setup link works only while its version is the order's and the order is awaiting_setup|set_up."""
    return order.link_version == link_version and order.status in LINK_STATES


def handover_problems(order: Order, to: SetupResponsibility, email: str) -> Problems:
    """R-ORD-4: to a colleague or the customer while awaiting setup; never back to PARTNER, nothing after CUSTOMER."""
    problems = Problems()
    if to is SetupResponsibility.PARTNER:
        problems.add(ErrorCode.VALIDATION_FAILED, "hand the setup over to PARTNER_COLLEAGUE or CUSTOMER", "to")
    if order.status is not OrderStatus.AWAITING_SETUP:
        problems.add(ErrorCode.INVALID_STATE, f"the order is `{order.status.value}`: only an order awaiting its "
                     "setup can be handed over", "id")
    elif order.setup_by is SetupResponsibility.CUSTOMER:
        problems.add(ErrorCode.INVALID_STATE, "the setup was handed to the customer: no further handover", "id")
    problems.email(email, "email")
    return problems


def resend_problems(order: Order, contact: str | None) -> Problems:
    """R-ORD-2: the owner resends the setup email while it awaits setup (optionally to a new contact)."""
    problems = Problems()
    if order.status is not OrderStatus.AWAITING_SETUP:
        problems.add(ErrorCode.INVALID_STATE, f"the order is `{order.status.value}`: the setup email is sent once it "
                     "awaits its setup", "id")
    elif order.setup_by is SetupResponsibility.CUSTOMER:
        problems.add(ErrorCode.INVALID_STATE, "the setup was handed to the customer", "id")
    if contact is not None:
        problems.email(contact, "provisioningContactEmail")
    return problems


@dataclass(frozen=True)
class SetupData:
    """The wizard's steps 5-10 (R-ORD-5), as `completeOrderSetup` receives them."""

    partner_org_confirmed: bool
    customer_admin_email: str
    confirm_existing_org_id: str | None = None
    new_org_name: str | None = None
    new_org_country: str | None = None
    new_org_given: bool = False
    subdomain: str | None = None
    calling_location: CallingLocation | None = None
    meetings_site_url: str | None = None
    meetings_timezone: str | None = None


@dataclass(frozen=True)
class ExistingOrg:
    """The org the customer admin's email belongs to (R-TRI-4 lookup)."""

    id: str
    wholesale: bool = False
    purging: bool = False


@dataclass(frozen=True)
class SetupFacts:
    """What a completion is judged against, loaded by the service with the orgs slice's checks."""

    existing_org: ExistingOrg | None
    subdomain_problem: ErrorCode | None = None  # R-ORD-6 syntax, stored org, held by an order, reserved
    site_problem: ErrorCode | None = None  # the same for the meetings site name
    new_org_problems: Sequence[FieldError] = field(default_factory=tuple)  # R-TRI-3 on the new org's data
    conversion_admins: frozenset[str] | None = None  # a conversion: the trial org's admins (R-TRI-10)


def setup_problems(order: Order, data: SetupData, facts: SetupFacts) -> Problems:
    """R-ORD-5: every problem of steps 5-10 at once; none means the completion may commit."""
    problems = Problems()
    if order.status is not OrderStatus.AWAITING_SETUP:
        problems.add(ErrorCode.INVALID_STATE, f"the order is `{order.status.value}`: only an order awaiting its "
                     "setup can be completed", "id")
    if not data.partner_org_confirmed:  # conflict (f): the partner org exists; the wizard confirms it
        problems.add(ErrorCode.CONFIRMATION_REQUIRED, "confirm the partner organisation", "input",
                     "partnerOrgConfirmed")
    problems.email(data.customer_admin_email, "input", "customerAdminEmail")
    email = data.customer_admin_email.strip().lower()
    org = facts.existing_org
    if facts.conversion_admins is not None:
        if email not in facts.conversion_admins:
            problems.add(ErrorCode.CONVERSION_EMAIL_MISMATCH, "a conversion keeps the trial org: name one of its "
                         "admins", "input", "customerAdminEmail")
    elif org is not None:
        if org.wholesale or org.purging:
            problems.add(ErrorCode.ORG_NOT_ELIGIBLE, "this admin's org cannot take a resale order", "input",
                         "customerAdminEmail")
        elif data.confirm_existing_org_id != org.id:
            problems.add(ErrorCode.CONFIRMATION_REQUIRED, "this admin belongs to an existing org: confirm it by its "
                         "id", "input", "confirmExistingOrgId")
        if data.new_org_given:
            problems.add(ErrorCode.VALIDATION_FAILED, "the admin belongs to an existing org: no new org is made",
                         "input", "newOrg")
    else:
        if data.confirm_existing_org_id is not None:
            problems.add(ErrorCode.NOT_FOUND, "the admin's email belongs to no org", "input", "confirmExistingOrgId")
        if not data.new_org_given:
            problems.add(ErrorCode.REQUIRED, "a new org needs its name and country", "input", "newOrg")
        problems.extend(list(facts.new_org_problems))
        if data.subdomain is None or not data.subdomain.strip():
            problems.add(ErrorCode.REQUIRED, "a new org needs a subdomain", "input", "subdomain")
        elif facts.subdomain_problem is not None:
            problems.add(facts.subdomain_problem, _NAME_MESSAGES[facts.subdomain_problem], "input", "subdomain")
    if ResaleService.CALLING in order.services:
        if data.calling_location is None:
            problems.add(ErrorCode.REQUIRED, "a CALLING order needs a calling location", "input", "callingLocation")
        else:
            location_problems(data.calling_location, problems, "input", "callingLocation")
    if ResaleService.MEETINGS in order.services and order.meetings_site_url is None:
        if data.meetings_site_url is None:
            problems.add(ErrorCode.REQUIRED, "a MEETINGS order needs its site", "input", "meetings")
        else:
            if facts.site_problem is not None:
                problems.add(facts.site_problem, _NAME_MESSAGES[facts.site_problem], "input", "meetings", "siteUrl")
            problems.timezone(data.meetings_timezone, "input", "meetings", "timezone")
    return problems


_NAME_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.SUBDOMAIN_INVALID: "3-63 characters of a-z, 0-9 and -, not starting or ending with -",
    ErrorCode.SUBDOMAIN_TAKEN: "this subdomain is taken",
    ErrorCode.SITE_URL_TAKEN: "this site name is taken",
    ErrorCode.VALIDATION_FAILED: "not a valid name",
}


def location_problems(location: CallingLocation, problems: Problems, *path: str) -> None:
    """R-CUS-3 / R-LOC on the wizard's calling location."""
    problems.text(location.name, 80, *path, "name")
    problems.address(location.address, *path, "address")
    problems.timezone(location.timezone, *path, "timezone")
    if not resolve_locale(location.language.strip(), location.address.country.strip().upper(), ""):
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code",
                     *path, "language")
    problems.text(location.emergency_location_identifier, 100, *path, "emergencyLocationIdentifier", required=False)
