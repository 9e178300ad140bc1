"""The data tables and pure checks of the resale journeys (DOMAIN.md §10, §12): industries (R-TRI-3), served
countries and their data-residency regions (R-TRI-3), reserved names and the name syntax (R-ORD-6), device types
(R-TRI-7), and what an org lets a partner trial (R-TRI-4).

Each check adds its problems to a `Problems` (so a request reports all of them at once) under the field path given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.model.customer_orgs import CustomerOrg, ResaleService, SubdomainKind
from domain.model.errors import ErrorCode
from domain.rules.validation import Problems, iana_timezones

# R-TRI-3: the company name's limit.
COMPANY_NAME_MAX_LENGTH = 80

# R-TRI-3: the industries a trial may name, matched case-insensitively (stored in this spelling).
INDUSTRIES: tuple[str, ...] = (
    "Education", "Finance", "Government", "Healthcare", "Hospitality", "Legal", "Manufacturing", "Media",
    "Non-profit", "Professional Services", "Real Estate", "Retail", "Technology", "Telecommunications",
    "Transportation", "Utilities", "Other",
)
_INDUSTRY_BY_KEY = {i.casefold(): i for i in INDUSTRIES}

# R-TRI-3: the countries resale serves (ISO-3166 alpha-2) and the data-residency region of each (decision: the
# regions Webex hosts customer data in; countries outside the table → COUNTRY_NOT_SUPPORTED).
_REGIONS: dict[str, str] = {
    "US": "US CA MX BR AR CL CO PE",
    "EU": "DE FR NL BE LU AT IE IT ES PT DK SE FI NO PL CZ CH GB",
    "APJC": "AU NZ JP SG IN HK KR",
}
DATA_REGION_OF: dict[str, str] = {c: region for region, codes in _REGIONS.items() for c in codes.split()}

# R-ORD-6: names nobody may take (decision: Webex's own, and generic infrastructure names).
RESERVED_NAMES: frozenset[str] = frozenset({
    "admin", "api", "app", "auth", "cisco", "help", "idbroker", "login", "mail", "meet", "meetings", "support",
    "status", "test", "webex", "www",
})

# R-TRI-7: the device types a trial may ship.
DEVICE_TYPES: tuple[str, ...] = ("desk_phone", "headset", "room_kit", "desk_pro")

NAME_MIN_LENGTH = 3
NAME_MAX_LENGTH = 63
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
SITE_DOMAIN = ".webex.com"


def normalise_name(value: str) -> str:
    """R-ORD-6: names compare lower-cased, without surrounding spaces."""
    return value.strip().lower()


def subdomain_problem(value: str) -> str | None:
    """Why `value` is not a valid subdomain or site name (R-ORD-6), or None. Checked after `normalise_name`."""
    name = normalise_name(value)
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        return f"must be {NAME_MIN_LENGTH} to {NAME_MAX_LENGTH} characters long"
    if not _NAME.match(name):
        return "may hold only a-z, 0-9 and '-', and may not start or end with '-'"
    return None


def is_reserved(value: str) -> bool:
    return normalise_name(value) in RESERVED_NAMES


def taken_code(kind: SubdomainKind) -> ErrorCode:
    """R-ORD-6: each namespace has its own code."""
    return ErrorCode.SITE_URL_TAKEN if kind is SubdomainKind.MEETINGS_SITE else ErrorCode.SUBDOMAIN_TAKEN


def check_subdomain(problems: Problems, value: str | None, kind: SubdomainKind, *field: str) -> str | None:
    """The normalised name if its syntax is valid and it is not reserved; else the problem is added (R-ORD-6)."""
    if value is None or not value.strip():
        problems.add(ErrorCode.REQUIRED, f"`{field[-1]}` is required", *field)
        return None
    if (problem := subdomain_problem(value)) is not None:
        problems.add(ErrorCode.SUBDOMAIN_INVALID, f"`{field[-1]}` {problem}", *field)
        return None
    if is_reserved(value):
        problems.add(taken_code(kind), f"`{field[-1]}` is reserved", *field)
        return None
    return normalise_name(value)


def site_name_of_url(value: str) -> str:
    """A Meetings site given as `name` or `name.webex.com` (any case) → `name` (R-TRI-3, R-ORD-6)."""
    name = normalise_name(value)
    return name[: -len(SITE_DOMAIN)] if name.endswith(SITE_DOMAIN) else name


def site_url(name: str) -> str:
    return f"{normalise_name(name)}{SITE_DOMAIN}"


def check_site(problems: Problems, value: str | None, *field: str) -> str | None:
    """A Meetings site name (`acme` or `acme.webex.com`): the bare name if valid (R-TRI-3, R-ORD-6)."""
    if value is None or not value.strip():
        return check_subdomain(problems, value, SubdomainKind.MEETINGS_SITE, *field)
    return check_subdomain(problems, site_name_of_url(value), SubdomainKind.MEETINGS_SITE, *field)


def check_company_name(problems: Problems, value: str, *field: str) -> None:
    """R-TRI-3: required, ≤ 80 characters, no `%`."""
    problems.text(value, COMPANY_NAME_MAX_LENGTH, *field)
    if "%" in value:
        problems.add(ErrorCode.NAME_HAS_PERCENT, f"`{field[-1]}` may not contain '%'", *field)


def check_industry(problems: Problems, value: str, *field: str) -> str | None:
    """R-TRI-3: one of INDUSTRIES, any case; the table's spelling of it."""
    found = _INDUSTRY_BY_KEY.get(value.strip().casefold())
    if found is None:
        problems.add(ErrorCode.VALIDATION_FAILED, f"`{field[-1]}` must be one of: {', '.join(INDUSTRIES)}", *field)
    return found


def region_of_country(problems: Problems, value: str, *field: str) -> str | None:
    """R-TRI-3: the data region of a served country (alpha-2, any case); COUNTRY_NOT_SUPPORTED otherwise."""
    region = DATA_REGION_OF.get(value.strip().upper())
    if region is None:
        problems.add(ErrorCode.COUNTRY_NOT_SUPPORTED,
                     f"`{field[-1]}` must be a served country ({', '.join(sorted(DATA_REGION_OF))})", *field)
    return region


def check_device_type(problems: Problems, value: str, *field: str) -> str | None:
    """R-TRI-7: a device type of the table (any case); UNKNOWN_DEVICE_TYPE otherwise."""
    folded = value.strip().lower()
    if folded not in DEVICE_TYPES:
        problems.add(ErrorCode.UNKNOWN_DEVICE_TYPE, f"`{field[-1]}` must be one of: {', '.join(DEVICE_TYPES)}",
                     *field)
        return None
    return folded


def check_timezone(problems: Problems, value: str | None, *field: str) -> None:
    """R-TRI-3: a Meetings site's IANA time zone (INVALID_TIMEZONE, REQUIRED)."""
    problems.timezone(value, *field)


def is_timezone(value: str) -> bool:
    return value.strip() in iana_timezones()


def trialable(org: CustomerOrg | None, partner_id: str | None) -> tuple[ResaleService, ...]:
    """R-TRI-4: the services a partner may trial in an org: not bought, and not trialled by another partner
    (a new org: all of them)."""
    if org is None:
        return tuple(ResaleService)
    unavailable = set(org.purchased_services) | org.trialled_by_others(partner_id)
    return tuple(s for s in ResaleService if s not in unavailable)


def not_trialable(org: CustomerOrg | None, partner_id: str | None,
                  services: Iterable[ResaleService]) -> tuple[ResaleService, ...]:
    """The requested services R-TRI-4 refuses (SERVICE_NOT_TRIALABLE), in the order asked."""
    allowed = set(trialable(org, partner_id))
    return tuple(dict.fromkeys(s for s in services if s not in allowed))
