"""Consent of an existing free account (DOMAIN.md §7.1, R-CONS-1/2) through the API: the first email on entering
`pending_user_migration`, `sendSubscriberConsentEmail` (≤ 3 in any 24 hours on the gateway's clock), the platform's
`recordSubscriberConsent`, and what is billed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.provisioning import (
    DELETE_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import NOW, Demo, Gateway

pytestmark = pytest.mark.settled_demo

FIELDS = """id status version errors { code message }
  consent { emailsSent lastEmailSentAt answeredAt }
  backgroundWork { kind attempts waitingFor }"""
PROVISION = f"""mutation($input: ProvisionSubscriberInput!) {{
  provisionSubscriber(input: $input) {{ subscriber {{ {FIELDS} }} errors {{ code message field }} }} }}"""
SEND = f"""mutation($id: ID!, $for: ID) {{
  sendSubscriberConsentEmail(subscriberId: $id, onBehalfOfSubPartnerOrgId: $for) {{
    subscriber {{ {FIELDS} }} errors {{ code message field }} }} }}"""
RECORD = f"""mutation($id: ID!, $accepted: Boolean!) {{
  recordSubscriberConsent(subscriberId: $id, accepted: $accepted) {{
    subscriber {{ {FIELDS} }} errors {{ code message field }} }} }}"""
SUBSCRIBER = f"query($id: ID!) {{ subscriber(id: $id) {{ {FIELDS} }} }}"
FREE = "free@example.com"
ID = ["subscriberId"]


def _at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()


async def _pending(gateway: Gateway, demo: Demo) -> tuple[str, str]:
    """A provisioned customer of the demo partner and a subscriber of it waiting for its free account's consent
    (one that never answers by itself); returns the partner's token and the subscriber's id."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "CON-1"))
    await gateway.settle()
    await gateway.repos.accounts.load([(FREE, None)])
    payload = (await gateway.execute(token, PROVISION, {"input": subscriber_input(customer["id"], FREE)}))[
        "provisionSubscriber"]
    assert payload["errors"] == [], payload
    assert payload["subscriber"]["consent"] is None  # not asked yet
    await gateway.settle()
    return token, str(payload["subscriber"]["id"])


async def _read(gateway: Gateway, token: str, subscriber_id: str) -> dict[str, Any]:
    subscriber: dict[str, Any] = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber_id}))["subscriber"]
    return subscriber


async def _send(gateway: Gateway, token: str, subscriber_id: str) -> dict[str, Any]:
    payload = (await gateway.execute(token, SEND, {"id": subscriber_id}))["sendSubscriberConsentEmail"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


async def _record(gateway: Gateway, subscriber_id: str, accepted: bool) -> dict[str, Any]:
    platform = gateway.token(None, "platform_admin")
    payload = (await gateway.execute(platform, RECORD, {"id": subscriber_id, "accepted": accepted}))[
        "recordSubscriberConsent"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


async def _consent_emails(gateway: Gateway, subscriber_id: str) -> int:
    return len(await gateway.events(entityId=subscriber_id, action="CONSENT_EMAIL"))


async def _usage(gateway: Gateway, subscriber_id: str) -> list[dict[str, Any]]:
    db = gateway.runtime.db
    assert db is not None
    return await db.find("usage", {"subscriberId": subscriber_id})


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def test_r_cons_1_entering_pending_user_migration_sends_the_first_email(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    subscriber = await _read(gateway, token, subscriber_id)
    assert subscriber["status"] == "pending_user_migration"
    assert subscriber["consent"] == {"emailsSent": 1, "lastEmailSentAt": _at(0), "answeredAt": None}
    assert await _consent_emails(gateway, subscriber_id) == 1
    # R-DASH-2: what it waits for.
    assert subscriber["backgroundWork"] == {"kind": "waiting", "attempts": 0, "waitingFor": "user_consent"}


async def test_r_cons_1_resent_at_most_three_times_in_any_24_hours(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    before = await _read(gateway, token, subscriber_id)
    gateway.clock.advance(timedelta(hours=1))
    second = await _send(gateway, token, subscriber_id)
    assert second["consent"] == {"emailsSent": 2, "lastEmailSentAt": _at(1), "answeredAt": None}
    assert (second["status"], second["version"]) == ("pending_user_migration", before["version"] + 1)
    gateway.clock.advance(timedelta(hours=1))
    await _send(gateway, token, subscriber_id)
    gateway.clock.advance(timedelta(hours=1))
    errors = await refused(gateway, token, SEND, {"id": subscriber_id})
    assert [(e["code"], e["field"]) for e in errors] == [("CONSENT_EMAIL_LIMIT", ID)]
    # Rolling: 24 hours after the first email, one more may go out.
    gateway.clock.set(NOW + timedelta(hours=24))
    fourth = await _send(gateway, token, subscriber_id)
    assert fourth["consent"]["emailsSent"] == 4
    assert await _consent_emails(gateway, subscriber_id) == 4


async def test_r_cons_1_only_while_pending_and_only_the_owner(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    # Another tenant's subscriber, and a missing one, are both NOT_FOUND (R-ORG-6).
    for other, target in ((gateway.token(demo.sub_a, "full_admin"), subscriber_id), (token, "sub_" + "0" * 24)):
        errors = await refused(gateway, other, SEND, {"id": target})
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ID)]
    errors = await refused(gateway, token, SEND, {"id": subscriber_id, "for": demo.sub_b})  # suspended (R-ORG-5)
    assert [e["code"] for e in errors] == ["SUB_PARTNER_SUSPENDED"]
    async with gateway.writes_nothing():
        body = (await gateway.post(gateway.token(demo.partner, "read_only_admin"), SEND, {"id": subscriber_id})).json()
    assert _codes(body) == ["FORBIDDEN"]
    await _record(gateway, subscriber_id, True)
    errors = await refused(gateway, token, SEND, {"id": subscriber_id})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ID)]


async def test_r_cons_2_accepted_goes_through_provisioning_and_billing_starts(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    gateway.clock.advance(timedelta(hours=5))
    accepted = await _record(gateway, subscriber_id, True)
    assert accepted["status"] == "provisioning" and accepted["consent"]["answeredAt"] == _at(5)
    assert await _usage(gateway, subscriber_id) == []
    await gateway.settle()
    assert (await _read(gateway, token, subscriber_id))["status"] == "provisioned"
    statuses = [(e["fromStatus"], e["toStatus"]) for e in
                await gateway.events(entityId=subscriber_id, action="STATUS_CHANGE")]
    assert statuses[-3:] == [("provisioning", "pending_user_migration"), ("pending_user_migration", "provisioning"),
                             ("provisioning", "provisioned")]
    assert [u["package"] for u in await _usage(gateway, subscriber_id)] == ["webex_calling"]


async def test_r_cons_2_declined_ends_in_error(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    declined = await _record(gateway, subscriber_id, False)
    assert declined["status"] == "error"
    assert [e["code"] for e in declined["errors"]] == ["USER_MIGRATION_DECLINED"]
    await gateway.settle()
    assert (await _read(gateway, token, subscriber_id))["status"] == "error"
    assert await _usage(gateway, subscriber_id) == []


async def test_r_cons_2_only_a_platform_admin_records_an_awaited_answer(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    for role_token in (token, gateway.token(None, "compliance_reviewer")):
        async with gateway.writes_nothing():
            body = (await gateway.post(role_token, RECORD, {"id": subscriber_id, "accepted": True})).json()
        assert _codes(body) == ["FORBIDDEN"]
    platform = gateway.token(None, "platform_admin")
    errors = await refused(gateway, platform, RECORD, {"id": "sub_" + "0" * 24, "accepted": True})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ID)]
    await _record(gateway, subscriber_id, False)
    errors = await refused(gateway, platform, RECORD, {"id": subscriber_id, "accepted": True})  # answered already
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ID)]


async def test_r_cons_2_deleting_a_pending_subscriber_bills_nothing(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _pending(gateway, demo)
    gateway.clock.advance(timedelta(days=3))
    result = (await gateway.execute(token, DELETE_SUBSCRIBER, {"id": subscriber_id}))["deleteSubscriber"]
    assert result["errors"] == [], result
    await gateway.settle()
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber_id}))["subscriber"] is None
    assert await _usage(gateway, subscriber_id) == []
