"""The event hub's own policies, against the real database (without a websocket in the way).

A slow consumer must never make memory grow: once `queue_size` events wait undelivered, its feed ends
with SlowConsumer carrying the last event it did receive, and resuming from there loses nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import GraphQLError

from domain.store.event_hub import Delivery, EventHub, FeedUnavailable, SlowConsumer
from resolvers.errors import code_of
from tests.api.live import subscribers_reach
from tests.api.provisioning import customer_input, partner_token, provision, provisioning_id
from tests.api.raw_ws import PYMONGO_SOCKET_LEAKS
from tests.conftest import Demo, Gateway

DEADLINE_S = 30.0
CUSTOMERS = {"entityType": "CUSTOMER"}


def accepts(doc: dict[str, Any]) -> bool:
    return bool(doc["entityType"] == "CUSTOMER")


async def test_r_evt_2_a_slow_consumer_is_ended_with_its_last_position_and_resumes_from_it_without_loss(
        gateway: Gateway, demo: Demo) -> None:
    hub = EventHub(gateway.repos.events, queue_size=2)
    token = partner_token(gateway, demo)
    provisioning = await provisioning_id(gateway, demo.partner)
    try:
        feed = hub.subscribe(accepts, CUSTOMERS, None)
        first_item = asyncio.ensure_future(anext(feed))
        await subscribers_reach(hub, 1)
        made = [await provision(gateway, token, customer_input(provisioning, "SLOW-0"))]
        first: Delivery = await asyncio.wait_for(first_item, DEADLINE_S)
        assert first.doc["entityId"] == made[0]["id"]
        for i in range(1, 6):  # the consumer reads nothing meanwhile
            made.append(await provision(gateway, token, customer_input(provisioning, f"SLOW-{i}")))
        async with asyncio.timeout(DEADLINE_S):
            while not any(s.overflowed for s in hub._subscribers):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        with pytest.raises(SlowConsumer) as ended:
            await asyncio.wait_for(anext(feed), DEADLINE_S)
        assert ended.value.last_seq == first.seq
        assert hub.subscribers == 0

        resumed = hub.subscribe(accepts, CUSTOMERS, ended.value.last_seq)
        again = [await asyncio.wait_for(anext(resumed), DEADLINE_S) for _ in range(5)]
        assert [d.doc["entityId"] for d in again] == [c["id"] for c in made[1:]]
        await resumed.aclose()
    finally:
        await hub.stop()


async def test_live_events_reach_every_local_subscriber_as_one_shared_delivery(gateway: Gateway, demo: Demo) -> None:
    hub = EventHub(gateway.repos.events)
    try:
        feeds = [hub.subscribe(accepts, CUSTOMERS, None) for _ in range(3)]
        pending = [asyncio.ensure_future(anext(f)) for f in feeds]
        await subscribers_reach(hub, 3)
        await provision(gateway, partner_token(gateway, demo),
                        customer_input(await provisioning_id(gateway, demo.partner), "SHARED"))
        got = [await asyncio.wait_for(p, DEADLINE_S) for p in pending]
        assert got[0] is got[1] is got[2]
        for feed in feeds:
            await feed.aclose()
    finally:
        await hub.stop()


@pytest.mark.parametrize(("interruption", "code"), [(SlowConsumer, "SLOW_CONSUMER"),
                                                    (FeedUnavailable, "EVENTS_UNAVAILABLE")])
def test_an_interrupted_feed_tells_the_client_its_code_and_the_cursor_to_resume_from(
        interruption: type[SlowConsumer | FeedUnavailable], code: str) -> None:
    from domain.rules.pagination import decode_cursor
    from domain.store.repositories.events import EVENT_ORDER

    error = GraphQLError("ended", original_error=interruption("ended", 41))
    found, extra = code_of(error)
    assert found == code
    assert decode_cursor(EVENT_ORDER, str(extra["cursor"])) == [41, "evt_000000000041"]


@PYMONGO_SOCKET_LEAKS
async def test_a_subscription_cancelled_as_it_starts_ends_instead_of_waiting_for_events_forever(
        gateway: Gateway) -> None:
    # Python 3.11's asyncio.wait_for returns the result, and drops the cancellation, when the task is cancelled
    # just as the awaited future completes: a subscription whose websocket closed as it started (cancelled while
    # waiting for the hub to be ready) went on waiting for events forever, and so did its socket's handler.
    # Found by tests/fuzz/test_websocket_fuzz.py. Each step count lands the cancellation at another await.
    hub = EventHub(gateway.repos.events)
    try:
        warm = hub.subscribe(accepts, CUSTOMERS, None)
        first = asyncio.ensure_future(anext(warm))
        await subscribers_reach(hub, 1)  # the hub is ready
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        for steps in range(6):
            started = asyncio.ensure_future(anext(hub.subscribe(accepts, CUSTOMERS, None)))
            for _ in range(steps):
                await asyncio.sleep(0)
            started.cancel()
            await asyncio.wait([started], timeout=DEADLINE_S)  # a failure bound, not a timing assertion
            assert started.cancelled(), f"not cancelled after {steps} steps"
        assert hub.subscribers == 0
    finally:
        await hub.stop()
