"""The rules of partners and sub-partners (DOMAIN.md §2, R-ORG-1): pure functions of the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.model.entities import OrgKind, Partner, RouteToMarket
from domain.model.errors import ErrorCode
from domain.model.principal import RESALE_SCOPES, WHOLESALE_SCOPES, Scope
from domain.rules.validation import Problems

MAX_NOTIFICATION_EMAILS = 20


@dataclass(frozen=True)
class NewPartner:
    name: str
    subscription_id: str
    delayed_billing_enabled: bool = False
    route_to_market: RouteToMarket = RouteToMarket.WHOLESALE
    notification_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewSubPartner:
    name: str
    admin_email: str
    billing_start_date: date | None = None


def partner_problems(data: NewPartner) -> Problems:
    problems = Problems()
    problems.text(data.name, 200, "input", "name")
    problems.text(data.subscription_id, 100, "input", "subscriptionId")
    notification_email_problems(data.notification_emails, problems, "input", "notificationEmails")
    return problems


def notification_email_problems(emails: tuple[str, ...], problems: Problems, *path: str) -> None:
    """R-NOT-3: a partner's notification addresses: valid emails, at most MAX_NOTIFICATION_EMAILS, no repeats."""
    if len(emails) > MAX_NOTIFICATION_EMAILS:
        problems.add(ErrorCode.VALIDATION_FAILED, f"at most {MAX_NOTIFICATION_EMAILS} addresses", *path)
        return
    seen: set[str] = set()
    for i, email in enumerate(emails):
        problems.email(email, *path, str(i))
        if email.strip().lower() in seen:
            problems.add(ErrorCode.VALIDATION_FAILED, "this address is listed twice", *path, str(i))
        seen.add(email.strip().lower())


def normalised_emails(emails: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(e.strip().lower() for e in emails)


def route_problem(owner: Partner, scope: Scope) -> str | None:
    """R-TRI-1: wholesale work (§5 to §8) is for WHOLESALE partners, trials and orders (§10, §12) for RESALE ones.
    The message of the refusal (ROUTE_TO_MARKET_MISMATCH), or None when the owner's route allows the work."""
    if scope in WHOLESALE_SCOPES and owner.route_to_market is not RouteToMarket.WHOLESALE:
        return "a resale partner has no Wholesale customers, subscribers or billing"
    if scope in RESALE_SCOPES and owner.route_to_market is not RouteToMarket.RESALE:
        return "a Wholesale partner has no trials or orders: they are for resale partners"
    return None


def sub_partner_problems(parent: Partner | None, data: NewSubPartner) -> Problems:
    """R-ORG-1: a sub-partner sits exactly one level below an existing partner."""
    problems = Problems()
    if parent is None:
        problems.add(ErrorCode.NOT_FOUND, "no partner has this id", "parentId")
    elif parent.kind is not OrgKind.PARTNER:
        problems.add(ErrorCode.VALIDATION_FAILED, "a sub-partner cannot have sub-partners", "parentId")
    problems.text(data.name, 200, "input", "name")
    problems.email(data.admin_email, "input", "adminEmail")
    return problems
