"""Who sees what (R-ORG-1…6): one `Reach` value per read, rendered where it is needed.

Every customer-side document carries the org that owns it (`ownerOrgId`) and the top-level partner
above that org (`rootOrgId`), so every visibility rule is a single equality: the repositories put
`Reach.filter()` inside the query itself (nothing is fetched first and filtered in Python), and the
live event feed checks the same rule on each event with `Reach.admits(doc)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.model.entities import OrgKind, Partner
from domain.model.errors import Forbidden
from domain.model.principal import Principal, Role

OWNER, ROOT = "ownerOrgId", "rootOrgId"


@dataclass(frozen=True)
class Reach:
    """The orgs whose data one read may include: one org's own (`ownerOrgId`), everything under one top-level
    partner (`rootOrgId`), or nothing at all (both None)."""

    key: str | None = None
    org_id: str | None = None

    @classmethod
    def owner(cls, org_id: str) -> Reach:
        return cls(OWNER, org_id)

    @classmethod
    def root(cls, org_id: str) -> Reach:
        return cls(ROOT, org_id)

    @property
    def is_nothing(self) -> bool:
        return self.key is None

    def filter(self) -> dict[str, Any]:
        """As a Mongo filter, for the repositories (a new one each time: callers may build on it); reaching
        nothing is a filter that matches nothing."""
        return {"_id": {"$in": []}} if self.key is None else {self.key: self.org_id}

    def admits(self, doc: Mapping[str, Any]) -> bool:
        """As a predicate over a stored document, for the live event feed: the same rule as `filter`."""
        return self.key is not None and doc.get(self.key) == self.org_id


# What a caller sees of data outside its reach.
NOTHING = Reach()

# R-TRI-2: the entities a sales_admin creates; their events carry the creator's `sub` as `details.createdBy`.
CREATED_ENTITY_TYPES = ("TRIAL", "ORDER", "DEVICE_SHIPMENT")


@dataclass(frozen=True)
class CreatorReach(Reach):
    """One org's events of the trials, orders and device shipments one user created (the sales_admin limit)."""

    created_by: str = ""

    def filter(self) -> dict[str, Any]:
        if self.key is None:
            return super().filter()
        return {**super().filter(), "entityType": {"$in": list(CREATED_ENTITY_TYPES)},
                "details.createdBy": self.created_by}

    def admits(self, doc: Mapping[str, Any]) -> bool:
        details = doc.get("details") or {}
        return (super().admits(doc) and doc.get("entityType") in CREATED_ENTITY_TYPES
                and details.get("createdBy") == self.created_by)


def creator_limit(principal: Principal) -> str | None:
    """R-TRI-2: a sales_admin (without full or read-only admin) reaches only what it created: its `sub`."""
    if Role.SALES_ADMIN in principal.roles and not principal.roles & {Role.FULL_ADMIN, Role.READ_ONLY_ADMIN}:
        return principal.subject
    return None


@dataclass(frozen=True)
class Caller:
    """An authenticated principal together with its own org (None for platform roles)."""

    principal: Principal
    org: Partner | None

    @property
    def is_parent_partner(self) -> bool:
        return self.org is not None and self.org.kind is OrgKind.PARTNER

    @property
    def may_view_sub_partners(self) -> bool:
        """Parent-partner views of sub-partner data need full_admin (DOMAIN.md §2)."""
        return self.is_parent_partner and self.principal.has(Role.FULL_ADMIN)

    def owns_sub_partner(self, org: Partner | None) -> bool:
        return org is not None and self.org is not None and org.parent_id == self.org.id


def list_scope(caller: Caller, sub_partner: Partner | None, sub_partner_requested: bool,
               include_sub_partners: bool) -> Reach:
    """The owner filter of a list query (R-ORG-2, R-ORG-3).

    `sub_partner` is the org named by a `subPartnerOrgId` filter, already loaded (None when the id
    names nothing). Naming an org that is not the caller's own sub-partner gives an empty list, the
    same answer as naming one that does not exist (R-ORG-6).
    """
    if caller.org is None:
        return NOTHING
    own = caller.org.id
    if sub_partner_requested:
        if sub_partner is not None and sub_partner.id == own:
            return Reach.owner(own)
        if not caller.is_parent_partner:
            return NOTHING
        _require_sub_partner_view(caller)
        if sub_partner is None or not caller.owns_sub_partner(sub_partner):
            return NOTHING
        return Reach.owner(sub_partner.id)
    if include_sub_partners and caller.is_parent_partner:
        _require_sub_partner_view(caller)
        return Reach.root(own)
    return Reach.owner(own)


def direct_scope(caller: Caller) -> Reach:
    """The owner filter for fetching one object by id: a full_admin parent reaches its sub-partners'."""
    if caller.org is None:
        return NOTHING
    if caller.may_view_sub_partners:
        return Reach.root(caller.org.id)
    return Reach.owner(caller.org.id)


def can_see_partner(caller: Caller, org: Partner) -> bool:
    """Partner objects: platform admins see all; a partner sees itself and its sub-partners."""
    if caller.principal.has(Role.PLATFORM_ADMIN):
        return True
    if caller.org is None:
        return False
    return org.id == caller.org.id or caller.owns_sub_partner(org)


def _require_sub_partner_view(caller: Caller) -> None:
    if not caller.may_view_sub_partners:
        raise Forbidden("viewing sub-partner data needs the full_admin role")
