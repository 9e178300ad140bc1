"""Webhook endpoint mutations (R-NOT-7/8/10): full_admin of the org that owns the endpoint."""

from __future__ import annotations

import strawberry

from domain.model.webhooks import WebhookEndpoint, WebhookEndpointState
from domain.services import webhooks as service
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.events.types import EventFilter
from resolvers.subscribers.mutations import DeletePayload
from resolvers.webhooks.types import WebhookEndpointType


@strawberry.input
class WebhookEndpointInput:
    url: str = strawberry.field(description="https, at most 2048 characters, a public host (R-NOT-7).")
    description: str | None = None
    filter: EventFilter | None = strawberry.field(
        default=None, description="Which of the events the org may see (absent: every status change).")

    def to_domain(self) -> service.EndpointInput:
        criteria, ownership = EventFilter.to_domain(self.filter)
        return service.EndpointInput(self.url, self.description, criteria, ownership)


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpointType | None
    secret: str | None = strawberry.field(description="The signing secret: shown by create and rotate only.")
    errors: list[UserError]


def _payload(endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookEndpointPayload:
    return WebhookEndpointPayload(endpoint=WebhookEndpointType.of(endpoint), secret=secret, errors=[])


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="full_admin: at most 10 per org; signed with the returned secret (R-NOT-7/8).")
    @refused_as(WebhookEndpointPayload)
    async def create_webhook_endpoint(self, info: Info, input: WebhookEndpointInput) -> WebhookEndpointPayload:
        endpoint, secret = await service.create_endpoint(info.context.repos, await info.context.caller(),
                                                         input.to_domain())
        return _payload(endpoint, secret)

    @strawberry.mutation(description="full_admin: a new URL, description or filter.")
    @refused_as(WebhookEndpointPayload)
    async def update_webhook_endpoint(self, info: Info, id: strawberry.ID,
                                      input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return _payload(await service.update_endpoint(info.context.repos, await info.context.caller(), id,
                                                      input.to_domain()))

    @strawberry.mutation(description="full_admin: a new secret; the previous one also signs for 24 h (R-NOT-8).")
    @refused_as(WebhookEndpointPayload)
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
        endpoint, secret = await service.rotate_secret(info.context.repos, await info.context.caller(), id)
        return _payload(endpoint, secret)

    @strawberry.mutation(description="full_admin: disable, or re-enable from the next event or replaying after "
                                     "`resumeAfter` (a delivery's eventCursor; older than 7 days: CURSOR_EXPIRED, "
                                     "R-NOT-10).")
    @refused_as(WebhookEndpointPayload)
    async def set_webhook_endpoint_state(self, info: Info, id: strawberry.ID, state: WebhookEndpointState,
                                         resume_after: str | None = None) -> WebhookEndpointPayload:
        hub = info.context.hub
        lifetime = hub.cursor_lifetime if hub is not None else service.DEFAULT_CURSOR_LIFETIME
        return _payload(await service.set_state(info.context.repos, await info.context.caller(), id, state,
                                                resume_after, lifetime))

    @strawberry.mutation(description="full_admin: removes the endpoint and its deliveries.")
    @refused_as(DeletePayload)
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeletePayload:
        deleted = await service.delete_endpoint(info.context.repos, await info.context.caller(), id)
        return DeletePayload(deleted_id=strawberry.ID(deleted), errors=[])
