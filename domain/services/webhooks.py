"""Webhook endpoints (DOMAIN.md §13, R-NOT-7/8/10): an org's full_admin registers, changes, rotates, disables and
removes them; its admins read them and their deliveries. Every state change is a WEBHOOK_ENDPOINT event written
with it. The deliveries themselves are made by `domain.services.webhook_delivery` (run by the gateway's sender).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.model.changes import EntityType
from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.notifications import Notification, NotificationAudience, NotificationKind
from domain.model.principal import Role
from domain.model.webhooks import (
    MAX_ENDPOINTS_PER_ORG,
    PREVIOUS_SECRET_LIFETIME,
    SigningSecret,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointState,
    WebhookFilter,
)
from domain.rules.notifications import partner_admin_recipients
from domain.rules.pagination import PageRequest
from domain.rules.tenancy import Caller, Reach
from domain.rules.webhooks import endpoint_input_problems, free_slot, secret_of
from domain.services import reads
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx
from domain.store.repositories.webhooks import DELIVERY_ORDER, ENDPOINT_ORDER

DELETED = "deleted"
DEFAULT_CURSOR_LIFETIME = timedelta(days=7)  # R-EVT-2: GATEWAY_EVENTS_RETENTION_DAYS


@dataclass(frozen=True)
class EndpointInput:
    url: str
    description: str | None
    criteria: reads.EventCriteria
    ownership: reads.Ownership


def _org(caller: Caller, *, write: bool, changes: bool = True) -> Partner:
    """The caller's own org: writes need its full_admin (a suspended sub-partner may only disable and delete,
    R-ORG-5), reads one of its admins."""
    org = caller.org
    if org is None:
        raise Forbidden("webhook endpoints belong to a partner or sub-partner org")
    if write:
        if not caller.principal.is_full_admin:
            raise Forbidden("managing webhook endpoints needs the full_admin role")
        if changes and org.kind is OrgKind.SUB_PARTNER and org.provisioning_state is SubPartnerState.SUSPENDED:
            raise DomainError.single(ErrorCode.SUB_PARTNER_SUSPENDED, "the sub-partner is suspended: it may only "
                                     "disable or delete its webhook endpoints")
    elif not (caller.principal.has(Role.FULL_ADMIN) or caller.principal.has(Role.READ_ONLY_ADMIN)):
        raise Forbidden("reading webhook endpoints needs an admin role of the org")
    return org


def _filter_of(data: EndpointInput) -> WebhookFilter:
    c, o = data.criteria, data.ownership
    return WebhookFilter(
        entity_types=_list(c.entity_types), customer_ids=_list(c.customer_ids), to_statuses=_list(c.to_statuses),
        entity_ids=_list(c.entity_ids), actions=_list(c.actions), actor_sub=c.actor_sub,
        occurred_after=c.occurred_after, occurred_before=c.occurred_before,
        sub_partner_org_id=o.sub_partner_org_id, include_sub_partners=o.include_sub_partners)


def _list(values: object) -> list[str] | None:
    return None if values is None else [str(v) for v in values]  # type: ignore[attr-defined]


def criteria_of(f: WebhookFilter) -> reads.EventCriteria:
    return reads.EventCriteria(entity_types=f.entity_types, customer_ids=f.customer_ids, to_statuses=f.to_statuses,
                               entity_ids=f.entity_ids, actions=f.actions, actor_sub=f.actor_sub,
                               occurred_after=f.occurred_after, occurred_before=f.occurred_before)


def reach_of(endpoint: WebhookEndpoint) -> Reach:
    return Reach(endpoint.reach_key, endpoint.reach_org_id)


async def _checked(repos: Repositories, caller: Caller, data: EndpointInput) -> tuple[str, Reach]:
    """The URL to store and the events the endpoint may receive; every input problem raised at once."""
    guard = repos.webhook_guard
    url = data.url.strip()
    problems = endpoint_input_problems(url, data.description, allow_loopback=guard.allow_loopback)
    reach = await reads.event_owner(repos, caller, data.ownership)  # R-ORG-2/3, as its admin may read events
    if reach.is_nothing:
        problems.add(ErrorCode.NOT_A_SUB_PARTNER, "this org is not one of your sub-partners", "input", "filter",
                     "subPartnerOrgId")
    if not problems.items and (problem := await guard.problem(url)) is not None:
        problems.add(ErrorCode.WEBHOOK_URL_INVALID, problem, "input", "url")
    problems.raise_if_any()
    return url, reach


def _new_secret() -> str:
    return secret_of(secrets.token_bytes(32))


async def create_endpoint(repos: Repositories, caller: Caller, data: EndpointInput) -> tuple[WebhookEndpoint, str]:
    """R-NOT-7: at most 10 per org; it receives the events committed from its creation on. Returns the secret,
    shown only here and by a rotation (R-NOT-8)."""
    owner = _org(caller, write=True)
    url, reach = await _checked(repos, caller, data)
    endpoint_id, secret = new_id(Kind.WEBHOOK_ENDPOINT), _new_secret()

    async def write(tx: Tx) -> WebhookEndpoint:
        slot = free_slot(await repos.webhook_endpoints.used_slots(owner.id, session=tx.session), MAX_ENDPOINTS_PER_ORG)
        if slot is None:
            raise DomainError.single(ErrorCode.WEBHOOK_LIMIT_REACHED,
                                     f"an org may have at most {MAX_ENDPOINTS_PER_ORG} webhook endpoints", "input")
        endpoint = WebhookEndpoint(
            id=endpoint_id, owner_org_id=owner.id, root_org_id=owner.root_id, slot=slot, url=url,
            description=(data.description or "").strip() or None, filter=_filter_of(data),
            reach_key=reach.key, reach_org_id=reach.org_id, state=WebhookEndpointState.ACTIVE,
            secrets=[SigningSecret(key=secret)], secret_rotated_at=tx.now, cursor_seq=await repos.events.head(),
            version=1, created_at=tx.now, created_by=caller.principal.subject)
        try:
            await repos.webhook_endpoints.insert(endpoint.to_doc(), session=tx.session)
        except DuplicateKey:  # another registration took the slot meanwhile
            raise DomainError.single(ErrorCode.WEBHOOK_LIMIT_REACHED, "another endpoint was registered meanwhile; "
                                     "retry", "input") from None
        tx.record(endpoint.change(None, endpoint.state.value))
        return endpoint

    return await repos.atomic(write), secret


async def _owned(repos: Repositories, tx: Tx, owner: Partner, endpoint_id: str) -> WebhookEndpoint:
    doc = await repos.webhook_endpoints.owned_doc(endpoint_id, owner.id, session=tx.session)
    if doc is None:  # another org's endpoint reads like a missing one (R-ORG-6)
        raise DomainError.single(ErrorCode.NOT_FOUND, "no webhook endpoint has this id", "id")
    return WebhookEndpoint.from_doc(doc)


async def _save(repos: Repositories, tx: Tx, before: WebhookEndpoint, after: WebhookEndpoint) -> None:
    if not await repos.webhook_endpoints.save(after.to_doc(), expected_version=before.version, session=tx.session):
        raise DomainError.single(ErrorCode.INVALID_STATE, "the endpoint changed meanwhile; read it and retry", "id")


async def update_endpoint(repos: Repositories, caller: Caller, endpoint_id: str,
                          data: EndpointInput) -> WebhookEndpoint:
    """A new URL, description or filter (the cursor stays: later events are judged by the new filter)."""
    owner = _org(caller, write=True)
    url, reach = await _checked(repos, caller, data)

    async def write(tx: Tx) -> WebhookEndpoint:
        current = await _owned(repos, tx, owner, endpoint_id)
        moved = current.model_copy(update={
            "url": url, "description": (data.description or "").strip() or None, "filter": _filter_of(data),
            "reach_key": reach.key, "reach_org_id": reach.org_id, "retry_count": 0, "due_at": None,
            "version": current.version + 1})
        await _save(repos, tx, current, moved)
        return moved

    return await repos.atomic(write)


async def rotate_secret(repos: Repositories, caller: Caller, endpoint_id: str) -> tuple[WebhookEndpoint, str]:
    """R-NOT-8: a new secret; the one it replaces still signs for 24 h (an older one still in its 24 h stops)."""
    owner = _org(caller, write=True)
    secret = _new_secret()

    async def write(tx: Tx) -> WebhookEndpoint:
        current = await _owned(repos, tx, owner, endpoint_id)
        previous = [SigningSecret(key=s.key, expires_at=tx.now + PREVIOUS_SECRET_LIFETIME)
                    for s in current.secrets if s.expires_at is None]
        moved = current.model_copy(update={"secrets": [SigningSecret(key=secret), *previous],
                                           "secret_rotated_at": tx.now, "version": current.version + 1})
        await _save(repos, tx, current, moved)
        return moved

    return await repos.atomic(write), secret


async def set_state(repos: Repositories, caller: Caller, endpoint_id: str, state: WebhookEndpointState,
                    resume_after: str | None, cursor_lifetime: timedelta) -> WebhookEndpoint:
    """R-NOT-10: disable, or re-enable from the head (the next event committed) or replaying after a cursor it was
    given (events after it older than `cursor_lifetime`: CURSOR_EXPIRED)."""
    owner = _org(caller, write=True, changes=state is WebhookEndpointState.ACTIVE)
    position: int | None = None
    if state is WebhookEndpointState.ACTIVE and resume_after is not None:
        doc = await repos.webhook_endpoints.owned_doc(endpoint_id, owner.id)
        if doc is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no webhook endpoint has this id", "id")
        position = await reads.event_position(repos, resume_after, reach_of(WebhookEndpoint.from_doc(doc)),
                                              cursor_lifetime)

    async def write(tx: Tx) -> WebhookEndpoint:
        current = await _owned(repos, tx, owner, endpoint_id)
        if current.state is state and position is None:
            return current
        update: dict[str, object] = {"state": state, "version": current.version + 1, "retry_count": 0,
                                     "due_at": None}
        if state is WebhookEndpointState.DISABLED:
            update["disabled_reason"] = "disabled by an admin"
            await repos.webhook_deliveries.fail_pending(current.id, session=tx.session)
        else:
            update.update(disabled_reason=None, failing_since=None,
                          cursor_seq=position if position is not None else await repos.events.head())
        moved = current.model_copy(update=update)
        await _save(repos, tx, current, moved)
        if current.state is not state:
            tx.record(moved.change(current.state.value, state.value, reason=moved.disabled_reason))
        return moved

    return await repos.atomic(write)


async def disable_in(repos: Repositories, tx: Tx, endpoint: WebhookEndpoint, reason: str) -> None:
    """R-NOT-10: the sender gives an endpoint up (a 410, or 24 h of failures): evented, and its org's partner admins
    are emailed. A no-op if an admin changed it meanwhile."""
    doc = await repos.webhook_endpoints.find_doc(endpoint.id, session=tx.session)
    if doc is None:
        return
    current = WebhookEndpoint.from_doc(doc)
    if current.state is not WebhookEndpointState.ACTIVE:
        return
    moved = current.model_copy(update={"state": WebhookEndpointState.DISABLED, "disabled_reason": reason,
                                       "version": current.version + 1, "due_at": None, "retry_count": 0})
    if not await repos.webhook_endpoints.save(moved.to_doc(), expected_version=current.version, session=tx.session):
        return
    tx.record(moved.change(current.state.value, moved.state.value, reason=reason))
    owner = await repos.partners.get(current.owner_org_id)
    if owner is not None:
        await tx.notify(Notification(
            kind=NotificationKind.WEBHOOK_ENDPOINT_DISABLED, audience=NotificationAudience.PARTNER_ADMINS,
            to=partner_admin_recipients(owner, current.created_by), occasion=f"v{moved.version}",
            owner_org_id=current.owner_org_id, root_org_id=current.root_org_id,
            entity_type=EntityType.WEBHOOK_ENDPOINT, entity_id=current.id,
            facts={"url": current.url, "reason": reason}))


async def delete_endpoint(repos: Repositories, caller: Caller, endpoint_id: str) -> str:
    owner = _org(caller, write=True, changes=False)

    async def write(tx: Tx) -> str:
        current = await _owned(repos, tx, owner, endpoint_id)
        await repos.webhook_endpoints.delete({"_id": current.id}, session=tx.session)
        await repos.webhook_deliveries.delete({"endpointId": current.id}, session=tx.session)
        gone = current.model_copy(update={"version": current.version + 1})
        tx.record(gone.change(current.state.value, DELETED))
        return current.id

    return await repos.atomic(write)


async def endpoints(repos: Repositories, caller: Caller, request: PageRequest) -> reads.Listing:
    """The caller's org's endpoints, oldest first (a parent does not see its sub-partners': R-ORG-2/3)."""
    owner = _org(caller, write=False)
    base = {"ownerOrgId": owner.id}
    page = await repos.webhook_endpoints.page(base, ENDPOINT_ORDER, request)
    return reads.Listing(page, lambda: repos.webhook_endpoints.count(base))


async def visible_endpoints(repos: Repositories, caller: Caller, ids: list[str]) -> list[WebhookEndpoint | None]:
    try:
        owner = _org(caller, write=False)
    except Forbidden:
        return [None] * len(ids)
    docs = await repos.webhook_endpoints.by_ids(ids, {"ownerOrgId": owner.id})
    return [WebhookEndpoint.from_doc(docs[i]) if i in docs else None for i in ids]


async def visible_deliveries(repos: Repositories, caller: Caller, ids: list[str]) -> list[Document | None]:
    try:
        owner = _org(caller, write=False)
    except Forbidden:
        return [None] * len(ids)
    docs = await repos.webhook_deliveries.by_ids(ids, {"ownerOrgId": owner.id})
    return [docs.get(i) for i in ids]


async def deliveries(repos: Repositories, endpoint: WebhookEndpoint, status: WebhookDeliveryStatus | None,
                     request: PageRequest) -> reads.Listing:
    """The deliveries of an endpoint the caller already sees, newest event first (kept 7 days, R-NOT-9)."""
    base: dict[str, object] = {"endpointId": endpoint.id}
    if status is not None:
        base["status"] = status.value
    page = await repos.webhook_deliveries.page(base, DELIVERY_ORDER, request)
    return reads.Listing(page, lambda: repos.webhook_deliveries.count(base))
