"""Subscriber lists: top-level (scoped by owner) and nested under a customer (batched)."""

from __future__ import annotations

from dataclasses import replace

import strawberry
from graphql import FieldNode

from domain.model import entities as models
from domain.model.principal import Scope
from domain.rules.pagination import Page, PageRequest
from domain.services import reads
from domain.store.repositories.subscribers import SubscriberCriteria
from resolvers.common import connection_of, listing_connection
from resolvers.context import Info
from resolvers.enums import SubscriberOrder
from resolvers.loaders import SubscriberCountKey, SubscriberPageKey
from resolvers.plan import Later
from resolvers.subscribers.types import SubscriberConnection, SubscriberFilter, SubscriberType


def _criteria(f: SubscriberFilter | None) -> SubscriberCriteria:
    if f is None:
        return SubscriberCriteria()
    return SubscriberCriteria(
        customer_ids=(f.customer_id,) if f.customer_id is not None else None,
        email=f.email,
        status=f.status,
        package=f.package.value if f.package else None,
        last_status_change_after=f.last_status_change_after,
        add_on=f.add_on.value if f.add_on else None,
        location_id=str(f.location_id) if f.location_id else None,
        person_id=str(f.person_id) if f.person_id is not None else None,
    )


def _order(order_by: SubscriberOrder | None) -> str:
    order: str = (order_by or SubscriberOrder["CREATED_DESC"]).value
    return order


async def list_subscribers(
    info: Info, filter: SubscriberFilter | None, first: int | None, after: str | None,
    order_by: SubscriberOrder | None,
) -> SubscriberConnection:
    ownership = reads.Ownership(
        sub_partner_org_id=filter.sub_partner_org_id if filter else None,
        include_sub_partners=bool(filter and filter.include_sub_partners),
    )
    listing = await reads.subscribers(
        info.context.repos, await info.context.caller(), _criteria(filter),
        filter.external_customer_id if filter else None, ownership, _order(order_by), PageRequest.of(first, after),
    )
    return listing_connection(SubscriberConnection, listing, SubscriberType.of_doc)


async def nested_subscribers(
    info: Info, customer: models.Customer, filter: SubscriberFilter | None, first: int | None,
    after: str | None, order_by: SubscriberOrder | None,
) -> SubscriberConnection:
    """A visible customer's subscribers; loaders batch this across every customer of a page."""
    reads.require_scope(await info.context.caller(), Scope.SUBSCRIBERS_READ)
    request = PageRequest.of(first, after)
    order = _order(order_by)
    if filter is not None and (filter.customer_id not in (None, customer.id)
                               or filter.external_customer_id not in (None, customer.external_id)):
        return listing_connection(SubscriberConnection, reads.empty(request), SubscriberType.of_doc)
    # The loaders add the customer id themselves, so the criteria key stays the same for every customer.
    shared = replace(_criteria(filter), customer_ids=None)

    async def count() -> int:
        return await info.context.loaders.subscriber_count.load(SubscriberCountKey(customer.id, shared))

    if request.first == 0 and request.after is None:
        # Only a count is asked for (`subscribers(first: 0) { totalCount }`): an empty first page, whose
        # hasNextPage is whether any row exists, comes from the count the connection needs anyway.
        page = _count_only(await count())
    else:
        page = await info.context.loaders.subscriber_page.load(SubscriberPageKey(customer.id, shared, order,
                                                                                 request))

    return connection_of(SubscriberConnection, page, [SubscriberType.of_doc(d) for d in page.docs], count)


def counted_subscribers(info: Info, customer: models.Customer, filter: SubscriberFilter | None, first: int | None,
                        after: str | None) -> SubscriberConnection | None:
    """`subscribers(first: 0)` with no filter (a count), answered at once when the customers page prefetched the
    counts (resolvers.customers.queries.prefetch) and the caller is known; None otherwise (`nested_subscribers`).

    A count still on its way answers too when `totalCount` is all that is asked of the connection: its total is a
    `Later` of the count."""
    caller = info.context._caller
    if filter is not None or first != 0 or after or caller is None:
        return None
    reads.require_scope(caller, Scope.SUBSCRIBERS_READ)
    loaded = info.context.loaders.subscriber_count.cache_map.get(SubscriberCountKey(customer.id, SubscriberCriteria()))
    if loaded is None or loaded.cancelled():
        return None
    if not loaded.done():
        if not _only_the_total(info):
            return None
        return connection_of(SubscriberConnection, _count_to_come(), [], lambda: Later(loaded))
    if loaded.exception() is not None:
        return None
    total: int = loaded.result()
    return connection_of(SubscriberConnection, _count_only(total), [], lambda: total)


def _only_the_total(info: Info) -> bool:
    """Whether the field asks its connection for `totalCount` (and maybe `__typename`) and nothing else."""
    for node in info._raw_info.field_nodes:
        if node.selection_set is None:
            return False
        for selection in node.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value not in ("totalCount", "__typename"):
                return False
    return True


def _count_to_come() -> Page:
    """The page of a count still on its way: only its total is asked for (`_only_the_total`), so nothing reads
    this page's `has_next`, which would be whether any row exists."""
    return Page(docs=[], cursors=[], has_next=False, has_previous=False)


def _count_only(total: int) -> Page:
    """The empty first page of `first: 0`: its hasNextPage is whether any row exists."""
    return Page(docs=[], cursors=[], has_next=total > 0, has_previous=False)


@strawberry.type
class SubscriberQueries:
    @strawberry.field(description="One subscriber; null when it does not exist or the caller may not see it.")
    async def subscriber(self, info: Info, id: strawberry.ID) -> SubscriberType | None:
        reads.require_scope(await info.context.caller(), Scope.SUBSCRIBERS_READ)
        doc = await info.context.loaders.visible_subscriber.load(id)
        return SubscriberType.of_doc(doc) if doc else None

    @strawberry.field
    async def subscribers(
        self, info: Info, filter: SubscriberFilter | None = None, first: int | None = 50, after: str | None = None,
        order_by: SubscriberOrder | None = SubscriberOrder["CREATED_DESC"],
    ) -> SubscriberConnection:
        return await list_subscribers(info, filter, first, after, order_by)
