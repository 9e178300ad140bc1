"""Customer lists and lookups."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from domain.model import entities as models
from domain.model.principal import Scope
from domain.rules.pagination import PageRequest
from domain.services import compliance, reads
from domain.store.driver import Document
from domain.store.repositories.customers import CustomerCriteria
from domain.store.repositories.subscribers import SubscriberCriteria
from resolvers.common import connection_of, listing_connection
from resolvers.context import Info
from resolvers.customers.types import CustomerConnection, CustomerFilter, CustomerType
from resolvers.enums import CustomerOrder
from resolvers.loaders import SubscriberCountKey, selected_fields, selected_names
from resolvers.plan import Later


async def list_customers(
    info: Info, filter: CustomerFilter | None, first: int | None, after: str | None,
    order_by: CustomerOrder | None, owner: models.Partner | None = None,
) -> CustomerConnection:
    """`Query.customers`, or `Partner.customers` when `owner` is given (then it names the org listed)."""
    caller = await info.context.caller()
    sub_partner_org_id: str | None = filter.sub_partner_org_id if filter else None
    include_sub_partners = bool(filter and filter.include_sub_partners)
    request = PageRequest.of(first, after)
    if owner is not None and (caller.org is None or owner.id != caller.org.id):
        # Listing another org's customers is the same as naming it as a sub-partner (R-ORG-3).
        if sub_partner_org_id not in (None, owner.id):
            return listing_connection(CustomerConnection, reads.empty(request), CustomerType.of_doc)
        sub_partner_org_id = owner.id
    criteria = CustomerCriteria(
        external_id=filter.external_id if filter else None,
        org_id=filter.org_id if filter else None,
        statuses=list(filter.status) if filter and filter.status is not None else None,
        name_contains=filter.name_contains if filter else None,
    )
    listing = await reads.customers(
        info.context.repos, caller, criteria,
        reads.Ownership(sub_partner_org_id=sub_partner_org_id, include_sub_partners=include_sub_partners),
        (order_by or CustomerOrder["CREATED_DESC"]).value, request,
    )
    # What the page's fields will read (and its total, when asked for) is requested first, so that the database
    # answers while this builds the page's objects (a DataLoader sends its batch two turns of the event loop after
    # the load, when its dispatch task first runs; a third lets the driver write it).
    with info.context.repos.db.sending() as sent:
        loading = prefetch(info, listing.page.docs, caller.principal.can(Scope.SUBSCRIBERS_READ))
        if "totalCount" in selected_names(info.selected_fields[0].selections, ()):
            listing = reads.Listing(listing.page, started(listing.count()))
        for _ in range(SEND_TURNS):
            await asyncio.sleep(0)
        await sent()
    connection = listing_connection(CustomerConnection, listing, CustomerType.of_doc)
    await loading
    return connection


SEND_TURNS = 3
T = TypeVar("T")
# The GraphQL field `Customer.subscribers`, named by its resolver (a plain function at run time; Strawberry's stubs
# call it a field), so that the prefetch follows the field if it is renamed.
SUBSCRIBERS: str = CustomerType.subscribers.__name__  # type: ignore[attr-defined]


def started(count: Awaitable[int]) -> Callable[[], Later]:
    """A count already on its way, for a connection's `totalCount` (however many times it is read)."""
    task = _issued(count)
    return lambda: Later(task)


def _issued(read: Awaitable[T]) -> asyncio.Future[T]:
    """A read on its way: read or not, its failure is reported by whoever awaits it, never as unread."""
    future = asyncio.ensure_future(read)
    future.add_done_callback(_retrieved)
    return future


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def prefetch(info: Info, customers: list[Document], subscribers_readable: bool = False) -> Awaitable[object]:
    """Load what the page's customers (stored documents) are asked for (owner, template, package and subscriber
    counts): one batch each, at once; returns what to await before the page's objects are built.

    Their fields then answer without a task each (graphql-core's, per customer and field). Only the owners and
    templates are awaited (objects, read a moment ago at most: rarely a query). The counts stay
    on their way: their fields answer `Later`s, which a planned execution fills in once it has built the page, so
    the database counts while the page is built (resolvers.plan).
    """
    if not customers:
        return asyncio.sleep(0)
    selections = info.selected_fields[0].selections
    node = selected_names(selections, ("edges", "node")) | selected_names(selections, ("nodes",))
    loaders = info.context.loaders
    loads: list[Awaitable[object]] = []
    if "owner" in node:
        loads.append(loaders.partner_by_id.load_many({c["ownerOrgId"] for c in customers}))
    if "template" in node:
        loads.append(loaders.template_by_id.load_many({c["templateId"] for c in customers}))
    ids = [c["_id"] for c in customers]
    assigned = "assigned" in (selected_names(selections, ("edges", "node", "packages"))
                              | selected_names(selections, ("nodes", "packages")))
    counted = subscribers_readable and any(
        "filter" not in field.arguments
        for field in selected_fields(selections, ("edges", "node", SUBSCRIBERS))
        + selected_fields(selections, ("nodes", SUBSCRIBERS)))
    if assigned or counted:
        # Both read the subscribers' statistics through loaders of their own, a batch (two turns) later: loaded
        # here, the statistics are on their way in the first batch, not behind the page's objects being built.
        _issued(loaders.subscriber_stats.load_many(ids))
    if assigned:
        _issued(loaders.assigned_by_customer.load_many(ids))
    if counted:
        # Each customer's subscriber count, unfiltered (the key `Customer.subscribers` reads without a filter).
        unfiltered = SubscriberCriteria()
        _issued(loaders.subscriber_count.load_many([SubscriberCountKey(c, unfiltered) for c in ids]))
    return asyncio.gather(*loads)


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="One customer; null when it does not exist or the caller may not see it.")
    async def customer(self, info: Info, id: strawberry.ID) -> CustomerType | None:
        reads.require_scope(await info.context.caller(), Scope.CUSTOMERS_READ)
        doc = await info.context.loaders.visible_customer.load(id)
        return CustomerType.of_doc(doc) if doc else None

    @strawberry.field(description="The caller's customers; sub-partners' only when asked for (R-ORG-3).")
    async def customers(
        self, info: Info, filter: CustomerFilter | None = None, first: int | None = 50, after: str | None = None,
        order_by: CustomerOrder | None = CustomerOrder["CREATED_DESC"],
    ) -> CustomerConnection:
        return await list_customers(info, filter, first, after, order_by)

    @strawberry.field(description="Customers waiting for a restricted-party decision, the most urgent first "
                                  "(compliance_reviewer only).")
    async def rpl_review_queue(self, info: Info, first: int | None = 50, after: str | None = None
                               ) -> CustomerConnection:
        repos = info.context.repos
        page = await compliance.review_queue(repos, await info.context.caller(), PageRequest.of(first, after))
        return connection_of(CustomerConnection, page, [CustomerType.of_doc(d) for d in page.docs],
                             repos.customers.count_pending_review)
