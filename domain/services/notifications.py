"""Notifications (DOMAIN.md §13): the partner's addresses (R-NOT-3), the outbox's readers (R-NOT-5) and the check of
an emailed link (R-NOT-6). Writing to the outbox is `Tx.notify` (domain.model.notifications tells how)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.entities import Partner, RouteToMarket
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.notifications import LinkRefused, NotificationKind, NotificationStatus
from domain.model.principal import LinkGrant, LinkPurpose, Role, Scope
from domain.rules.filters import all_of
from domain.rules.notifications import customer_admin_recipients as customer_admin_recipients
from domain.rules.notifications import partner_admin_recipients as partner_admin_recipients
from domain.rules.notifications import recipients as recipients
from domain.rules.organisations import normalised_emails, notification_email_problems
from domain.rules.pagination import PageRequest
from domain.rules.tenancy import NOTHING, Caller, list_scope
from domain.rules.validation import Problems
from domain.services.acting import acting_owner
from domain.services.reads import Listing, Ownership, empty
from domain.store.driver import Document
from domain.store.repositories import Repositories, Tx
from domain.store.repositories.notifications import NOTIFICATION_ORDER

RECIPIENT_MAX_LENGTH = 320


def require_link(caller: Caller, purpose: LinkPurpose, entity_id: str, current_link_version: int) -> LinkGrant:
    """R-NOT-6: the caller holds a link of `purpose` for this entity, of its current link version (an older link,
    revoked by a resend or a handover, or another entity's: LinkRefused, answered as UNAUTHENTICATED). The entity's
    state is for the caller to check."""
    grant = caller.principal.link
    if grant is None or grant.purpose is not purpose or grant.entity_id != entity_id \
            or grant.version != current_link_version:
        raise LinkRefused("this link is not valid any more: ask for a new email")
    return grant


async def set_partner_notification_emails(repos: Repositories, caller: Caller, emails: Sequence[str],
                                          on_behalf_of: str | None) -> Partner:
    """R-NOT-3: the owner's partner admins (full_admin; for a sub-partner by its parent, R-ORG-4)."""
    if caller.org is None:
        raise Forbidden("this operation needs the full_admin role of a partner or sub-partner")
    # Both routes to market have partner admins: ask for the write scope of the caller's own route (R-TRI-1).
    scope = Scope.TRIALS_WRITE if caller.org.route_to_market is RouteToMarket.RESALE else Scope.CUSTOMERS_WRITE
    owner = await acting_owner(repos, caller, on_behalf_of, scope, full_admin=True)
    problems = Problems()
    notification_email_problems(tuple(emails), problems, "emails")
    problems.raise_if_any()
    normalised = normalised_emails(tuple(emails))

    async def write(tx: Tx) -> Partner:
        updated = await repos.partners.set_notification_emails(owner.id, list(normalised), session=tx.session)
        if updated is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no partner has this id", "onBehalfOfSubPartnerOrgId")
        return updated

    return await repos.atomic(write)


@dataclass(frozen=True)
class NotificationCriteria:
    kinds: tuple[NotificationKind, ...] | None = None
    statuses: tuple[NotificationStatus, ...] | None = None
    entity_id: str | None = None
    recipient: str | None = None

    def to_filter(self) -> dict[str, Any]:
        filter: dict[str, Any] = {}
        if self.kinds is not None:
            filter["kind"] = {"$in": [k.value for k in self.kinds]}
        if self.statuses is not None:
            filter["status"] = {"$in": [s.value for s in self.statuses]}
        if self.entity_id is not None:
            filter["entityId"] = self.entity_id
        if self.recipient is not None:
            filter["to"] = self.recipient.strip().lower()
        return filter


async def reach(repos: Repositories, caller: Caller, ownership: Ownership) -> dict[str, Any] | None:
    """R-NOT-5: the outbox filter of a reader, or None for a caller who may read none of it (FORBIDDEN)."""
    principal = caller.principal
    if principal.has(Role.PLATFORM_ADMIN):
        if ownership.sub_partner_org_id is not None:
            return {"ownerOrgId": ownership.sub_partner_org_id}
        return {}
    if caller.org is None:
        return None
    if principal.has(Role.FULL_ADMIN) or principal.has(Role.READ_ONLY_ADMIN):
        named = ownership.sub_partner_org_id
        sub_partner = await repos.partners.get(named) if named is not None else None
        return list_scope(caller, sub_partner, named is not None, ownership.include_sub_partners).filter()
    if principal.has(Role.SALES_ADMIN):  # its own trials' and orders' mail only (R-TRI-2)
        if ownership.sub_partner_org_id is not None and ownership.sub_partner_org_id != caller.org.id:
            return NOTHING.filter()
        return {"ownerOrgId": caller.org.id, "createdBy": principal.subject}
    return None


async def notifications(repos: Repositories, caller: Caller, criteria: NotificationCriteria, ownership: Ownership,
                        request: PageRequest) -> Listing:
    """R-NOT-5: the outbox as the caller may see it, newest first."""
    owner = await reach(repos, caller, ownership)
    if owner is None:
        raise Forbidden("the outbox is read by a partner's full_admin, read_only_admin or sales_admin, or the "
                        "platform")
    if len(criteria.recipient or "") > RECIPIENT_MAX_LENGTH:
        return empty(request)
    base = all_of(owner, criteria.to_filter())
    page = await repos.notifications.page(base, NOTIFICATION_ORDER, request)
    return Listing(page, lambda: repos.notifications.count(base))



async def visible_notification(repos: Repositories, caller: Caller, notification_id: str) -> Document | None:
    """`node(id)` of a notification: None when it does not exist or the caller may not read it (R-NOT-5, R-ORG-6).
    A full_admin parent reaches its sub-partners' (as with every direct lookup)."""
    ownership = Ownership(include_sub_partners=caller.may_view_sub_partners)
    owner = await reach(repos, caller, ownership)
    if owner is None:
        return None
    return (await repos.notifications.by_ids([notification_id], owner)).get(notification_id)
