"""`setPartnerNotificationEmails` (R-NOT-3): where an org's partner-admin emails go."""

from __future__ import annotations

import strawberry

from domain.services import notifications
from resolvers.common import refused_as
from resolvers.context import Info
from resolvers.organisations.mutations import PartnerPayload
from resolvers.organisations.types import PartnerType


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="full_admin: the org's partner-admin addresses (R-NOT-3), replacing the old "
                                     "list; for a sub-partner by its parent with onBehalfOfSubPartnerOrgId.")
    @refused_as(PartnerPayload)
    async def set_partner_notification_emails(
        self, info: Info, emails: list[str], on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> PartnerPayload:
        partner = await notifications.set_partner_notification_emails(
            info.context.repos, await info.context.caller(), emails, on_behalf_of_sub_partner_org_id)
        return PartnerPayload(partner=PartnerType.of(partner), errors=[])
