"""Live provisioning events over websockets (graphql-transport-ws) with the real `gql` client.

The app runs under a real uvicorn server on a free port, in this process, so the test drives the job
queue (`gateway.settle()`) and the clock itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed
from websockets.exceptions import ConnectionClosed

from domain.rpl import RplEntry
from tests.api.live import serving, ws_client
from tests.api.provisioning import DECIDE, customer_input, partner_token, provision, provisioning_id, reviewer_token
from tests.conftest import Demo, Gateway

SUBSCRIBE = """
subscription($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) {
    cursor entityType entityId customerId ownerOrgId fromStatus toStatus version customer { id status }
  }
}"""
HEAD = "{ eventsHead }"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion


@pytest.fixture
async def ws_url(gateway: Gateway) -> AsyncIterator[str]:
    async with serving(gateway.app) as url:
        yield url


async def _collect(url: str, token: str, n: int, variables: dict[str, Any], started: asyncio.Event,
                   about: set[str] | None = None) -> list[dict[str, Any]]:
    """The first `n` events received (only those about the ids in `about`, once it is filled in, if given)."""
    received: list[dict[str, Any]] = []
    async with ws_client(url, token) as session:
        stream = session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values=variables))
        started.set()
        async for result in stream:
            received.append(result["provisioningEvents"])
            # `about` may be filled in after its first event arrived: look at everything received so far.
            relevant = [e for e in received if about is None or e["entityId"] in about]
            if len(relevant) == n:
                return relevant
    return received


async def test_r_evt_2_a_partner_sees_its_customer_move_through_review(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    await gateway.repos.rpl.load([RplEntry.create("Test List", "Umbrella Holdings")])
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    started = asyncio.Event()
    only_customers = {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head}
    about: set[str] = set()  # the demo's own in-flight work moves too: watch this customer's events
    watcher = asyncio.create_task(_collect(ws_url, token, 3, only_customers, started, about))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    data = customer_input(await provisioning_id(gateway, demo.partner), "LIVE-1")
    data["customerInfo"]["name"] = "Umbrella Holdings Ltd"
    customer = await provision(gateway, token, data)
    about.add(customer["id"])
    await gateway.settle()
    await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"], "decision": "APPROVE"})
    await gateway.settle()
    events = await asyncio.wait_for(watcher, DEADLINE_S)
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "provisioning"), ("provisioning", "pending_rpl_review"), ("pending_rpl_review", "provisioned")]
    assert all(e["entityId"] == customer["id"] for e in events)
    versions = [e["version"] for e in events]
    assert versions == sorted(set(versions))
    assert events[-1]["customer"] == {"id": customer["id"], "status": "provisioned"}


async def test_r_evt_2_resuming_after_a_cursor_replays_what_was_missed_exactly_once(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    provisioning = await provisioning_id(gateway, demo.partner)
    for i in range(3):  # committed while nobody listens
        await provision(gateway, token, customer_input(provisioning, f"MISSED-{i}"))
    started = asyncio.Event()
    watcher = asyncio.create_task(_collect(ws_url, token, 5, {
        "filter": {"entityTypes": ["CUSTOMER"]}, "after": head}, started))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    for i in range(2):  # and live ones after
        await provision(gateway, token, customer_input(provisioning, f"LIVE-{i}"))
    events = await asyncio.wait_for(watcher, DEADLINE_S)
    stored = [e for e in await gateway.events(entityType="CUSTOMER") if e["ownerOrgId"] == demo.partner]
    expected = [(e["entityId"], e["toStatus"]) for e in stored[-5:]]
    assert [(e["entityId"], e["toStatus"]) for e in events] == expected
    assert len({e["cursor"] for e in events}) == 5


async def test_r_org_2_a_sub_partner_subscription_receives_only_its_own_events(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    partner = partner_token(gateway, demo)
    sub = gateway.token(demo.sub_a, "full_admin")
    head = (await gateway.execute(partner, HEAD))["eventsHead"]
    started = asyncio.Event()
    watcher = asyncio.create_task(_collect(ws_url, sub, 1, {"filter": {"entityTypes": ["CUSTOMER"]},
                                                            "after": head}, started))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    await provision(gateway, partner, customer_input(await provisioning_id(gateway, demo.partner), "PARENT-1"))
    own = await provision(gateway, partner, customer_input(await provisioning_id(gateway, demo.sub_a), "SUB-1"),
                          on_behalf=demo.sub_a)
    [event] = await asyncio.wait_for(watcher, DEADLINE_S)
    assert (event["entityId"], event["ownerOrgId"]) == (own["id"], demo.sub_a)


async def test_a_bad_token_in_connection_init_is_refused_with_4403(gateway: Gateway, ws_url: str) -> None:
    with pytest.raises(TransportConnectionFailed) as refused:
        async with ws_client(ws_url, "not-a-token") as session:
            async for _ in session.subscribe(GraphQLRequest(SUBSCRIBE)):
                break
    closed = refused.value.__cause__ or refused.value.__context__
    assert isinstance(closed, ConnectionClosed), repr(refused.value)
    assert closed.rcvd is not None and closed.rcvd.code == 4403
