"""The pure rules of signed webhooks (DOMAIN.md §13, R-NOT-7…10): which URLs may be registered and called, how a
request is signed (Standard Webhooks), what it carries, and what each attempt's outcome leads to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from domain.model.errors import ErrorCode
from domain.model.webhooks import (
    FAILING_LIMIT,
    FIRST_WAIT,
    MAX_ATTEMPTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_ERROR_LENGTH,
    MAX_URL_LENGTH,
    SECRET_PREFIX,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from domain.rules.validation import Problems

# The scalar fields of a ProvisioningEvent, as the API names them, from the stored event (R-NOT-9).
_EVENT_FIELDS = (("entityType", "entityType"), ("entityId", "entityId"), ("customerId", "customerId"),
                 ("ownerOrgId", "ownerOrgId"), ("fromStatus", "fromStatus"), ("toStatus", "toStatus"),
                 ("version", "version"), ("reason", "reason"))


def address_allowed(address: str, *, allow_loopback: bool = False) -> bool:
    """R-NOT-7: only public addresses: never loopback (unless allowed, for tests and dev), private, link-local,
    multicast, reserved or unspecified ones (an IPv4 address mapped into IPv6 is judged as itself)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why `url` may not be an endpoint (None: it may, as far as can be told without resolving its host name)."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "the URL cannot be parsed"
    if not host or any(c.isspace() for c in url):
        return "the URL needs a host"
    literal = _literal_address(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_loopback and literal is not None
                                        and address_allowed(literal, allow_loopback=True)
                                        and ipaddress.ip_address(literal).is_loopback):
        return "the URL must use https"
    if literal is not None and not address_allowed(literal, allow_loopback=allow_loopback):
        return "the URL's host is a loopback, private or link-local address"
    if literal is None and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))):
        return "the URL's host is a local name"
    return None


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def resolved_problem(addresses: Sequence[str], *, allow_loopback: bool = False) -> str | None:
    """Checked at registration and before each attempt: the host must resolve, and only to public addresses."""
    if not addresses:
        return "the URL's host name does not resolve"
    if not all(address_allowed(a, allow_loopback=allow_loopback) for a in addresses):
        return "the URL's host resolves to a loopback, private or link-local address"
    return None


def endpoint_input_problems(url: str, description: str | None, *, allow_loopback: bool) -> Problems:
    problems = Problems()
    if not url.strip():
        problems.add(ErrorCode.REQUIRED, "`url` is required", "input", "url")
    elif (problem := url_problem(url.strip(), allow_loopback=allow_loopback)) is not None:
        problems.add(ErrorCode.WEBHOOK_URL_INVALID, problem, "input", "url")
    problems.text(description, MAX_DESCRIPTION_LENGTH, "input", "description", required=False)
    return problems


def free_slot(used: Iterable[int], limit: int) -> int | None:
    """The lowest endpoint slot an org has free (None: it has `limit` endpoints, R-NOT-7)."""
    taken = set(used)
    return next((s for s in range(limit) if s not in taken), None)


# ---------------------------------------------------------------- signing (R-NOT-8)

def secret_of(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def signature(keys: Sequence[str], message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each key, space-separated (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    entries = []
    for key in keys:
        raw = base64.b64decode(key.removeprefix(SECRET_PREFIX))
        entries.append("v1," + base64.b64encode(hmac.new(raw, signed, hashlib.sha256).digest()).decode())
    return " ".join(entries)


def headers(keys: Sequence[str], message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {"content-type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(keys, message_id, timestamp, body)}


def body(event: Mapping[str, Any], endpoint_id: str, cursor: str) -> str:
    """The event's scalar ProvisioningEvent fields and the endpoint's id, as JSON (R-NOT-9)."""
    occurred = event["occurredAt"]
    payload: dict[str, Any] = {"endpointId": endpoint_id, "cursor": cursor}
    payload.update({name: event.get(key) for name, key in _EVENT_FIELDS})
    payload["occurredAt"] = (occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)).isoformat()
    payload["action"] = event.get("action") or "STATUS_CHANGE"
    return json.dumps(payload, separators=(",", ":"))


# ---------------------------------------------------------------- attempts (R-NOT-9/10)

@dataclass(frozen=True)
class AttemptResult:
    http_status: int | None
    duration_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.http_status is not None and 200 <= self.http_status < 300

    @property
    def stored_error(self) -> str | None:
        """The error as kept with the attempt (at most 1 KB)."""
        if self.succeeded:
            return None
        text = self.error or f"HTTP {self.http_status}"
        return text.encode()[:MAX_ERROR_LENGTH].decode(errors="ignore")


@dataclass(frozen=True)
class Outcome:
    """What one attempt leads to: the delivery's status, and where the endpoint goes next."""

    status: WebhookDeliveryStatus
    next_attempt_at: datetime | None  # pending: when the next attempt may go
    advance: bool  # the delivery is finished: the endpoint's cursor moves past its event
    failing_since: datetime | None
    disable_reason: str | None = None


def wait_after(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s doubling (30 s, 1 min, … 32 min after the 7th)."""
    return FIRST_WAIT * int(2 ** (attempts - 1))


def outcome(endpoint: WebhookEndpoint, result: AttemptResult, now: datetime) -> Outcome:
    """R-NOT-9/10: success resets the failure clock; a 410, or 24 h of failures with no success since, disables the
    endpoint; otherwise a failure waits and retries, and the 8th failed attempt gives the delivery up."""
    if result.succeeded:
        return Outcome(WebhookDeliveryStatus.SUCCEEDED, None, True, None)
    failing_since = endpoint.failing_since or now
    if result.http_status == 410:
        return Outcome(WebhookDeliveryStatus.FAILED, None, True, failing_since,
                       "the endpoint answered 410 Gone")
    if now - failing_since >= FAILING_LIMIT:
        return Outcome(WebhookDeliveryStatus.FAILED, None, True, failing_since,
                       "every delivery failed for 24 hours")
    attempts = endpoint.retry_count + 1
    if attempts >= MAX_ATTEMPTS:
        return Outcome(WebhookDeliveryStatus.FAILED, None, True, failing_since)
    return Outcome(WebhookDeliveryStatus.PENDING, now + wait_after(attempts), False, failing_since)
