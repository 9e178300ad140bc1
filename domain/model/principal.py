"""Who is calling: the verified claims of a bearer token (DOMAIN.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Role(str, Enum):
    FULL_ADMIN = "full_admin"
    READ_ONLY_ADMIN = "read_only_admin"
    COMPLIANCE_REVIEWER = "compliance_reviewer"
    PLATFORM_ADMIN = "platform_admin"
    # R-TRI-2: a resale partner's sales admin: trials and orders only, and only those it created.
    SALES_ADMIN = "sales_admin"


class Scope(str, Enum):
    CUSTOMERS_READ = "wholesale_customers_read"
    CUSTOMERS_WRITE = "wholesale_customers_write"
    SUBSCRIBERS_READ = "wholesale_subscribers_read"
    SUBSCRIBERS_WRITE = "wholesale_subscribers_write"
    BILLING_REPORTS_READ = "wholesale_billing_reports_read"
    BILLING_REPORTS_WRITE = "wholesale_billing_reports_write"
    SUB_PARTNERS_READ = "wholesale_sub_partners_read"
    # Resale partners (R-TRI-2): trials and orders.
    TRIALS_READ = "trials_read"
    TRIALS_WRITE = "trials_write"
    ORDERS_READ = "orders_read"
    ORDERS_WRITE = "orders_write"


WHOLESALE_SCOPES = frozenset(s for s in Scope if s.value.startswith("wholesale_"))
RESALE_SCOPES = frozenset({Scope.TRIALS_READ, Scope.TRIALS_WRITE, Scope.ORDERS_READ, Scope.ORDERS_WRITE})


class LinkPurpose(str, Enum):
    """R-NOT-6: the roles of the tokens inside emailed links (never a partner's or the platform's role)."""

    TRIAL_CONSENT = "trial_consent"
    ORDER_SETUP = "order_setup"


@dataclass(frozen=True)
class LinkGrant:
    """What an emailed link's token opens (R-NOT-6): one entity's link operations, nothing else."""

    purpose: LinkPurpose
    entity_id: str
    owner_org_id: str
    version: int
    recipient: str


PARTNER_ROLES = frozenset({Role.FULL_ADMIN, Role.READ_ONLY_ADMIN, Role.SALES_ADMIN})
PLATFORM_ROLES = frozenset({Role.COMPLIANCE_REVIEWER, Role.PLATFORM_ADMIN})

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.FULL_ADMIN: frozenset(Scope),
    Role.READ_ONLY_ADMIN: frozenset(s for s in Scope if s.value.endswith("_read")),
    Role.COMPLIANCE_REVIEWER: frozenset(),
    Role.PLATFORM_ADMIN: frozenset(),
    Role.SALES_ADMIN: RESALE_SCOPES,
}


@dataclass(frozen=True)
class Principal:
    subject: str
    org_id: str | None
    roles: frozenset[Role]
    scopes: frozenset[Scope]
    # When the token stops being valid (a websocket opened with it is closed then); None: not from a token.
    expires_at: datetime | None = field(default=None, compare=False)
    # An emailed link's token (R-NOT-6): no org, role or scope, only this grant.
    link: LinkGrant | None = None

    @classmethod
    def from_claims(
        cls, subject: str, org_id: str | None, roles: list[str], scopes: list[str] | None,
        expires_at: datetime | None = None,
    ) -> Principal:
        """Build a principal; raises ValueError for an unknown role or scope, or a role/org mismatch."""
        parsed_roles = frozenset(Role(r) for r in roles)
        if not parsed_roles:
            raise ValueError("token names no role")
        if parsed_roles & PARTNER_ROLES and not org_id:
            raise ValueError("partner roles need an org claim")
        if scopes is None:
            derived: frozenset[Scope] = frozenset()
            for role in parsed_roles:
                derived |= ROLE_SCOPES[role]
            parsed_scopes = derived
        else:
            parsed_scopes = frozenset(Scope(s) for s in scopes)
        return cls(subject, org_id or None, parsed_roles, parsed_scopes, expires_at)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def is_partner_admin(self) -> bool:
        return self.org_id is not None and bool(self.roles & PARTNER_ROLES)

    @property
    def is_full_admin(self) -> bool:
        return self.org_id is not None and Role.FULL_ADMIN in self.roles
