"""Provisioning events (R-EVT-1/2) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.services import reads
from domain.store.driver import Document
from resolvers.common import Connection, ProvisioningError
from resolvers.context import Info
from resolvers.enums import EntityType
from resolvers.events.sharing import Share

if TYPE_CHECKING:
    from resolvers.billing.types import BillingReportNode
    from resolvers.customers.types import CustomerType
    from resolvers.subscribers.types import SubscriberType


@strawberry.input
class EventFilter:
    entity_types: list[EntityType] | None = None
    customer_ids: list[strawberry.ID] | None = None
    to_statuses: list[str] | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False

    @staticmethod
    def to_domain(filter: EventFilter | None) -> tuple[reads.EventCriteria, reads.Ownership]:
        """The attribute criteria and the owner part of an event filter (absent: everything visible)."""
        if filter is None:
            return reads.EventCriteria(), reads.Ownership()
        criteria = reads.EventCriteria(
            entity_types=[t.value for t in filter.entity_types] if filter.entity_types is not None else None,
            customer_ids=[str(c) for c in filter.customer_ids] if filter.customer_ids is not None else None,
            to_statuses=list(filter.to_statuses) if filter.to_statuses is not None else None,
        )
        ownership = reads.Ownership(sub_partner_org_id=filter.sub_partner_org_id,
                                    include_sub_partners=bool(filter.include_sub_partners))
        return criteria, ownership


@strawberry.type(name="ProvisioningEvent")
class ProvisioningEventType:
    doc: strawberry.Private[Document]
    cursor: str = strawberry.field(description="Opaque; pass back as `after` to resume (R-EVT-2).")
    entity_type: EntityType
    entity_id: strawberry.ID
    customer_id: strawberry.ID | None
    owner_org_id: strawberry.ID
    from_status: str | None = strawberry.field(description="null for a creation")
    to_status: str
    version: int = strawberry.field(description="The entity's version after this change.")
    errors: list[ProvisioningError]
    reason: str | None
    occurred_at: datetime
    # A live event shared by several subscribers: where the result of running the selection is kept.
    share: strawberry.Private[Share | None] = None

    @classmethod
    def of(cls, doc: Document, cursor: str, share: Share | None = None) -> ProvisioningEventType:
        return cls(
            share=share,
            doc=doc, cursor=cursor, entity_type=EntityType(doc["entityType"]),
            entity_id=strawberry.ID(doc["entityId"]),
            customer_id=strawberry.ID(doc["customerId"]) if doc.get("customerId") else None,
            owner_org_id=strawberry.ID(doc["ownerOrgId"]), from_status=doc.get("fromStatus"),
            to_status=doc["toStatus"], version=doc["version"],
            errors=[ProvisioningError(code=e["code"], message=e["message"]) for e in doc.get("errors") or []],
            reason=doc.get("reason"), occurred_at=doc["occurredAt"],
        )

    @strawberry.field(description="Current state; null if gone or not visible.")
    async def customer(
        self, info: Info
    ) -> Annotated[CustomerType, strawberry.lazy("resolvers.customers.types")] | None:
        from resolvers.customers.types import CustomerType

        if not self.customer_id:
            return None
        doc = await info.context.loaders.visible_customer.load(self.customer_id)
        return CustomerType.of_doc(doc) if doc else None

    @strawberry.field(description="Current state; null if gone, not visible or not a subscriber event.")
    async def subscriber(
        self, info: Info
    ) -> Annotated[SubscriberType, strawberry.lazy("resolvers.subscribers.types")] | None:
        from resolvers.subscribers.types import SubscriberType

        if self.entity_type is not EntityType.SUBSCRIBER:
            return None
        doc = await info.context.loaders.visible_subscriber.load(self.entity_id)
        return SubscriberType.of_doc(doc) if doc else None


    @strawberry.field(description="Current state; null if gone, not visible or not a billing report event.")
    async def billing_report(
        self, info: Info
    ) -> Annotated[BillingReportNode, strawberry.lazy("resolvers.billing.types")] | None:
        from resolvers.billing.types import BillingReportNode

        if self.entity_type is not EntityType.BILLING_REPORT:
            return None
        doc = await info.context.loaders.visible_billing_report.load(self.entity_id)
        return BillingReportNode.of_doc(doc) if doc else None


@strawberry.type
class ProvisioningEventConnection(Connection[ProvisioningEventType]):
    pass
