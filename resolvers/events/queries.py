"""`Query.provisioningEvents` and `Customer.events`."""

from __future__ import annotations

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import reads
from resolvers.common import connection_of
from resolvers.context import Info
from resolvers.events.types import EventFilter, ProvisioningEventConnection, ProvisioningEventType


def event_connection(listing: reads.Listing) -> ProvisioningEventConnection:
    page = listing.page
    nodes = [ProvisioningEventType.of(d, c) for d, c in zip(page.docs, page.cursors, strict=True)]
    return connection_of(ProvisioningEventConnection, page, nodes, listing.count)


async def customer_events(info: Info, customer_id: str, first: int | None, after: str | None
                          ) -> ProvisioningEventConnection:
    return event_connection(await reads.customer_events(info.context.repos, customer_id, PageRequest.of(first, after)))


@strawberry.type
class EventQueries:
    @strawberry.field(description="Status changes the caller may see, in commit order (R-EVT-1/2).")
    async def provisioning_events(
        self, info: Info, filter: EventFilter | None = None, first: int | None = 50, after: str | None = None,
    ) -> ProvisioningEventConnection:
        caller = await info.context.caller()
        criteria, ownership = EventFilter.to_domain(filter)
        listing = await reads.events(info.context.repos, caller, criteria, ownership, PageRequest.of(first, after))
        return event_connection(listing)
