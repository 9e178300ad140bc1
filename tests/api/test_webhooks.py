"""Signed webhooks through the API, delivered to a real HTTP receiver on loopback (DOMAIN.md §13, R-NOT-7…10).

The gateway runs with GATEWAY_WEBHOOK_ALLOW_LOOPBACK so endpoints may be http://127.0.0.1. The sender is driven
explicitly (`run_until_idle`) and the waits between attempts are moved through with the injectable clock; the last
test also lets the background sender run on its own. The events delivered are the endpoints' own state changes
(WEBHOOK_ENDPOINT), which each test makes at will.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from typing import Any

import pytest

from tests.api.webhook_receiver import Receiver
from tests.conftest import Demo, Gateway

pytestmark = [pytest.mark.settled_demo, pytest.mark.settings(webhook_allow_loopback=True)]

ENDPOINT = """id url description state disabledReason version secretRotatedAt previousSecretExpiresAt
  filter { entityTypes includeSubPartners subPartnerOrgId } owner { id }"""
PAYLOAD = f"endpoint {{ {ENDPOINT} }} secret errors {{ code message field }}"
CREATE = f"""mutation($input: WebhookEndpointInput!) {{ createWebhookEndpoint(input: $input) {{ {PAYLOAD} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: WebhookEndpointInput!) {{
  updateWebhookEndpoint(id: $id, input: $input) {{ {PAYLOAD} }} }}"""
ROTATE = f"mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ {PAYLOAD} }} }}"
SET_STATE = f"""mutation($id: ID!, $state: WebhookEndpointState!, $after: String) {{
  setWebhookEndpointState(id: $id, state: $state, resumeAfter: $after) {{ {PAYLOAD} }} }}"""
SUB_PARTNER_STATE = """mutation($id: ID!, $state: SubPartnerState!) {
  setSubPartnerState(id: $id, state: $state) { errors { code } } }"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId errors { code field } } }"
LIST = f"{{ webhookEndpoints {{ totalCount edges {{ node {{ {ENDPOINT} }} }} }} }}"
DELIVERIES = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries { totalCount edges { node {
  id eventCursor status nextAttemptAt createdAt attempts { at httpStatus durationMs error } } } } } } }"""
ONLY_ENDPOINTS = {"entityTypes": ["WEBHOOK_ENDPOINT"]}
NOTHING = {"entityTypes": ["ORDER"]}  # an endpoint that hears nothing here


async def _create(gateway: Gateway, token: str, url: str, **input: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gateway.execute(token, CREATE, {"input": {"url": url, **input}}))[
        "createWebhookEndpoint"]
    assert result["errors"] == [], result
    return result


async def _state(gateway: Gateway, token: str, endpoint_id: str, state: str, after: str | None = None
                 ) -> dict[str, Any]:
    result: dict[str, Any] = (await gateway.execute(token, SET_STATE, {"id": endpoint_id, "state": state,
                                                                       "after": after}))["setWebhookEndpointState"]
    return result


async def _listed(gateway: Gateway, token: str, endpoint_id: str) -> dict[str, Any]:
    edges = (await gateway.execute(token, LIST))["webhookEndpoints"]["edges"]
    found: dict[str, Any] = next(e["node"] for e in edges if e["node"]["id"] == endpoint_id)
    return found


async def _deliver(gateway: Gateway) -> None:
    assert gateway.runtime.webhooks is not None
    await gateway.runtime.webhooks.run_until_idle()


async def _deliveries(gateway: Gateway, token: str, endpoint_id: str) -> list[dict[str, Any]]:
    node = (await gateway.execute(token, DELIVERIES, {"id": endpoint_id}))["node"]
    return [e["node"] for e in node["deliveries"]["edges"]]


async def test_r_not_7_registration_rules_limits_roles_and_tenancy(gateway: Gateway, demo: Demo) -> None:
    admin, other = gateway.token(demo.partner), gateway.token(demo.sub_a)
    async with Receiver() as receiver:
        created = await _create(gateway, admin, receiver.url, description="back office",
                                filter={"entityTypes": ["CUSTOMER"], "includeSubPartners": True})
        endpoint = created["endpoint"]
        assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 44
        assert endpoint["state"] == "active" and endpoint["version"] == 1 and endpoint["owner"]["id"] == demo.partner
        assert endpoint["filter"] == {"entityTypes": ["CUSTOMER"], "includeSubPartners": True,
                                      "subPartnerOrgId": None}
        # Its admins read it (never the secret again); a read_only_admin too; nobody of another org.
        listed = (await gateway.execute(gateway.token(demo.partner, "read_only_admin"), LIST))["webhookEndpoints"]
        assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["id"] == endpoint["id"]
        assert (await gateway.execute(other, LIST))["webhookEndpoints"]["totalCount"] == 0
        assert (await gateway.execute(other, DELIVERIES, {"id": endpoint["id"]}))["node"] is None
        # Writes need full_admin (top-level FORBIDDEN); another org's id is a missing one (R-ORG-6).
        for role in ("read_only_admin", "sales_admin"):
            errors = await gateway.errors(gateway.token(demo.partner, role), CREATE, {"input": {"url": receiver.url}})
            assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        async with gateway.writes_nothing("another org's endpoint"):
            for doc, variables in ((ROTATE, {}), (UPDATE, {"input": {"url": receiver.url}}), (DELETE, {})):
                body = (await gateway.post(other, doc, {"id": endpoint["id"], **variables})).json()["data"]
                assert next(iter(body.values()))["errors"][0]["code"] == "NOT_FOUND"
            # Bad URLs: https only, public hosts only (private, link-local, loopback over https), ≤ 2048 characters.
            for url in ("ftp://example.com/x", "https://10.0.0.8/x", "https://169.254.169.254/x", "https://[fe80::1]/x",
                        "http://192.168.1.4/x", "https://example.com/" + "a" * 2050, "https://localhost/x"):
                refused = (await gateway.execute(admin, CREATE, {"input": {"url": url}}))["createWebhookEndpoint"]
                assert [(e["code"], e["field"]) for e in refused["errors"]] == [
                    ("WEBHOOK_URL_INVALID", ["input", "url"])], url
                assert refused["endpoint"] is None and refused["secret"] is None
            named = await gateway.execute(admin, CREATE, {"input": {"url": receiver.url, "filter": {
                "subPartnerOrgId": "ptn_" + "0" * 24}}})
            assert named["createWebhookEndpoint"]["errors"][0]["code"] == "NOT_A_SUB_PARTNER"
        # At most 10 per org; a deleted one frees its place. Every state change is a WEBHOOK_ENDPOINT event.
        ids = [endpoint["id"]] + [(await _create(gateway, admin, receiver.url))["endpoint"]["id"] for _ in range(9)]
        async with gateway.writes_nothing("the 11th endpoint"):
            full = (await gateway.execute(admin, CREATE, {"input": {"url": receiver.url}}))["createWebhookEndpoint"]
        assert full["errors"][0]["code"] == "WEBHOOK_LIMIT_REACHED"
        assert (await gateway.execute(admin, DELETE, {"id": ids[3]}))["deleteWebhookEndpoint"]["deletedId"] == ids[3]
        await _create(gateway, admin, receiver.url)
        events = await gateway.events(entityType="WEBHOOK_ENDPOINT", rootOrgId=demo.partner)
        assert [(e["fromStatus"], e["toStatus"]) for e in events if e["entityId"] == ids[3]] == [
            (None, "active"), ("active", "deleted")]
        assert len(events) == 12 and {e["ownerOrgId"] for e in events} == {demo.partner}


async def test_r_not_8_r_not_9_signed_in_commit_order_retried_with_backoff_until_received_once(
        gateway: Gateway, demo: Demo) -> None:
    admin = gateway.token(demo.partner)
    failures = 3

    def answer(_: object) -> int:
        nonlocal failures
        failures -= 1
        return 503 if failures >= 0 else 204

    async with Receiver(answer) as receiver:
        created = await _create(gateway, admin, receiver.url, filter=ONLY_ENDPOINTS)
        hook, secret = created["endpoint"]["id"], created["secret"]
        other = (await _create(gateway, admin, receiver.url, filter=NOTHING))["endpoint"]["id"]
        await _state(gateway, admin, other, "disabled")
        await _state(gateway, admin, other, "active")
        # The first attempt fails: the delivery waits 30 s, then 1 min, then 2 min (on the gateway's clock).
        for wait in (30, 60, 120):
            await _deliver(gateway)
            pending = (await _deliveries(gateway, admin, hook))[0]
            assert pending["status"] == "pending" and len(pending["attempts"]) == 3 - failures
            assert pending["nextAttemptAt"] is not None
            await _deliver(gateway)  # nothing is due before the wait is over
            assert len(receiver.requests) == 3 - failures
            gateway.clock.advance(timedelta(seconds=wait))
        await _deliver(gateway)
    # Every event the endpoint may see, once, in commit order; retries kept the delivery's id (webhook-id).
    events = await gateway.events(entityType="WEBHOOK_ENDPOINT", rootOrgId=demo.partner)
    delivered = [r.verified_by(secret) for r in receiver.accepted]
    assert [(d["entityId"], d["toStatus"]) for d in delivered] == [(e["entityId"], e["toStatus"]) for e in events]
    assert all(d["endpointId"] == hook and "actor" not in d for d in delivered)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == len(events)
    deliveries = await _deliveries(gateway, admin, hook)
    assert [d["status"] for d in deliveries] == ["succeeded"] * 4
    oldest = deliveries[-1]
    assert oldest["id"] == receiver.requests[0].headers["webhook-id"] == receiver.accepted[0].headers["webhook-id"]
    assert [a["httpStatus"] for a in oldest["attempts"]] == [503, 503, 503, 204]
    assert oldest["attempts"][0]["error"] == "HTTP 503" and oldest["attempts"][-1]["error"] is None
    assert [receiver.accepted[i].payload["cursor"] for i in range(4)] == [d["eventCursor"] for d in deliveries[::-1]]

    # R-NOT-8: after a rotation both secrets sign for 24 h, then only the new one.
    async with Receiver() as receiver:
        await gateway.execute(admin, UPDATE, {"id": hook, "input": {"url": receiver.url, "filter": ONLY_ENDPOINTS}})
        rotated = (await gateway.execute(admin, ROTATE, {"id": hook}))["rotateWebhookSecret"]
        new_secret = rotated["secret"]
        assert new_secret != secret and rotated["endpoint"]["previousSecretExpiresAt"] is not None
        await _state(gateway, admin, other, "disabled")
        await _deliver(gateway)
        both = receiver.accepted[-1]
        assert both.headers["webhook-signature"].count("v1,") == 2
        assert both.verified_by(secret) == both.verified_by(new_secret)
        gateway.clock.advance(timedelta(hours=24))
        await _state(gateway, admin, other, "active")
        await _deliver(gateway)
        assert receiver.accepted[-1].headers["webhook-signature"].count("v1,") == 1
        receiver.accepted[-1].verified_by(new_secret)


async def test_r_not_7_an_endpoint_gets_exactly_what_its_org_may_see(gateway: Gateway, demo: Demo) -> None:
    """R-ORG-2/3: a sub-partner's endpoint hears only its own org's events; its parent's hears its own by default
    and its sub-partners' only when its filter asks for them. R-ORG-5: a suspended sub-partner registers none."""
    parent, sub_a, sub_b = (gateway.token(o) for o in (demo.partner, demo.sub_a, demo.sub_b))
    heard = {"entityTypes": ["WEBHOOK_ENDPOINT", "SUB_PARTNER"]}
    async with Receiver() as a_side, Receiver() as parent_side, Receiver() as everything:
        hook_a = (await _create(gateway, sub_a, a_side.url, filter=heard))["endpoint"]["id"]
        hook_p = (await _create(gateway, parent, parent_side.url, filter=heard))["endpoint"]["id"]
        await _create(gateway, parent, everything.url, filter={**heard, "includeSubPartners": True})
        async with gateway.writes_nothing("a suspended sub-partner's endpoint"):
            refused = await gateway.execute(sub_b, CREATE, {"input": {"url": a_side.url}})
        assert refused["createWebhookEndpoint"]["errors"][0]["code"] == "SUB_PARTNER_SUSPENDED"
        await gateway.execute(gateway.token(None, "platform_admin"), SUB_PARTNER_STATE,
                              {"id": demo.sub_b, "state": "active"})
        hook_b = (await _create(gateway, sub_b, a_side.url, filter=NOTHING))["endpoint"]["id"]
        await _state(gateway, sub_b, hook_b, "disabled")
        await _state(gateway, sub_a, hook_a, "active")  # already active: nothing changes, no event
        await _deliver(gateway)
        owners = [{r.payload["ownerOrgId"] for r in side.accepted} for side in (a_side, parent_side, everything)]
    assert owners == [{demo.sub_a}, {demo.partner}, {demo.partner, demo.sub_b}]
    assert [r.payload["entityId"] for r in a_side.accepted] == [hook_a]
    assert [(r.payload["entityType"], r.payload["toStatus"]) for r in everything.accepted] == [
        ("WEBHOOK_ENDPOINT", "active"), ("SUB_PARTNER", "active"), ("WEBHOOK_ENDPOINT", "active"),
        ("WEBHOOK_ENDPOINT", "disabled")]
    assert hook_p in {r.payload["entityId"] for r in parent_side.accepted}


async def test_r_not_10_410_or_a_day_of_failures_disables_and_re_enabling_replays_from_a_cursor(
        gateway: Gateway, demo: Demo) -> None:
    admin = gateway.token(demo.partner)
    status = 204
    async with Receiver(lambda _: status) as receiver:
        hook = (await _create(gateway, admin, receiver.url, filter=ONLY_ENDPOINTS))["endpoint"]["id"]
        other = (await _create(gateway, admin, receiver.url, filter=NOTHING))["endpoint"]["id"]
        await _deliver(gateway)
        first_cursor = (await _deliveries(gateway, admin, hook))[-1]["eventCursor"]
        assert len(receiver.accepted) == 2
        # A 410 disables at once: evented, and the partner admins are emailed (R-NOT-4 WEBHOOK_ENDPOINT_DISABLED).
        status = 410
        await _state(gateway, admin, other, "disabled")
        await _deliver(gateway)
        node = await _listed(gateway, admin, hook)
        assert (node["state"], node["disabledReason"]) == ("disabled", "the endpoint answered 410 Gone")
        assert [e["toStatus"] for e in await gateway.events(entityId=hook)] == ["active", "disabled"]
        assert gateway.runtime.db is not None
        mail = await gateway.runtime.db.find("notifications", {"entityId": hook})
        assert [m["kind"] for m in mail] == ["WEBHOOK_ENDPOINT_DISABLED"] * len(mail) and mail
        # Re-enabled after a cursor: every later event again, in order (the 410'd one and the disabling).
        status = 204
        resumed = await _state(gateway, admin, hook, "active", first_cursor)
        assert resumed["endpoint"]["state"] == "active" and resumed["endpoint"]["disabledReason"] is None
        before = len(receiver.accepted)
        await _deliver(gateway)
        replayed = [(r.payload["entityId"], r.payload["toStatus"]) for r in receiver.accepted[before:]]
        assert replayed == [(other, "active"), (other, "disabled"), (hook, "disabled"), (hook, "active")]
        # 24 h of failures with no success since disables too.
        status = 500
        await _state(gateway, admin, other, "active")
        await _deliver(gateway)
        gateway.clock.advance(timedelta(hours=24, seconds=1))
        await _deliver(gateway)
        node = await _listed(gateway, admin, hook)
        assert (node["state"], node["disabledReason"]) == ("disabled", "every delivery failed for 24 hours")
        # A cursor whose later events are older than the resume window (7 days) cannot be replayed from.
        gateway.clock.advance(timedelta(days=7))
        expired = await gateway.errors(admin, SET_STATE, {"id": hook, "state": "active", "after": first_cursor})
        assert expired[0]["extensions"]["code"] == "CURSOR_EXPIRED"
        # From the head: only what is committed from now on.
        status = 204
        await _state(gateway, admin, hook, "active")
        before = len(receiver.accepted)
        await _deliver(gateway)
        assert [r.payload["entityId"] for r in receiver.accepted[before:]] == [hook]


async def test_r_not_9_the_background_sender_delivers_on_its_own_when_woken_by_a_commit(
        gateway: Gateway, demo: Demo) -> None:
    admin = gateway.token(demo.partner)
    sender = gateway.runtime.webhooks
    assert sender is not None
    async with Receiver() as receiver:
        secret = (await _create(gateway, admin, receiver.url))["secret"]
        sender.start()
        try:
            await asyncio.wait_for(receiver.arrived.wait(), 20)
        finally:
            await sender.stop()
    assert receiver.accepted[0].verified_by(secret)["toStatus"] == "active"



async def test_r_not_9_attempts_are_kept_7_days_after_a_delivery_s_last_one(gateway: Gateway) -> None:
    """R-NOT-9: a finished delivery (received or failed) goes with its attempts 7 days after its last attempt; a
    delivery still pending stays, however old."""
    from domain.services.webhooks_delivery import purge_deliveries
    from domain.store.repositories.webhooks import WEBHOOK_DELIVERIES

    now = gateway.clock.now()
    ages = {"received_8d": ("succeeded", 8), "failed_8d": ("failed", 8), "received_6d": ("succeeded", 6),
            "pending_30d": ("pending", 30)}
    for delivery_id, (status, days) in ages.items():
        last = now - timedelta(days=days)
        await gateway.repos.webhook_deliveries.record_attempt(
            delivery_id, {"endpointId": "whe_retention", "status": status, "lastAttemptAt": last},
            {"at": last, "status": 500 if status != "succeeded" else 200}, created_at=last)
    assert await purge_deliveries(gateway.repos) == 2
    kept = await gateway.repos.db.find(WEBHOOK_DELIVERIES, {"endpointId": "whe_retention"})
    assert sorted(d["_id"] for d in kept) == ["pending_30d", "received_6d"]


async def test_r_not_7_a_host_name_is_checked_where_it_is_connected_to(gateway: Gateway) -> None:
    """R-NOT-7 against DNS rebinding: the sender resolves a host name when it connects and connects only to the
    address it checked, so a name that resolved to a public address at registration (and at the check before the
    attempt) and to a loopback one a moment later gets no connection. `localhost` stands for such a name here."""
    from dataclasses import replace

    from domain.store.webhooks import AddressGuard
    from gateway.webhooks import WebhookSender

    key = "whsec_" + base64.b64encode(b"k" * 32).decode()
    strict = WebhookSender(replace(gateway.repos, webhook_guard=AddressGuard(allow_loopback=False)), None)
    loose = WebhookSender(gateway.repos, None)  # the tests' gateway allows loopback (GATEWAY_WEBHOOK_ALLOW_LOOPBACK)
    async with Receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        try:
            refused = await strict.send(url, "msg_refused", [key], '{"n": 1}')
            assert refused.http_status is None and "loopback, private or link-local" in (refused.error or "")
            assert receiver.accepted == []
            allowed = await loose.send(url, "msg_allowed", [key], '{"n": 2}')
            assert allowed.http_status == 204 and allowed.error is None
            assert [r.payload for r in receiver.accepted] == [{"n": 2}]
        finally:
            await strict.stop()
            await loose.stop()
