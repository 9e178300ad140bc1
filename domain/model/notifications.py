"""Emails as an outbox (DOMAIN.md §13, R-NOT-1…6).

Usage, for the slices that send mail (trials, devices, orders, webhooks):

    from domain.model.notifications import Link, LinkPurpose, Notification, NotificationAudience, NotificationKind
    from domain.services.notifications import partner_admin_recipients

    await tx.notify(Notification(
        kind=NotificationKind.TRIAL_EXPIRY_WARNING, audience=NotificationAudience.PARTNER_ADMINS,
        to=partner_admin_recipients(owner, trial.created_by),
        entity_type=EntityType.TRIAL, entity_id=trial.id, occasion=trial.ends_at.isoformat(),
        owner_org_id=owner.id, root_org_id=owner.root_id, created_by=trial.created_by,
        facts={"companyName": trial.company_name, "endsAt": trial.ends_at.isoformat()}))

- `tx.notify` writes the notification in the transaction of the change (R-NOT-1); the same (kind, entity,
  occasion, audience) written twice is one notification, so a timer that fires again sends nothing new.
  No recipient: nothing is written.
- `facts` are the plain values the email is rendered from at send time (domain.rules.notifications; see
  `FACTS` there for what each kind uses). The body is never stored nor exposed.
- `link`: consent and setup emails carry a signed one-purpose link (R-NOT-6). Give
  `Link(LinkPurpose.TRIAL_CONSENT, trial.id, trial.link_version, expires_at=trial.consent_deadline)`;
  one notification is then written per recipient, each link naming its recipient (`sub`). Bump the entity's
  link version on a resend/handover: older links stop working.
- A request made with a link token has `caller.principal.link` (a `LinkGrant`: purpose, entity_id, owner_org_id,
  version, recipient) and no org, role or scope. The slice's service checks it with
  `domain.services.notifications.require_link(caller, purpose, entity_id, current_link_version)` (raises
  `LinkRefused`, answered as UNAUTHENTICATED) and then checks the entity's state itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field

from domain.model.changes import EntityType
from domain.model.entities import _Entity
from domain.model.principal import LinkPurpose as LinkPurpose


class NotificationKind(str, Enum):
    TRIAL_CONSENT_REQUEST = "TRIAL_CONSENT_REQUEST"
    TRIAL_STARTED = "TRIAL_STARTED"
    TRIAL_EXPIRY_WARNING = "TRIAL_EXPIRY_WARNING"
    TRIAL_EXPIRED = "TRIAL_EXPIRED"
    TRIAL_ACCESS_ENDED = "TRIAL_ACCESS_ENDED"
    DEVICE_SHIPPED = "DEVICE_SHIPPED"
    DEVICE_RETURN_OVERDUE = "DEVICE_RETURN_OVERDUE"
    ORDER_SETUP = "ORDER_SETUP"
    ORDER_SETUP_FOLLOW_UP = "ORDER_SETUP_FOLLOW_UP"
    CUSTOMER_ADMIN_WELCOME = "CUSTOMER_ADMIN_WELCOME"
    WEBHOOK_ENDPOINT_DISABLED = "WEBHOOK_ENDPOINT_DISABLED"


class NotificationAudience(str, Enum):
    CUSTOMER_ADMINS = "CUSTOMER_ADMINS"
    PARTNER_ADMINS = "PARTNER_ADMINS"
    USERS = "USERS"
    PROVISIONING_CONTACT = "PROVISIONING_CONTACT"


class NotificationStatus(str, Enum):
    """R-NOT-2: queued → sending → sent; a temporary failure goes back to queued; 5xx or the 10th → failed."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class LinkRefused(Exception):
    """A link token that does not (or no longer) open this entity (R-NOT-6): answered as UNAUTHENTICATED."""


@dataclass(frozen=True)
class Link:
    """The one-purpose link an email carries (R-NOT-6); the token itself is made when the email is sent."""

    purpose: LinkPurpose
    entity_id: str
    version: int
    # The link's end (consent: its deadline); None: 30 days from the sending.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """An email to write to the outbox (`tx.notify`), with what it is about and who may see it (R-NOT-5)."""

    kind: NotificationKind
    audience: NotificationAudience
    to: tuple[str, ...]
    occasion: str  # with kind, entity and audience: the notification's unique key (R-NOT-1)
    owner_org_id: str
    root_org_id: str
    entity_type: EntityType | None = None
    entity_id: str | None = None
    created_by: str | None = None  # the trial's or order's creator (a sales_admin sees its own, R-NOT-5)
    facts: dict[str, Any] = field(default_factory=dict)
    link: Link | None = None


class OutboxNotification(_Entity):
    """A notification as the outbox stores it (the API shows it without its facts and link)."""

    key: str
    kind: NotificationKind
    audience: NotificationAudience
    to: tuple[str, ...]
    subject: str
    entity_type: EntityType | None = Field(default=None, alias="entityType")
    entity_id: str | None = Field(default=None, alias="entityId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    created_by: str | None = Field(default=None, alias="createdBy")
    facts: dict[str, Any] = Field(default_factory=dict)
    link: dict[str, Any] | None = None  # Link's fields: purpose, entityId, version, expiresAt
    status: NotificationStatus = NotificationStatus.QUEUED
    attempts: int = 0
    last_error: str | None = Field(default=None, alias="lastError")
    next_attempt_at: datetime | None = Field(default=None, alias="nextAttemptAt")
    lease_owner: str | None = Field(default=None, alias="leaseOwner")
    lease_until: datetime | None = Field(default=None, alias="leaseUntil")
    created_at: datetime = Field(alias="createdAt")
    sent_at: datetime | None = Field(default=None, alias="sentAt")

    @property
    def link_spec(self) -> Link | None:
        if self.link is None:
            return None
        return Link(LinkPurpose(self.link["purpose"]), self.link["entityId"], int(self.link["version"]),
                    self.link.get("expiresAt"))
