"""The pure rules of signed webhooks (R-NOT-7…10): URLs, Standard Webhooks signatures, the retry schedule."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain.model.webhooks import (
    SigningSecret,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointState,
    delivery_id,
)
from domain.rules.webhooks import (
    AttemptResult,
    address_allowed,
    body,
    endpoint_input_problems,
    free_slot,
    headers,
    outcome,
    resolved_problem,
    secret_of,
    url_problem,
    wait_after,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
KEY = secret_of(bytes(range(32)))
OLD_KEY = secret_of(bytes(range(32, 64)))


def _endpoint(**changes: object) -> WebhookEndpoint:
    base = WebhookEndpoint(
        id="whk_" + "0" * 24, owner_org_id="ptn_a", root_org_id="ptn_a", slot=0, url="https://hooks.example.com/x",
        reach_key="ownerOrgId", reach_org_id="ptn_a", state=WebhookEndpointState.ACTIVE,
        secrets=[SigningSecret(key=KEY)], secret_rotated_at=T0, cursor_seq=0, version=1, created_at=T0,
        created_by="admin@example.com")
    return base.model_copy(update=changes)


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://hooks.example.com/wh", True),
    ("https://93.184.216.34:8443/wh", True),
    ("http://hooks.example.com/wh", False),  # not https
    ("https://127.0.0.1/wh", False),  # loopback
    ("https://[::1]/wh", False),
    ("https://10.1.2.3/wh", False),  # private
    ("https://192.168.0.10/wh", False),
    ("https://172.16.5.4/wh", False),
    ("https://169.254.169.254/latest/meta-data", False),  # link-local (cloud metadata)
    ("https://[fe80::1]/wh", False),
    ("https://[::ffff:10.0.0.1]/wh", False),  # IPv4-mapped private
    ("https://0.0.0.0/wh", False),
    ("https://localhost/wh", False),
    ("https:///nohost", False),
    ("https://hooks.example.com/" + "a" * 2048, False),  # > 2048 characters
])
def test_r_not_7_urls_must_be_https_public_and_at_most_2048_characters(url: str, allowed: bool) -> None:
    assert (url_problem(url) is None) is allowed


def test_r_not_7_loopback_only_with_the_dev_switch_and_private_ranges_never() -> None:
    assert url_problem("http://127.0.0.1:9000/hook", allow_loopback=True) is None
    assert url_problem("http://127.0.0.1:9000/hook") is not None
    assert url_problem("http://10.0.0.1/hook", allow_loopback=True) is not None  # http only for loopback
    assert url_problem("https://10.0.0.1/hook", allow_loopback=True) is not None
    assert not address_allowed("192.168.1.1", allow_loopback=True)
    # What a host name resolves to is checked too: one private answer is enough to refuse.
    assert resolved_problem(["93.184.216.34"]) is None
    assert resolved_problem(["93.184.216.34", "10.0.0.7"]) is not None
    assert resolved_problem([]) is not None


def test_r_not_7_input_problems_carry_codes_and_field_paths() -> None:
    problems = endpoint_input_problems("http://example.com", "x" * 501, allow_loopback=False).items
    assert [(p.code.value, p.field) for p in problems] == [
        ("WEBHOOK_URL_INVALID", ("input", "url")), ("TOO_LONG", ("input", "description"))]
    assert [p.code.value for p in endpoint_input_problems(" ", None, allow_loopback=False).items] == ["REQUIRED"]


def test_r_not_7_at_most_ten_endpoints_per_org() -> None:
    assert free_slot([], 10) == 0
    assert free_slot([0, 1, 3], 10) == 2
    assert free_slot(range(10), 10) is None


def test_r_not_8_signatures_verify_with_the_standard_webhooks_library_and_both_keys_after_rotation() -> None:
    text = body({"entityType": "CUSTOMER", "entityId": "cus_1", "customerId": "cus_1", "ownerOrgId": "ptn_a",
                 "fromStatus": "provisioning", "toStatus": "active", "version": 2, "reason": None,
                 "occurredAt": datetime(2026, 11, 22, 9, 0), "seq": 7, "actor": {"sub": "x"}}, "whk_1", "cur")
    assert json.loads(text) == {
        "endpointId": "whk_1", "cursor": "cur", "entityType": "CUSTOMER", "entityId": "cus_1", "customerId": "cus_1",
        "ownerOrgId": "ptn_a", "fromStatus": "provisioning", "toStatus": "active", "version": 2, "reason": None,
        "occurredAt": "2026-11-22T09:00:00+00:00", "action": "STATUS_CHANGE"}  # scalars only: no actor
    now = int(time.time())
    signed = headers([KEY, OLD_KEY], "whd_1", now, text)
    assert signed["webhook-id"] == "whd_1" and signed["webhook-timestamp"] == str(now)
    assert [s[:3] for s in signed["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    assert Webhook(KEY).verify(text, signed) == json.loads(text)
    assert Webhook(OLD_KEY).verify(text, signed) == json.loads(text)  # a receiver not yet told of the rotation
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_of(bytes(32))).verify(text, signed)
    with pytest.raises(WebhookVerificationError):
        Webhook(KEY).verify(text.replace("active", "error"), signed)


def test_r_not_8_the_old_secret_signs_for_24_hours_only_and_ids_are_stable_per_event() -> None:
    previous = SigningSecret(key=OLD_KEY, expires_at=T0 + timedelta(hours=24))
    rotated = _endpoint(secrets=[SigningSecret(key=KEY), previous])
    assert rotated.signing_keys(T0) == [KEY, OLD_KEY]
    assert rotated.signing_keys(T0 + timedelta(hours=24)) == [KEY]
    assert rotated.previous_secret_expires_at == T0 + timedelta(hours=24)
    assert delivery_id("whk_a", 5) == delivery_id("whk_a", 5) != delivery_id("whk_a", 6)
    assert delivery_id("whk_a", 5).startswith("whd_") and len(delivery_id("whk_a", 5)) == 28


def test_r_not_9_eight_attempts_waiting_30_s_doubling_to_32_min_then_the_next_goes() -> None:
    assert [wait_after(n) for n in range(1, 8)] == [timedelta(seconds=30 * 2 ** i) for i in range(7)]
    assert wait_after(7) == timedelta(minutes=32)
    failed = AttemptResult(500, 12)
    assert not failed.succeeded and failed.stored_error == "HTTP 500"
    first = outcome(_endpoint(), failed, T0)
    assert (first.status, first.next_attempt_at, first.advance, first.failing_since) == (
        WebhookDeliveryStatus.PENDING, T0 + timedelta(seconds=30), False, T0)
    last = outcome(_endpoint(retry_count=7, failing_since=T0), failed, T0 + timedelta(hours=1))
    assert (last.status, last.advance, last.disable_reason) == (WebhookDeliveryStatus.FAILED, True, None)
    ok = outcome(_endpoint(retry_count=3, failing_since=T0), AttemptResult(204, 3), T0 + timedelta(minutes=5))
    assert (ok.status, ok.advance, ok.failing_since) == (WebhookDeliveryStatus.SUCCEEDED, True, None)
    assert not AttemptResult(302, 3, "HTTP 302: redirects are not followed").succeeded
    assert len(AttemptResult(None, 1, "é" * 2000).stored_error or "") <= 1024


def test_r_not_10_a_410_or_24_hours_of_failures_disables() -> None:
    gone = outcome(_endpoint(), AttemptResult(410, 5), T0)
    assert gone.disable_reason is not None and gone.status is WebhookDeliveryStatus.FAILED
    still = outcome(_endpoint(failing_since=T0), AttemptResult(503, 5), T0 + timedelta(hours=23, minutes=59))
    assert still.disable_reason is None
    day = outcome(_endpoint(failing_since=T0), AttemptResult(503, 5), T0 + timedelta(hours=24))
    assert day.disable_reason == "every delivery failed for 24 hours"
