"""The pure side of emails (DOMAIN.md §13): who gets them (R-NOT-3), what they say (R-NOT-4), the unique key that
makes a repeated occasion harmless (R-NOT-1) and the retry schedule of the sender (R-NOT-2).

Bodies are plain text, rendered when the email is sent from the notification's `facts` (and its link, made then),
so an outbox document never holds a link. A missing fact renders as a neutral word, never as an error: a
notification written by an older version must still go out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.model.entities import Partner
from domain.model.ids import Kind, new_id
from domain.model.notifications import (
    LinkPurpose,
    Notification,
    NotificationKind,
    NotificationStatus,
    OutboxNotification,
)

Document = dict[str, Any]

# R-NOT-2: the sender's retry schedule and when it gives up.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 10
KEPT_FOR = timedelta(days=30)  # R-NOT-2: notifications are kept 30 days, whatever their state
LINK_LIFETIME = timedelta(days=30)  # R-NOT-6: a link's `exp` when the entity gives no deadline
MAX_ERROR_CHARS = 500

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# The facts each kind's text uses (the slices that write them pass at least these; extra ones are ignored).
FACTS: dict[NotificationKind, tuple[str, ...]] = {
    NotificationKind.TRIAL_CONSENT_REQUEST: ("partnerName", "companyName", "services", "deadline"),
    NotificationKind.TRIAL_STARTED: ("partnerName", "companyName", "services", "endsAt"),
    NotificationKind.TRIAL_EXPIRY_WARNING: ("companyName", "services", "endsAt"),
    NotificationKind.TRIAL_EXPIRED: ("companyName", "graceEndsAt"),
    NotificationKind.TRIAL_ACCESS_ENDED: ("companyName", "partnerName"),
    NotificationKind.DEVICE_SHIPPED: ("companyName", "deviceType", "quantity", "trackingNumber"),
    NotificationKind.DEVICE_RETURN_OVERDUE: ("companyName", "deviceType", "trackingNumber", "returnDueAt"),
    NotificationKind.ORDER_SETUP: ("partnerName", "offer", "requestedStartDate"),
    NotificationKind.ORDER_SETUP_FOLLOW_UP: ("partnerName", "offer", "requestedStartDate"),
    NotificationKind.CUSTOMER_ADMIN_WELCOME: ("orgName", "partnerName"),
    NotificationKind.WEBHOOK_ENDPOINT_DISABLED: ("url", "reason"),
}

_SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.TRIAL_CONSENT_REQUEST: "{partnerName} asks to run a Webex trial for {companyName}",
    NotificationKind.TRIAL_STARTED: "Your Webex trial has started: {companyName}",
    NotificationKind.TRIAL_EXPIRY_WARNING: "The Webex trial of {companyName} ends in 7 days",
    NotificationKind.TRIAL_EXPIRED: "The Webex trial of {companyName} has ended",
    NotificationKind.TRIAL_ACCESS_ENDED: "Your access to the Webex trial of {companyName} has ended",
    NotificationKind.DEVICE_SHIPPED: "Trial devices for {companyName} are on their way ({trackingNumber})",
    NotificationKind.DEVICE_RETURN_OVERDUE: "Trial devices of {companyName} are overdue ({trackingNumber})",
    NotificationKind.ORDER_SETUP: "Set up your Webex order from {partnerName}",
    NotificationKind.ORDER_SETUP_FOLLOW_UP: "Reminder: your Webex order from {partnerName} is waiting for setup",
    NotificationKind.CUSTOMER_ADMIN_WELCOME: "Welcome to Webex: {orgName} is ready",
    NotificationKind.WEBHOOK_ENDPOINT_DISABLED: "A webhook endpoint was disabled",
}

_BODIES: dict[NotificationKind, str] = {
    NotificationKind.TRIAL_CONSENT_REQUEST: (
        "{partnerName} would like to start a Webex trial ({services}) for {companyName} and to manage it.\n"
        "Only a full administrator of the organisation can answer. Please accept or decline by {deadline};\n"
        "without an answer the request lapses on that date."),
    NotificationKind.TRIAL_STARTED: (
        "A Webex trial of {services} for {companyName}, run by {partnerName}, is now active.\n"
        "It ends on {endsAt} unless it is extended or converted to a paid subscription."),
    NotificationKind.TRIAL_EXPIRY_WARNING: (
        "The Webex trial of {companyName} ({services}) ends on {endsAt}.\n"
        "Extend it or convert it to a paid order before then to keep the services."),
    NotificationKind.TRIAL_EXPIRED: (
        "The Webex trial of {companyName} has ended. It can still be converted to a paid order until {graceEndsAt};\n"
        "after that date its services and data are removed for good."),
    NotificationKind.TRIAL_ACCESS_ENDED: (
        "The Webex trial of {companyName} run by {partnerName} is over and its grace period has passed.\n"
        "Your access to the trial's services has ended."),
    NotificationKind.DEVICE_SHIPPED: (
        "{quantity} x {deviceType} for the Webex trial of {companyName} have been shipped.\n"
        "Tracking number: {trackingNumber}. Trial devices must be returned when the trial ends."),
    NotificationKind.DEVICE_RETURN_OVERDUE: (
        "The {deviceType} devices of the Webex trial of {companyName} (tracking number {trackingNumber})\n"
        "were due back by {returnDueAt} and have not been returned."),
    NotificationKind.ORDER_SETUP: (
        "{partnerName} has ordered Webex ({offer}) for you, to start on {requestedStartDate}.\n"
        "Please complete the setup (organisation, administrator, subdomain, services) with the link below."),
    NotificationKind.ORDER_SETUP_FOLLOW_UP: (
        "The Webex order ({offer}) placed by {partnerName} for {requestedStartDate} has not been set up yet.\n"
        "Please complete the setup with the link of the setup email, or contact {partnerName}."),
    NotificationKind.CUSTOMER_ADMIN_WELCOME: (
        "The Webex organisation {orgName} has been created by {partnerName} and you are its first full\n"
        "administrator. Sign in to Webex with this address to get started."),
    NotificationKind.WEBHOOK_ENDPOINT_DISABLED: (
        "The webhook endpoint {url} has been disabled: {reason}.\n"
        "Events are no longer delivered to it. Re-enable it once it answers again; you may replay from a cursor."),
}

_LINK_USE: dict[LinkPurpose, str] = {
    LinkPurpose.TRIAL_CONSENT: (
        "Answer here: {url}\n"
        "The link opens the gateway's GraphQL page signed in for this request only; run\n"
        '  mutation {{ respondToTrialConsent(id: "{entityId}", accept: true, grantFullAdmin: false) '
        "{{ trial {{ status }} errors {{ code message }} }} }}\n"
        "(accept: false declines). The link works until the request is answered or sent again."),
    LinkPurpose.ORDER_SETUP: (
        "Set up here: {url}\n"
        "The link opens the gateway's GraphQL page signed in for this order only; the setup is\n"
        '  mutation {{ completeOrderSetup(id: "{entityId}", input: {{ ... }}) {{ order {{ status }} '
        "errors {{ code message }} }} }}\n"
        "The link stops working when a new setup email is sent or the setup is handed over."),
}


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "(not given)"


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list | tuple):
        return ", ".join(_as_text(v) for v in value)
    text = str(value)
    # ISO timestamps (as facts usually carry them) read better as a day and a time.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*", text):
        return text[:10] + " " + text[11:16] + " UTC"
    return text


def _fill(template: str, facts: Mapping[str, Any]) -> str:
    # One line per fact: a value cannot add a header line to the subject (no CR/LF in it).
    values = _Facts({k: " ".join(_as_text(v).split()) for k, v in facts.items()})
    return template.format_map(values)


def render_subject(kind: NotificationKind, facts: Mapping[str, Any]) -> str:
    """R-NOT-4: the email's subject (also shown by `notifications`)."""
    return _fill(_SUBJECTS[kind], facts)[:200]


def render_body(kind: NotificationKind, facts: Mapping[str, Any], link_url: str | None = None,
                purpose: LinkPurpose | None = None, entity_id: str | None = None) -> str:
    """R-NOT-1: the plain-text body, made when the email is sent (with its link, if it has one)."""
    parts = [_fill(_BODIES[kind], facts)]
    if link_url is not None and purpose is not None:
        parts.append(_LINK_USE[purpose].format(url=link_url, entityId=entity_id or ""))
    parts.append("This message was sent by the Webex partner gateway; please do not reply to it.")
    return "\n\n".join(parts) + "\n"


def unique_key(kind: NotificationKind, audience: str, entity_id: str | None, occasion: str) -> str:
    """R-NOT-1: one notification per (kind, entity, occasion) and audience (a kind may go to two audiences)."""
    return "|".join((kind.value, audience, entity_id or "-", occasion))


def recipients(addresses: Iterable[str | None]) -> tuple[str, ...]:
    """Email addresses, lower-cased, without repeats or non-addresses, in their first order."""
    seen: dict[str, None] = {}
    for address in addresses:
        if address and _EMAIL.match(address.strip()):
            seen.setdefault(address.strip().lower(), None)
    return tuple(seen)


def partner_admin_recipients(owner: Partner, creator: str | None = None) -> tuple[str, ...]:
    """R-NOT-3: the owner's `notificationEmails` plus the trial's or order's creator when that is an address."""
    return recipients([*owner.notification_emails, creator])


def customer_admin_recipients(admins: Iterable[tuple[str, bool]]) -> tuple[str, ...]:
    """R-NOT-3: an org's full admins, from (email, is full admin) pairs."""
    return recipients(email for email, full in admins if full)


@dataclass(frozen=True)
class Failure:
    """What the sender does after a failed attempt (R-NOT-2)."""

    failed: bool  # for good
    next_attempt_at: datetime | None


def after_failure(attempts: int, now: datetime, *, permanent: bool) -> Failure:
    """R-NOT-2: `attempts` counts this one. 5xx (permanent) or the 10th failure: failed; else retry after 1 min,
    doubling, at most 1 h."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return Failure(True, None)
    delay = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return Failure(False, now + delay)


def link_expiry(sent_at: datetime, deadline: datetime | None) -> datetime:
    """R-NOT-6: a link lives 30 days from its email, or until the entity's deadline (consent) if that is given."""
    return deadline if deadline is not None else sent_at + LINK_LIFETIME


def short_error(message: str) -> str:
    return " ".join(message.split())[:MAX_ERROR_CHARS]


def outbox_documents(notification: Notification, now: datetime) -> list[Document]:
    """R-NOT-1: the outbox documents of a notification written at `now`: none without recipients; one per
    recipient when it carries a link (each link names its holder, R-NOT-6), else one for all."""
    to = recipients(notification.to)
    if not to:
        return []
    groups = [(r,) for r in to] if notification.link is not None else [to]
    docs: list[Document] = []
    for group in groups:
        occasion = notification.occasion if len(groups) == 1 and notification.link is None else \
            f"{notification.occasion}|{group[0]}"
        link = notification.link
        docs.append(OutboxNotification(
            id=new_id(Kind.NOTIFICATION),
            key=unique_key(notification.kind, notification.audience.value, notification.entity_id, occasion),
            kind=notification.kind, audience=notification.audience, to=group,
            subject=render_subject(notification.kind, notification.facts),
            entity_type=notification.entity_type, entity_id=notification.entity_id,
            owner_org_id=notification.owner_org_id, root_org_id=notification.root_org_id,
            created_by=notification.created_by, facts=dict(notification.facts),
            link=None if link is None else {"purpose": link.purpose.value, "entityId": link.entity_id,
                                            "version": link.version, "expiresAt": link.expires_at},
            status=NotificationStatus.QUEUED, next_attempt_at=now, created_at=now,
        ).to_doc())
    return docs
