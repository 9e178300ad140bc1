"""The read side: every list and lookup a caller may make, already narrowed to what it may see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from domain.model.audit import EventAction
from domain.model.entities import Partner, SubPartnerState
from domain.model.errors import CursorExpired, Forbidden, InvalidArgument
from domain.model.principal import Role, Scope
from domain.rules.filters import all_of
from domain.rules.pagination import Order, Page, PageRequest, decode_cursor, encode_cursor, make_page
from domain.rules.tenancy import (
    NOTHING,
    OWNER,
    Caller,
    CreatorReach,
    Reach,
    can_see_partner,
    creator_limit,
    direct_scope,
    list_scope,
)
from domain.rules.validation import CUSTOMER_NAME_MAX_LENGTH
from domain.store.driver import Document
from domain.store.repositories import Repositories
from domain.store.repositories.base import Repository
from domain.store.repositories.billing import ROW_ORDER
from domain.store.repositories.customers import CUSTOMER_ORDERS, CustomerCriteria
from domain.store.repositories.events import EVENT_ORDER
from domain.store.repositories.partners import PARTNER_ORDER
from domain.store.repositories.subscribers import SUBSCRIBER_ORDERS, SubscriberCriteria
from domain.store.repositories.templates import TEMPLATE_ORDER

_EMPTY_ORDER = Order("empty", (("_id", 1),))


@dataclass(frozen=True)
class Listing:
    """One page of a list, plus its total (computed only if someone asks for it)."""

    page: Page
    count: Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Ownership:
    """The owner part of a list filter: which orgs' data a list may include (R-ORG-3)."""

    sub_partner_org_id: str | None = None
    include_sub_partners: bool = False


def require_scope(caller: Caller, scope: Scope) -> None:
    if not caller.principal.can(scope):
        raise Forbidden(f"this needs the {scope.value} scope")


async def _owner_filter(repos: Repositories, caller: Caller, ownership: Ownership) -> Reach:
    sub_partner: Partner | None = None
    if ownership.sub_partner_org_id is not None:
        sub_partner = await repos.partners.get(ownership.sub_partner_org_id)
    return list_scope(caller, sub_partner, ownership.sub_partner_org_id is not None, ownership.include_sub_partners)


async def _zero() -> int:
    return 0


def empty(request: PageRequest) -> Listing:
    """A list with nothing in it: what a caller gets for data outside its reach."""
    return Listing(make_page(_EMPTY_ORDER, [], request), _zero)


async def customers(
    repos: Repositories, caller: Caller, criteria: CustomerCriteria, ownership: Ownership, order: str,
    request: PageRequest,
) -> Listing:
    require_scope(caller, Scope.CUSTOMERS_READ)
    owner = await _owner_filter(repos, caller, ownership)
    # A name filter longer than any name matches nothing (and the database caps the size of a pattern).
    if owner.is_nothing or len(criteria.name_contains or "") > CUSTOMER_NAME_MAX_LENGTH:
        return empty(request)
    base = all_of(owner.filter(), criteria.to_filter())
    page = await repos.customers.page(base, CUSTOMER_ORDERS[order], request)
    return Listing(page, lambda: repos.customers.count(base))


async def subscribers(
    repos: Repositories, caller: Caller, criteria: SubscriberCriteria, external_customer_id: str | None,
    ownership: Ownership, order: str, request: PageRequest,
) -> Listing:
    require_scope(caller, Scope.SUBSCRIBERS_READ)
    owner = await _owner_filter(repos, caller, ownership)
    if owner.is_nothing:
        return empty(request)
    if external_customer_id is not None:
        ids = await repos.customers.ids_by_external_id(owner.filter(), external_customer_id)
        if criteria.customer_ids is not None:
            named = set(criteria.customer_ids)
            ids = [i for i in ids if i in named]
        criteria = replace(criteria, customer_ids=ids)
    base = all_of(owner.filter(), criteria.to_filter())
    page = await repos.subscribers.page(base, SUBSCRIBER_ORDERS[order], request)
    return Listing(page, lambda: repos.subscribers.count(base))


@dataclass(frozen=True)
class EventCriteria:
    entity_types: Sequence[str] | None = None
    customer_ids: Sequence[str] | None = None
    to_statuses: Sequence[str] | None = None
    entity_ids: Sequence[str] | None = None
    # None: status changes only, what every v1 reader asked for and still gets (R-AUD-2).
    actions: Sequence[str] | None = None
    actor_sub: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None

    @property
    def unwanted_actions(self) -> list[str | None]:
        """The actions not asked for, matched by exclusion: events written before actions were stored carry none
        and are status changes (None stands for them, and `$nin` with null also excludes a missing field)."""
        wanted = set(self.actions) if self.actions is not None else {EventAction.STATUS_CHANGE.value}
        unwanted: list[str | None] = [a.value for a in EventAction if a.value not in wanted]
        return [*unwanted, None] if EventAction.STATUS_CHANGE.value in unwanted else unwanted

    def to_filter(self) -> dict[str, Any]:
        filter: dict[str, Any] = {}
        if self.entity_types is not None:
            filter["entityType"] = {"$in": list(self.entity_types)}
        if self.customer_ids is not None:
            filter["customerId"] = {"$in": list(self.customer_ids)}
        if self.to_statuses is not None:
            filter["toStatus"] = {"$in": list(self.to_statuses)}
        if self.entity_ids is not None:
            filter["entityId"] = {"$in": list(self.entity_ids)}
        if unwanted := self.unwanted_actions:
            filter["action"] = {"$nin": unwanted}
        if self.actor_sub is not None:
            filter["actor.sub"] = self.actor_sub
        window = {op: at for op, at in (("$gt", self.occurred_after), ("$lt", self.occurred_before)) if at}
        if window:
            filter["occurredAt"] = window
        return filter

    def admits(self, event: Mapping[str, Any]) -> bool:
        """The same criteria as `to_filter`, checked on one event document."""
        if not all(wanted is None or event.get(key) in wanted for key, wanted in (
                ("entityType", self.entity_types), ("customerId", self.customer_ids), ("toStatus", self.to_statuses),
                ("entityId", self.entity_ids))):
            return False
        if event.get("action") in self.unwanted_actions:
            return False
        if self.actor_sub is not None and (event.get("actor") or {}).get("sub") != self.actor_sub:
            return False
        at = event.get("occurredAt")
        if self.occurred_after is not None and not (at is not None and _aware(at) > _aware(self.occurred_after)):
            return False
        return self.occurred_before is None or (at is not None and _aware(at) < _aware(self.occurred_before))


def _aware(at: datetime) -> datetime:
    """Stored times come back naive (UTC) from the driver; filter times are aware."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def event_cursor(seq: int) -> str:
    """The cursor of the event with this `seq` (0: before the first event)."""
    return encode_cursor(EVENT_ORDER, {"seq": seq, "_id": f"evt_{seq:012d}"})


def event_scope(caller: Caller) -> Reach:
    """Every event the caller may see under some filter: its org's, and a full_admin parent's sub-partners'."""
    if not caller.principal.can(Scope.CUSTOMERS_READ):
        return creator_events(caller)
    return direct_scope(caller)


def creator_events(caller: Caller) -> Reach:
    """R-TRI-2: a sales_admin's events: those of the trials, orders and shipments it created in its own org (it has
    no customers scope); NOTHING for anyone else without the customers scope."""
    limit = creator_limit(caller.principal)
    if caller.org is None or limit is None or not (
            caller.principal.can(Scope.TRIALS_READ) or caller.principal.can(Scope.ORDERS_READ)):
        return NOTHING
    return CreatorReach(OWNER, caller.org.id, created_by=limit)


async def events_head(repos: Repositories, caller: Caller) -> int:
    """The position of the caller's newest visible event (R-ORG-6): it moves only with events the caller may see
    (0, the start, for a caller that sees none). Resuming after it gives every later event the caller may see."""
    scope = event_scope(caller)
    if scope.is_nothing:
        return 0
    return await repos.events.head_of(scope.filter())


async def event_position(repos: Repositories, after: str | None, owner: Reach,
                         resume_within: timedelta | None = None) -> int | None:
    """The `seq` an events cursor points after; CursorExpired once retention (≥ 5 years) removed events of `owner`
    (the owner filter the caller reads with) that followed it, or, resuming a subscription (`resume_within`, R-EVT-2
    amended 2026-12: 7 days), once events of `owner` that followed it are older than that window. Other tenants'
    events do not count."""
    if after is None:
        return None
    seq = decode_cursor(EVENT_ORDER, after)[0]
    if type(seq) is not int or seq < 0:
        raise InvalidArgument("`after` is not a cursor this API issued", "after")
    older_than = repos.clock.now() - resume_within if resume_within is not None else None
    if not owner.is_nothing and await repos.events.expired(seq, owner.filter(), older_than):
        raise CursorExpired("events after this cursor are older than a subscription may resume from; "
                            "query the current state, then continue after `eventsHead`", "after")
    return seq


async def events(repos: Repositories, caller: Caller, criteria: EventCriteria, ownership: Ownership,
                 request: PageRequest) -> Listing:
    """Provisioning events in commit order (R-EVT-1/2), narrowed like the customer lists (R-ORG-2/3)."""
    owner = await event_owner(repos, caller, ownership)
    await event_position(repos, request.after, owner)
    base = visible_events(owner, criteria)
    if base is None:
        return empty(request)
    page = await repos.events.page(base, EVENT_ORDER, request)
    return Listing(page, lambda: repos.events.count(base))


async def event_owner(repos: Repositories, caller: Caller, ownership: Ownership) -> Reach:
    """The owner filter of the events a caller may see and asked for (NOTHING when that is nothing)."""
    if not caller.principal.can(Scope.CUSTOMERS_READ) and not (own := creator_events(caller)).is_nothing:
        named = ownership.sub_partner_org_id  # a sales_admin reads its own org's only, whatever it names
        return own if named is None or (caller.org is not None and named == caller.org.id) else NOTHING
    require_scope(caller, Scope.CUSTOMERS_READ)
    return await _owner_filter(repos, caller, ownership)


def visible_events(owner: Reach, criteria: EventCriteria) -> dict[str, Any] | None:
    """The Mongo filter of the events of `owner` that match `criteria`; None when that is nothing."""
    if owner.is_nothing:
        return None
    return all_of(owner.filter(), criteria.to_filter())


def event_feed(owner: Reach, criteria: EventCriteria) -> tuple[Callable[[Mapping[str, Any]], bool], dict[str, Any]]:
    """The events of `owner` that match `criteria`, twice: as a predicate for the live feed and as the Mongo filter
    replaying them from the outbox (the same rule; a caller that sees nothing gets a feed of nothing)."""
    return (lambda doc: owner.admits(doc) and criteria.admits(doc)), visible_events(owner, criteria) or owner.filter()


async def customer_events(repos: Repositories, customer_id: str, request: PageRequest) -> Listing:
    """The status changes of one customer the caller already sees (what v1 showed; whole histories, with every
    action, come from `provisioningEvents` with a filter, R-AUD-2)."""
    base = {"customerId": customer_id, **EventCriteria().to_filter()}
    page = await repos.events.page(base, EVENT_ORDER, request)
    return Listing(page, lambda: repos.events.count(base))


async def templates(repos: Repositories, caller: Caller, request: PageRequest) -> Listing:
    if caller.org is None:
        return empty(request)
    base = {"ownerOrgId": caller.org.id, "retiredAt": None}  # R-TPL-5: retired templates are not listed
    page = await repos.templates.page(base, TEMPLATE_ORDER, request)
    return Listing(page, lambda: repos.templates.count(base))


async def sub_partners(
    repos: Repositories, caller: Caller, parent: Partner | None, state: SubPartnerState | None,
    request: PageRequest,
) -> Listing:
    """The sub-partners of `parent` (default: the caller's own org), for its admins or a platform admin."""
    parent = parent or caller.org
    if parent is None:
        return empty(request)
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        require_scope(caller, Scope.SUB_PARTNERS_READ)
        if caller.org is None or parent.id != caller.org.id:
            return empty(request)
    base = repos.partners.sub_partner_filter(parent.id, state)
    page = await repos.partners.page(base, PARTNER_ORDER, request)
    return Listing(page, lambda: repos.partners.count(base))


async def partners(repos: Repositories, caller: Caller, request: PageRequest) -> Listing:
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin may list partners")
    return Listing(await repos.partners.top_level(request), repos.partners.count_top_level)


async def partners_by_ids(repos: Repositories, caller: Caller, ids: Sequence[str]) -> list[Partner | None]:
    docs = await repos.partners.by_ids(ids)
    found = [Partner.from_doc(docs[i]) if i in docs else None for i in ids]
    return [p if p is not None and can_see_partner(caller, p) else None for p in found]


class Record(Enum):
    """What can be fetched by id."""

    CUSTOMER = "customer"
    SUBSCRIBER = "subscriber"
    LOCATION = "location"
    TEMPLATE = "template"
    BILLING_REPORT = "billingReport"
    SETUP_ASSIST = "setupAssistRequest"


# The token scope reading each record needs (a template needs none beyond the role).
_READ_SCOPE: dict[Record, Scope] = {Record.CUSTOMER: Scope.CUSTOMERS_READ, Record.SUBSCRIBER: Scope.SUBSCRIBERS_READ,
                                    Record.LOCATION: Scope.CUSTOMERS_READ,
                                    Record.SETUP_ASSIST: Scope.CUSTOMERS_READ,
                                    Record.BILLING_REPORT: Scope.BILLING_REPORTS_READ}


def _repository(repos: Repositories, record: Record) -> Repository:
    return {Record.CUSTOMER: repos.customers, Record.SUBSCRIBER: repos.subscribers, Record.LOCATION: repos.locations,
            Record.TEMPLATE: repos.templates, Record.BILLING_REPORT: repos.billing_reports,
            Record.SETUP_ASSIST: repos.setup_assist}[record]


async def visible_by_ids(
    repos: Repositories, caller: Caller, record: Record, ids: Sequence[str]
) -> list[Document | None]:
    """Customers, subscribers, locations, templates or billing reports by id, as this caller may see them (R-ORG-6)."""
    scope = direct_scope(caller)
    if scope.is_nothing:
        return [None] * len(ids)
    required = _READ_SCOPE.get(record)
    if required is not None and not caller.principal.can(required):
        return [None] * len(ids)
    repo = _repository(repos, record)
    docs = await repo.by_ids(ids, scope.filter())
    return [docs.get(i) for i in ids]


async def billing_rows(repos: Repositories, report_id: str, request: PageRequest) -> Listing:
    """The rows of a report the caller already sees, in report order."""
    base = {"reportId": report_id}
    page = await repos.billing_rows.page(base, ROW_ORDER, request)
    return Listing(page, lambda: repos.billing_rows.count(base))
