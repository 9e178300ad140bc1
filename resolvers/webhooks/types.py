"""Webhook endpoints and deliveries as the API shows them (DOMAIN.md §13, R-NOT-7…10)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.model.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointState,
)
from domain.rules.pagination import PageRequest
from domain.services import reads
from domain.services import webhooks as service
from domain.store.driver import Document
from resolvers.common import Connection, Node, listing_connection
from resolvers.context import Info
from resolvers.enums import EntityType
from resolvers.organisations.types import PartnerType

strawberry.enum(WebhookEndpointState, graphql_name_from="value")
strawberry.enum(WebhookDeliveryStatus, graphql_name_from="value")


@strawberry.type
class WebhookEventFilter:
    entity_types: list[EntityType] | None
    customer_ids: list[strawberry.ID] | None
    to_statuses: list[str] | None
    sub_partner_org_id: strawberry.ID | None
    include_sub_partners: bool


@strawberry.type
class WebhookDeliveryAttempt:
    at: datetime
    http_status: int | None
    duration_ms: int
    error: str | None = strawberry.field(description="At most 1 KB.")

    @classmethod
    def of(cls, a: WebhookAttempt) -> WebhookDeliveryAttempt:
        return cls(at=a.at, http_status=a.http_status, duration_ms=a.duration_ms, error=a.error)


@strawberry.type(name="WebhookDelivery")
class WebhookDeliveryType(Node):
    id: strawberry.ID = strawberry.field(description="= the webhook-id header (the same on every attempt).")
    event_cursor: str = strawberry.field(description="The event's cursor (resumeAfter of setWebhookEndpointState).")
    status: WebhookDeliveryStatus
    attempts: list[WebhookDeliveryAttempt]
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> WebhookDeliveryType:
        d = WebhookDelivery.from_doc(doc)
        return cls(id=strawberry.ID(d.id), event_cursor=reads.event_cursor(d.event_seq), status=d.status,
                   attempts=[WebhookDeliveryAttempt.of(a) for a in d.attempts], next_attempt_at=d.next_attempt_at,
                   created_at=d.created_at)


@strawberry.type
class WebhookDeliveryConnection(Connection[WebhookDeliveryType]):
    pass


@strawberry.type(name="WebhookEndpoint")
class WebhookEndpointType(Node):
    model: strawberry.Private[WebhookEndpoint]
    id: strawberry.ID
    url: str
    description: str | None
    filter: WebhookEventFilter
    state: WebhookEndpointState
    disabled_reason: str | None
    secret_rotated_at: datetime
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then the secret replaced by the last rotation also signs (R-NOT-8).")
    version: int
    created_at: datetime

    @classmethod
    def of(cls, e: WebhookEndpoint) -> WebhookEndpointType:
        f = e.filter
        return cls(
            model=e, id=strawberry.ID(e.id), url=e.url, description=e.description,
            filter=WebhookEventFilter(
                entity_types=[EntityType(t) for t in f.entity_types] if f.entity_types is not None else None,
                customer_ids=[strawberry.ID(c) for c in f.customer_ids] if f.customer_ids is not None else None,
                to_statuses=f.to_statuses,
                sub_partner_org_id=strawberry.ID(f.sub_partner_org_id) if f.sub_partner_org_id else None,
                include_sub_partners=f.include_sub_partners),
            state=e.state, disabled_reason=e.disabled_reason, secret_rotated_at=e.secret_rotated_at,
            previous_secret_expires_at=e.previous_secret_expires_at, version=e.version, created_at=e.created_at)

    @strawberry.field(description="Newest event first; attempts are kept 7 days (R-NOT-9).")
    async def deliveries(self, info: Info, status: WebhookDeliveryStatus | None = None, first: int | None = 50,
                         after: str | None = None) -> WebhookDeliveryConnection:
        listing = await service.deliveries(info.context.repos, self.model, status, PageRequest.of(first, after))
        return listing_connection(WebhookDeliveryConnection, listing, WebhookDeliveryType.of_doc)

    @strawberry.field
    async def owner(self, info: Info) -> PartnerType:
        partner = await info.context.loaders.visible_partner.load(self.model.owner_org_id)
        assert partner is not None  # the caller's own org
        return PartnerType.of(partner)


@strawberry.type
class WebhookEndpointConnection(Connection[WebhookEndpointType]):
    pass
