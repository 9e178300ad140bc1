"""Signed webhooks (DOMAIN.md §13, R-NOT-7…10): endpoints an org registers, and the deliveries made to them.

An endpoint holds its own durable cursor over the events its org may see (`cursor_seq`: the last event whose
delivery is finished, succeeded or given up) and the state of the delivery in flight (`retry_count` attempts made
on the next event, `due_at` when the next attempt may go). A delivery's id is derived from the endpoint and the
event, so it is the same `webhook-id` on every attempt, even after a crash between sending and recording.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.model.changes import Change, EntityType
from domain.model.entities import _Entity
from domain.model.ids import Kind

MAX_ENDPOINTS_PER_ORG = 10  # R-NOT-7
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 500  # (decision)
MAX_ATTEMPTS = 8  # R-NOT-9
FIRST_WAIT = timedelta(seconds=30)  # doubling: 30 s … 32 min
ATTEMPT_TIMEOUT_S = 10.0  # success = 2xx within 10 s
FAILING_LIMIT = timedelta(hours=24)  # R-NOT-10
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)  # R-NOT-8
ATTEMPTS_KEPT = timedelta(days=7)
MAX_ERROR_LENGTH = 1024
SECRET_PREFIX = "whsec_"


class WebhookEndpointState(str, Enum):
    ACTIVE = "active"
    DISABLED = "disabled"


class WebhookDeliveryStatus(str, Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class WebhookFilter(_Value):
    """The endpoint's EventFilter as stored: attribute criteria and the owner part (R-ORG-3)."""

    entity_types: list[str] | None = Field(default=None, alias="entityTypes")
    customer_ids: list[str] | None = Field(default=None, alias="customerIds")
    to_statuses: list[str] | None = Field(default=None, alias="toStatuses")
    entity_ids: list[str] | None = Field(default=None, alias="entityIds")
    actions: list[str] | None = None
    actor_sub: str | None = Field(default=None, alias="actorSub")
    occurred_after: datetime | None = Field(default=None, alias="occurredAfter")
    occurred_before: datetime | None = Field(default=None, alias="occurredBefore")
    sub_partner_org_id: str | None = Field(default=None, alias="subPartnerOrgId")
    include_sub_partners: bool = Field(default=False, alias="includeSubPartners")


class SigningSecret(_Value):
    key: str  # "whsec_" + base64 of 32 random bytes
    expires_at: datetime | None = Field(default=None, alias="expiresAt")  # None: the current one


class WebhookEndpoint(_Entity):
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    slot: int  # 0…9, unique per owner: the limit of R-NOT-7 kept by an index
    url: str
    description: str | None = None
    filter: WebhookFilter = Field(default_factory=WebhookFilter)
    # The events this endpoint may receive: the owner filter (`ownerOrgId` or `rootOrgId` = org) fixed when the
    # filter was set, from what its org's admin could see then (R-ORG-2/3).
    reach_key: str = Field(alias="reachKey")
    reach_org_id: str = Field(alias="reachOrgId")
    state: WebhookEndpointState
    disabled_reason: str | None = Field(default=None, alias="disabledReason")
    secrets: list[SigningSecret]
    secret_rotated_at: datetime = Field(alias="secretRotatedAt")
    cursor_seq: int = Field(alias="cursorSeq")
    retry_count: int = Field(default=0, alias="retryCount")
    due_at: datetime | None = Field(default=None, alias="dueAt")
    failing_since: datetime | None = Field(default=None, alias="failingSince")
    version: int
    created_at: datetime = Field(alias="createdAt")
    created_by: str = Field(alias="createdBy")

    @property
    def previous_secret_expires_at(self) -> datetime | None:
        return max((s.expires_at for s in self.secrets if s.expires_at is not None), default=None)

    def signing_keys(self, now: datetime) -> list[str]:
        """The current secret, then a rotated-out one still within its 24 h (R-NOT-8)."""
        return [s.key for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def change(self, from_state: str | None, to_state: str, *, reason: str | None = None) -> Change:
        return Change(EntityType.WEBHOOK_ENDPOINT, self.id, self.owner_org_id, self.root_org_id, from_state,
                      to_state, self.version, reason=reason)


class WebhookAttempt(_Value):
    at: datetime
    http_status: int | None = Field(default=None, alias="httpStatus")
    duration_ms: int = Field(alias="durationMs")
    error: str | None = None


class WebhookDelivery(_Entity):
    endpoint_id: str = Field(alias="endpointId")
    owner_org_id: str = Field(alias="ownerOrgId")
    event_seq: int = Field(alias="eventSeq")
    status: WebhookDeliveryStatus
    attempts: list[WebhookAttempt] = Field(default_factory=list)
    next_attempt_at: datetime | None = Field(default=None, alias="nextAttemptAt")
    created_at: datetime = Field(alias="createdAt")
    last_attempt_at: datetime = Field(alias="lastAttemptAt")

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="python")


def delivery_id(endpoint_id: str, event_seq: int) -> str:
    """The delivery of one event to one endpoint: the same `webhook-id` on every attempt (R-NOT-8). A digest, so it
    tells nothing about the event's position among other tenants' events (R-ORG-6)."""
    digest = hashlib.sha256(f"{endpoint_id}:{event_seq}".encode()).hexdigest()[:24]
    return f"{Kind.WEBHOOK_DELIVERY.value}_{digest}"
