from __future__ import annotations

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import reads
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.templates.types import OnboardingTemplateConnection, OnboardingTemplateType


@strawberry.type
class TemplateQueries:
    @strawberry.field(description="The caller's own onboarding templates.")
    async def onboarding_templates(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> OnboardingTemplateConnection:
        listing = await reads.templates(info.context.repos, await info.context.caller(), PageRequest.of(first, after))
        return listing_connection(OnboardingTemplateConnection, listing, OnboardingTemplateType.of_doc)
