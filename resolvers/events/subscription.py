"""`Subscription.provisioningEvents` (R-EVT-2) and `Query.eventsHead`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.errors import InvalidArgument
from domain.event_feed import compile_filter
from domain.pagination import decode_cursor, encode_cursor
from domain.services import reads
from resolvers.context import Info
from resolvers.events.types import EventFilter, ProvisioningEventType


def head_cursor(seq: int) -> str:
    return encode_cursor(reads.EVENT_ORDER, {"seq": seq, "_id": f"evt_{seq:012d}"})


@strawberry.type
class EventHeadQueries:
    @strawberry.field(description="Cursor of the newest event: query state, then subscribe(after: eventsHead).")
    async def events_head(self, info: Info) -> str:
        await info.context.caller()
        assert info.context.hub is not None
        return head_cursor(await info.context.hub.head())


@strawberry.type(name="Subscription")
class EventSubscription:
    @strawberry.subscription(description="Every provisioning-state change the caller may see (R-EVT-2), "
                                         "optionally resumed after a cursor.")
    async def provisioning_events(
        self, info: Info, filter: EventFilter | None = None, after: str | None = None,
    ) -> AsyncGenerator[ProvisioningEventType, None]:
        context = info.context
        caller = await context.caller()
        criteria, ownership = EventFilter.to_domain(filter)
        after_seq = decode_cursor(reads.EVENT_ORDER, after)[0] if after is not None else None
        if after_seq is not None and (type(after_seq) is not int or after_seq < 0):
            raise InvalidArgument("`after` is not a cursor this API issued", "after")
        visible = await reads.event_filter(context.repos, caller, criteria, ownership)
        assert context.hub is not None
        if visible is None:
            visible = {"_id": {"$in": []}}
        async for doc in context.hub.subscribe(compile_filter(visible), visible, after_seq):
            context.fresh_loaders()
            yield ProvisioningEventType.of(doc, encode_cursor(reads.EVENT_ORDER, doc))
