"""`notifications`: the outbox as the caller may read it (R-NOT-5)."""

from __future__ import annotations

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import notifications
from domain.services.reads import Ownership
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.notifications.types import NotificationConnection, NotificationFilter, NotificationType


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="Emails of the outbox, newest first: a partner's full_admin and read_only_admin "
                                  "read what their org may see (R-ORG-2/3), a sales_admin those of its own trials "
                                  "and orders, the platform all (R-NOT-5).")
    async def notifications(self, info: Info, filter: NotificationFilter | None = None, first: int | None = 50,
                            after: str | None = None) -> NotificationConnection:
        f = filter or NotificationFilter()
        criteria = notifications.NotificationCriteria(
            kinds=tuple(f.kinds) if f.kinds is not None else None,
            statuses=tuple(f.status) if f.status is not None else None,
            entity_id=f.entity_id, recipient=f.recipient)
        ownership = Ownership(f.sub_partner_org_id, bool(f.include_sub_partners))
        listing = await notifications.notifications(info.context.repos, await info.context.caller(), criteria,
                                                    ownership, PageRequest.of(first, after))
        return listing_connection(NotificationConnection, listing, NotificationType.of_doc)
