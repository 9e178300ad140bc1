"""Consent of an existing free account to join a customer's org (DOMAIN.md §7.1, R-CONS-1/2), as pure functions.

Entering `pending_user_migration` sends the first consent email; the partner may send it again while the subscriber
waits, at most `EMAILS_PER_WINDOW` emails in any `WINDOW` (a rolling window on the injectable clock; the first,
automatic email counts too). The platform records the answer once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.model.audit import EventAction
from domain.model.changes import Change, EntityType
from domain.model.entities import ConsentState, Subscriber, SubscriberStatus
from domain.model.errors import ErrorCode, FieldError

EMAILS_PER_WINDOW = 3  # R-CONS-1 (decision): at most three consent emails ...
WINDOW = timedelta(hours=24)  # ... in any 24 hours


def sent(consent: ConsentState | None, at: datetime) -> ConsentState:
    """The consent state once one more email went out at `at` (the first one: `consent` is None)."""
    state = consent or ConsentState()
    recent = [t for t in state.recent_sends if at - t < WINDOW][-(EMAILS_PER_WINDOW - 1):]
    return state.model_copy(update={"emails_sent": state.emails_sent + 1, "last_email_sent_at": at,
                                    "recent_sends": [*recent, at]})


def next_email_at(consent: ConsentState | None, at: datetime) -> datetime | None:
    """When another email may go out (None: now)."""
    if consent is None:
        return None
    recent = sorted(t for t in consent.recent_sends if at - t < WINDOW)
    if len(recent) < EMAILS_PER_WINDOW:
        return None
    return recent[len(recent) - EMAILS_PER_WINDOW] + WINDOW


def resend_problems(subscriber: Subscriber, at: datetime, *field: str) -> list[FieldError]:
    """R-CONS-1: the email is sent again only while the subscriber waits for its consent, within the limit."""
    path = tuple(field) or None
    if subscriber.status is not SubscriberStatus.PENDING_USER_MIGRATION:
        return [FieldError(ErrorCode.INVALID_STATE, f"the subscriber is `{subscriber.status.value}`: a consent "
                           "email is only sent while it is `pending_user_migration`", path)]
    if (allowed := next_email_at(subscriber.consent, at)) is not None:
        return [FieldError(ErrorCode.CONSENT_EMAIL_LIMIT, f"{EMAILS_PER_WINDOW} consent emails were sent in the last "
                           f"24 hours; the next may be sent at {allowed.isoformat()}", path)]
    return []


def answer_problems(subscriber: Subscriber, *field: str) -> list[FieldError]:
    """R-CONS-2: an answer is recorded for a subscriber waiting for it, once."""
    if subscriber.status is not SubscriberStatus.PENDING_USER_MIGRATION:
        return [FieldError(ErrorCode.INVALID_STATE, f"the subscriber is `{subscriber.status.value}`: it is not "
                           "waiting for a consent", tuple(field) or None)]
    return []


def answered(consent: ConsentState | None, at: datetime, accepted: bool) -> ConsentState:
    return (consent or ConsentState()).model_copy(update={"answered_at": at, "accepted": accepted})


def consented(subscriber: Subscriber) -> bool:
    """The subscriber's free account agreed to join: it is not asked again when it is provisioned."""
    return subscriber.consent is not None and subscriber.consent.accepted is True


def consent_email_event(subscriber: Subscriber) -> Change:
    """R-CONS-1 / R-AUD-1: the event of a consent email having gone out to `subscriber` (as it is after the send)."""
    sends = subscriber.consent.emails_sent if subscriber.consent is not None else 0
    return Change(EntityType.SUBSCRIBER, subscriber.id, subscriber.owner_org_id, subscriber.root_org_id,
                  subscriber.status.value, subscriber.status.value, subscriber.version,
                  customer_id=subscriber.customer_id, action=EventAction.CONSENT_EMAIL,
                  details={"package": subscriber.package, "emailsSent": sends})
