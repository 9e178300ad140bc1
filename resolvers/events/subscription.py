"""`Subscription.provisioningEvents` (R-EVT-2) and `Query.eventsHead`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry

from domain.services import reads
from resolvers.context import Info
from resolvers.events.sharing import RIDE, Share, selection_key
from resolvers.events.types import EventFilter, ProvisioningEventType


@strawberry.type
class EventHeadQueries:
    @strawberry.field(description="Cursor of the newest event: query state, then subscribe(after: eventsHead).")
    async def events_head(self, info: Info) -> str:
        caller = await info.context.caller()
        return reads.event_cursor(await reads.events_head(info.context.repos, caller))


@strawberry.type(name="Subscription")
class EventSubscription:
    @strawberry.subscription(description="Every provisioning-state change the caller may see (R-EVT-2), "
                                         "optionally resumed after a cursor. Ends with an error whose "
                                         "`extensions` carry `code` (SLOW_CONSUMER, EVENTS_UNAVAILABLE) and "
                                         "`cursor` to resume from; CURSOR_EXPIRED for a cursor older than the 7-day "
                                         "window (queries still read it: events are kept ≥ 5 years).")
    async def provisioning_events(
        self, info: Info, filter: EventFilter | None = None, after: str | None = None,
    ) -> AsyncGenerator[ProvisioningEventType, None]:
        context = info.context
        caller = await context.caller()
        criteria, ownership = EventFilter.to_domain(filter)
        owner = await reads.event_owner(context.repos, caller, ownership)
        assert context.hub is not None
        # R-EVT-2 (amended 2026-12): resuming replays at most the hub's window (7 days); queries read all history.
        after_seq = await reads.event_position(context.repos, after, owner, context.hub.cursor_lifetime)
        if after_seq is None:  # from now: the caller's own head, so no cursor it is given tracks others' events
            after_seq = await reads.events_head(context.repos, caller)
        accepts, replay = reads.event_feed(owner, criteria)
        key = selection_key(info._raw_info, info.variable_values, caller.principal)
        # Subscribers ride together (one execution and one frame sent to all, resolvers.events.sharing) when they
        # ask the same thing of the same events: the selection and scope (`key`) and the filter (`replay`).
        group = (key, json.dumps(replay, sort_keys=True, default=str))
        context.fresh_loaders()  # what the set-up loaded is not kept for as long as the subscription lasts
        async for delivery in context.hub.subscribe(accepts, replay, after_seq, group=group, ride=RIDE.get()):
            context.fresh_loaders()
            yield ProvisioningEventType.of(delivery.doc, delivery.cursor,
                                           Share(delivery.shared, key, delivery.serve if delivery.riders else None))
