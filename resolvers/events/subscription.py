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


def _criteria(filter: EventFilter | None) -> tuple[reads.EventCriteria, reads.Ownership]:
    criteria = reads.EventCriteria(
        entity_types=[t.value for t in filter.entity_types] if filter and filter.entity_types is not None else None,
        customer_ids=[str(c) for c in filter.customer_ids] if filter and filter.customer_ids is not None else None,
        to_statuses=list(filter.to_statuses) if filter and filter.to_statuses is not None else None,
    )
    ownership = reads.Ownership(sub_partner_org_id=filter.sub_partner_org_id if filter else None,
                                include_sub_partners=bool(filter and filter.include_sub_partners))
    return criteria, ownership


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
        criteria, ownership = _criteria(filter)
        after_seq = int(decode_cursor(reads.EVENT_ORDER, after)[0]) if after is not None else None
        if after_seq is not None and after_seq < 0:
            raise InvalidArgument("`after` is not a cursor of this list", "after")
        visible = await reads.event_filter(context.repos, caller, criteria, ownership)
        assert context.hub is not None
        if visible is None:
            visible = {"_id": {"$in": []}}
        async for doc in context.hub.subscribe(compile_filter(visible), visible, after_seq):
            context.fresh_loaders()
            yield ProvisioningEventType.of(doc, encode_cursor(reads.EVENT_ORDER, doc))
