"""`Query.webhookEndpoints` (R-NOT-7): the caller's org's endpoints, for its admins."""

from __future__ import annotations

import strawberry

from domain.model.webhooks import WebhookEndpoint
from domain.rules.pagination import PageRequest
from domain.services import webhooks as service
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.webhooks.types import WebhookEndpointConnection, WebhookEndpointType


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The caller's org's webhook endpoints, oldest first (its admins; R-NOT-7).")
    async def webhook_endpoints(self, info: Info, first: int | None = 50,
                                after: str | None = None) -> WebhookEndpointConnection:
        listing = await service.endpoints(info.context.repos, await info.context.caller(),
                                          PageRequest.of(first, after))
        return listing_connection(WebhookEndpointConnection, listing,
                                  lambda d: WebhookEndpointType.of(WebhookEndpoint.from_doc(d)))
