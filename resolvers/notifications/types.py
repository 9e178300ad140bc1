"""The email outbox as the API shows it (DOMAIN.md §13, R-NOT-5): never the body nor the link it carries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.model.notifications import OutboxNotification
from domain.store.driver import Document
from resolvers.common import Connection, Node
from resolvers.enums import EntityType, NotificationAudience, NotificationKind, NotificationStatus


@strawberry.type(name="Notification", description="An email of the outbox (R-NOT-1); its body is never shown: "
                                                   "it may carry a link.")
class NotificationType(Node):
    id: strawberry.ID = strawberry.field(description="Also the email's Message-ID.")
    kind: NotificationKind
    audience: NotificationAudience
    to: list[str]
    subject: str
    entity_type: EntityType | None
    entity_id: strawberry.ID | None
    status: NotificationStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of_doc(cls, doc: Document) -> NotificationType:
        n = OutboxNotification.from_doc(doc)
        return cls(id=strawberry.ID(n.id), kind=n.kind, audience=n.audience, to=list(n.to), subject=n.subject,
                   entity_type=n.entity_type, entity_id=strawberry.ID(n.entity_id) if n.entity_id else None,
                   status=n.status, attempts=n.attempts, last_error=n.last_error, created_at=n.created_at,
                   sent_at=n.sent_at)


@strawberry.type(name="NotificationConnection")
class NotificationConnection(Connection[NotificationType]):
    pass


@strawberry.input
class NotificationFilter:
    kinds: list[NotificationKind] | None = None
    status: list[NotificationStatus] | None = None
    entity_id: strawberry.ID | None = None
    recipient: str | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False
