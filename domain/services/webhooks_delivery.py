"""Delivering events to webhook endpoints (DOMAIN.md §13, R-NOT-8…10): the use case the gateway's sender runs.

Each endpoint has a durable cursor over the events its org may see (the same read path as `provisioningEvents`,
R-EVT-2, R-ORG-2/3/6). A sender holds an endpoint (a lease) while it works on it and sends its events one at a
time, in commit order: each attempt is recorded, then the endpoint's progress, and the cursor moves past an event
once its delivery succeeded or was given up. Waits between attempts are on the injectable
clock (`dueAt`), so they survive restarts and tests can move through them. Only a disabling attempt is a
transaction (it writes an event and an email); the others are two single-document writes, attempt then progress.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from domain.model.webhooks import ATTEMPTS_KEPT, WebhookAttempt, WebhookDeliveryStatus, WebhookEndpoint, delivery_id
from domain.rules.webhooks import AttemptResult, Outcome, body, outcome, url_problem
from domain.services import reads
from domain.services.webhooks import criteria_of, disable_in, reach_of
from domain.store.driver import Document
from domain.store.repositories import Repositories, Tx

# POSTs a body to a URL with the Standard Webhooks headers made from the delivery id and signing keys. The
# gateway's (gateway.webhooks.WebhookSender.send) connects only to addresses R-NOT-7 allows.
Send = Callable[[str, str, Sequence[str], str], Awaitable[AttemptResult]]

LEASE = timedelta(minutes=2)  # longer than one attempt (10 s) plus its bookkeeping
BATCH = 50  # events read at once; also how many one turn on an endpoint may deliver before others get theirs


async def due_endpoints(repos: Repositories, limit: int) -> list[str]:
    return await repos.webhook_endpoints.due(repos.clock.now(), limit)


def _visible(endpoint: WebhookEndpoint) -> dict[str, object]:
    found = reads.visible_events(reach_of(endpoint), criteria_of(endpoint.filter))
    return found if found is not None else {"_id": {"$in": []}}


async def deliver(repos: Repositories, endpoint_id: str, sender: str, send: Send, *, batch: int = BATCH) -> int:
    """One turn on an endpoint: send its next events until it is caught up, must wait, was disabled, or `batch`
    deliveries finished. Returns how many finished (0 also when another sender holds the endpoint)."""
    now = repos.clock.now()
    doc = await repos.webhook_endpoints.claim(endpoint_id, sender, now, now + LEASE)
    if doc is None:
        return 0
    finished = 0
    try:
        endpoint = WebhookEndpoint.from_doc(doc)
        while finished < batch:
            now = repos.clock.now()
            if endpoint.due_at is not None and endpoint.due_at > now:
                break
            events = await repos.events.after(_visible(endpoint), endpoint.cursor_seq, batch - finished)
            if not events:
                if endpoint.due_at is not None:
                    await repos.webhook_endpoints.set_progress(endpoint.id, {"dueAt": None})
                break
            progressed = True
            for event in events:
                next_endpoint = await _attempt(repos, endpoint, event, send)
                if next_endpoint is None:  # disabled (R-NOT-10)
                    return finished
                progressed = next_endpoint.cursor_seq != endpoint.cursor_seq
                endpoint = next_endpoint
                if not progressed:  # failed: the next attempt waits
                    break
                finished += 1
            if not progressed:
                break
    finally:
        await repos.webhook_endpoints.release(endpoint_id, sender)
    return finished


async def _attempt(repos: Repositories, endpoint: WebhookEndpoint, event: Document,
                   send: Send) -> WebhookEndpoint | None:
    """Send one event once and record the attempt; the endpoint as it then is (None: it was disabled)."""
    seq = int(event["seq"])
    did = delivery_id(endpoint.id, seq)
    # R-NOT-7 at each attempt: the URL's own rules here; where its host name resolves is checked by the sender as
    # it connects, and only the address checked is connected to (gateway.webhooks.GuardedBackend). Resolving here
    # too was a second lookup per attempt, and a name could still be rebound between the two.
    problem = url_problem(endpoint.url, allow_loopback=repos.webhook_guard.allow_loopback)
    if problem is not None:
        result = AttemptResult(None, 0, problem)
    else:
        text = body(event, endpoint.id, reads.event_cursor(seq))
        result = await send(endpoint.url, did, endpoint.signing_keys(repos.clock.now()), text)
    now = repos.clock.now()
    step = outcome(endpoint, result, now)
    attempt = WebhookAttempt(at=now, http_status=result.http_status, duration_ms=result.duration_ms,
                             error=result.stored_error)
    progress = _progress(endpoint, seq, step)

    delivery = {"endpointId": endpoint.id, "ownerOrgId": endpoint.owner_org_id, "eventSeq": seq,
                "status": step.status.value, "nextAttemptAt": step.next_attempt_at, "lastAttemptAt": now}
    if step.disable_reason is not None:  # with its event and email: one transaction (R-EVT-1, R-NOT-1)
        async def write(tx: Tx) -> None:
            await repos.webhook_deliveries.record_attempt(did, delivery, attempt.model_dump(by_alias=True), now,
                                                          session=tx.session)
            await repos.webhook_endpoints.set_progress(endpoint.id, progress, only_if_active=True, session=tx.session)
            await disable_in(repos, tx, endpoint, step.disable_reason or "")

        await repos.atomic(write)
        return None
    # No event: the attempt first, then the progress. A crash in between sends the event again under the same
    # webhook-id (at least once; receivers deduplicate by it) and keeps one attempt more; nothing is lost.
    await repos.webhook_deliveries.record_attempt(did, delivery, attempt.model_dump(by_alias=True), now)
    await repos.webhook_endpoints.set_progress(endpoint.id, progress, only_if_active=True)
    return endpoint.model_copy(update={
        "cursor_seq": progress["cursorSeq"], "retry_count": progress["retryCount"], "due_at": progress["dueAt"],
        "failing_since": progress["failingSince"]})


def _progress(endpoint: WebhookEndpoint, seq: int, step: Outcome) -> dict[str, object]:
    if step.advance:
        return {"cursorSeq": seq, "retryCount": 0, "dueAt": None, "failingSince": step.failing_since}
    return {"cursorSeq": endpoint.cursor_seq, "retryCount": endpoint.retry_count + 1,
            "dueAt": step.next_attempt_at, "failingSince": step.failing_since}


async def purge_deliveries(repos: Repositories, now: datetime | None = None) -> int:
    """R-NOT-9: attempts are kept 7 days."""
    return await repos.webhook_deliveries.purge((now or repos.clock.now()) - ATTEMPTS_KEPT)


__all__ = ["Send", "WebhookDeliveryStatus", "deliver", "due_endpoints", "purge_deliveries"]
