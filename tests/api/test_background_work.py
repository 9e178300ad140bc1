"""`backgroundWork` on customers and subscribers (DOMAIN.md §17, R-DASH-2): the job behind a status that has not
settled yet, its failed attempts, last error and next attempt, and what the entity waits for; null when idle."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from domain.rules.rpl import RplEntry
from domain.store.engine import Fault, FaultRule
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import NOW, Demo, Gateway

pytestmark = pytest.mark.settled_demo

WORK = "backgroundWork { kind attempts lastError { code message } nextAttemptAt waitingFor }"
CUSTOMER = f"query($id: ID!) {{ customer(id: $id) {{ status {WORK} }} }}"
SUBSCRIBER = f"query($id: ID!) {{ subscriber(id: $id) {{ status {WORK} }} }}"
PAGE = f"""query($first: Int) {{ customers(first: $first, filter: {{includeSubPartners: true}}, orderBy: CREATED_ASC) {{
  edges {{ node {{ id {WORK} subscribers(first: 5) {{ edges {{ node {{ id {WORK} }} }} }} }} }} }} }}"""


def _at(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


async def _customer(gateway: Gateway, token: str, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = (await gateway.execute(token, CUSTOMER, {"id": customer_id}))["customer"]
    return customer


async def test_r_dash_2_a_retrying_customer_shows_its_attempts_and_next_attempt(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    gateway.runtime.engine.rules.append(FaultRule(Fault.TRANSIENT, "RETRY-"))
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              "RETRY-1"))
    assert (await _customer(gateway, token, customer["id"]))["backgroundWork"] == {
        "kind": "customer.settle", "attempts": 0, "lastError": None, "nextAttemptAt": _at(timedelta(0)),
        "waitingFor": None}
    await gateway.settle()  # the first attempt fails; the next one is due later
    failed = await _customer(gateway, token, customer["id"])
    assert failed["status"] == "provisioning"
    work = failed["backgroundWork"]
    assert (work["kind"], work["attempts"], work["waitingFor"]) == ("customer.settle", 1, None)
    assert work["lastError"]["code"] == "TEMPORARY_FAILURE" and "503" in work["lastError"]["message"]
    assert work["nextAttemptAt"] > _at(timedelta(0))
    for _ in range(10):
        gateway.clock.advance(timedelta(minutes=1))
        await gateway.settle()
    settled = await _customer(gateway, token, customer["id"])
    assert (settled["status"], settled["backgroundWork"]) == ("provisioned", None)


async def test_r_dash_2_a_subscriber_waits_for_its_customer(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "W-1"))
    payload = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "ada@example.com")}))["provisionSubscriber"]
    assert payload["errors"] == [], payload
    subscriber = (await gateway.execute(token, SUBSCRIBER, {"id": payload["subscriber"]["id"]}))["subscriber"]
    assert subscriber["backgroundWork"] == {"kind": "subscriber.settle", "attempts": 0, "lastError": None,
                                            "nextAttemptAt": None, "waitingFor": "customer"}
    await gateway.settle()
    subscriber = (await gateway.execute(token, SUBSCRIBER, {"id": payload["subscriber"]["id"]}))["subscriber"]
    assert (subscriber["status"], subscriber["backgroundWork"]) == ("provisioned", None)


async def test_r_dash_2_a_customer_under_review_waits_for_the_review(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    await gateway.repos.rpl.load([RplEntry.create("Test List", "Springfield Plumbing Bad", country=None)])
    data = customer_input(await provisioning_id(gateway, demo.partner), "Bad")
    customer = await provision(gateway, token, data)
    await gateway.settle()
    review = await _customer(gateway, token, customer["id"])
    assert review["status"] == "pending_rpl_review"
    assert review["backgroundWork"] == {"kind": "rpl.timeout", "attempts": 0, "lastError": None,
                                        "nextAttemptAt": _at(timedelta(hours=72)), "waitingFor": "rpl_review"}


async def test_r_dash_2_a_page_of_customers_costs_the_same_commands_for_10_and_25(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    await gateway.execute(token, "{ viewer { orgId } }")

    async def commands(first: int) -> Counter[str]:
        gateway.commands.commands.clear()
        gateway.commands.enabled = True
        data = await gateway.execute(token, PAGE, {"first": first})
        gateway.commands.enabled = False
        assert len(data["customers"]["edges"]) == first
        return Counter(gateway.commands.commands)

    assert await commands(10) == await commands(25)
