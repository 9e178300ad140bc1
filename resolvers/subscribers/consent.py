"""Consent of an existing free account to join the org (DOMAIN.md §7.1, R-CONS-1/2)."""

from __future__ import annotations

import strawberry

from domain.services import consent
from resolvers.common import refused_as
from resolvers.context import Info
from resolvers.subscribers.mutations import SubscriberPayload
from resolvers.subscribers.types import SubscriberType


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Sends the consent email again; only while the subscriber is "
                                     "`pending_user_migration`, at most 3 in any 24 hours (R-CONS-1).")
    @refused_as(SubscriberPayload)
    async def send_subscriber_consent_email(
        self, info: Info, subscriber_id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberPayload:
        subscriber = await consent.send_consent_email(
            info.context.repos, await info.context.caller(), subscriber_id, on_behalf_of_sub_partner_org_id)
        return SubscriberPayload(subscriber=SubscriberType.of(subscriber), errors=[])

    @strawberry.mutation(description="platform_admin: the account owner's answer. Accepted → provisioning → "
                                     "provisioned; declined → error USER_MIGRATION_DECLINED (R-CONS-2).")
    @refused_as(SubscriberPayload)
    async def record_subscriber_consent(
        self, info: Info, subscriber_id: strawberry.ID, accepted: bool,
    ) -> SubscriberPayload:
        subscriber = await consent.record_consent(
            info.context.repos, await info.context.caller(), subscriber_id, accepted)
        return SubscriberPayload(subscriber=SubscriberType.of(subscriber), errors=[])
