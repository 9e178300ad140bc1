"""The rules of partners and sub-partners (DOMAIN.md §2, R-ORG-1): pure functions of the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.model.entities import OrgKind, Partner
from domain.model.errors import ErrorCode
from domain.rules.validation import Problems


@dataclass(frozen=True)
class NewPartner:
    name: str
    subscription_id: str
    delayed_billing_enabled: bool = False


@dataclass(frozen=True)
class NewSubPartner:
    name: str
    admin_email: str
    billing_start_date: date | None = None


def partner_problems(data: NewPartner) -> Problems:
    problems = Problems()
    problems.text(data.name, 200, "input", "name")
    problems.text(data.subscription_id, 100, "input", "subscriptionId")
    return problems


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
