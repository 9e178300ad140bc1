"""Provisioning events (R-EVT-1/2) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.services import reads
from domain.store.driver import Document
from resolvers.audit import ActorType, FieldChangeType
from resolvers.common import Connection, ProvisioningError
from resolvers.context import Info
from resolvers.enums import EntityType, EventAction
from resolvers.events.sharing import Share

if TYPE_CHECKING:
    from resolvers.batches.types import SubscriberBatchType
    from resolvers.billing.types import BillingReportNode
    from resolvers.customers.locations import LocationType
    from resolvers.customers.types import CustomerType
    from resolvers.orders.types import OrderType
    from resolvers.setup_assist.types import SetupAssistRequestType
    from resolvers.shipments.types import DeviceShipmentType
    from resolvers.subscribers.types import SubscriberType
    from resolvers.templates.types import OnboardingTemplateType
    from resolvers.trials.types import TrialType
    from resolvers.workspaces.types import WorkspaceType


@strawberry.input
class EventFilter:
    entity_types: list[EntityType] | None = None
    customer_ids: list[strawberry.ID] | None = None
    to_statuses: list[str] | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False
    entity_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Whole histories of these entities (any type; deleted ones included, R-AUD-2).")
    actions: list[EventAction] | None = strawberry.field(
        default=None, description="Which kinds of change; absent = [STATUS_CHANGE], what v1 delivered.")
    actor_sub: str | None = strawberry.field(default=None, description="Only changes made by this user (`sub`).")
    occurred_after: datetime | None = strawberry.field(default=None, description="Exclusive.")
    occurred_before: datetime | None = strawberry.field(default=None, description="Exclusive.")

    @staticmethod
    def to_domain(filter: EventFilter | None) -> tuple[reads.EventCriteria, reads.Ownership]:
        """The attribute criteria and the owner part of an event filter (absent: everything visible)."""
        if filter is None:
            return reads.EventCriteria(), reads.Ownership()
        criteria = reads.EventCriteria(
            entity_types=[t.value for t in filter.entity_types] if filter.entity_types is not None else None,
            customer_ids=[str(c) for c in filter.customer_ids] if filter.customer_ids is not None else None,
            to_statuses=list(filter.to_statuses) if filter.to_statuses is not None else None,
            entity_ids=[str(i) for i in filter.entity_ids] if filter.entity_ids is not None else None,
            actions=[a.value for a in filter.actions] if filter.actions is not None else None,
            actor_sub=filter.actor_sub, occurred_after=filter.occurred_after, occurred_before=filter.occurred_before,
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
    action: EventAction = strawberry.field(description="What the event records (R-AUD-1); STATUS_CHANGE unless said.")
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
            action=EventAction(doc.get("action") or EventAction.STATUS_CHANGE.value),
        )

    @strawberry.field(description="Who made the change (R-AUD-1), as the caller may see them.")
    async def actor(self, info: Info) -> ActorType:
        viewer = await info.context.caller()
        return ActorType.of_doc(self.doc.get("actor"), None if viewer.org is None else viewer)

    @strawberry.field(description="The fields an UPDATE changed, with their values before and after.")
    def changes(self) -> list[FieldChangeType]:
        return [FieldChangeType.of_doc(c) for c in self.doc.get("changes") or ()]

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


    @strawberry.field(description="Current state; null if gone, not visible or not a workspace event.")
    async def workspace(
        self, info: Info
    ) -> Annotated[WorkspaceType, strawberry.lazy("resolvers.workspaces.types")] | None:
        from resolvers.workspaces.types import WorkspaceType

        if self.entity_type is not EntityType.WORKSPACE:
            return None
        doc = await info.context.loaders.workspaces.visible.load(self.entity_id)
        return WorkspaceType.of_doc(doc) if doc else None

    @strawberry.field(description="Current state; null if gone, not visible or not a billing report event.")
    async def billing_report(
        self, info: Info
    ) -> Annotated[BillingReportNode, strawberry.lazy("resolvers.billing.types")] | None:
        from resolvers.billing.types import BillingReportNode

        if self.entity_type is not EntityType.BILLING_REPORT:
            return None
        doc = await info.context.loaders.visible_billing_report.load(self.entity_id)
        return BillingReportNode.of_doc(doc) if doc else None

    @strawberry.field(description="Current state (also once deleted: R-TPL-5); null if not visible or not a "
                                  "template event.")
    async def template(
        self, info: Info
    ) -> Annotated[OnboardingTemplateType, strawberry.lazy("resolvers.templates.types")] | None:
        from resolvers.templates.types import OnboardingTemplateType

        if self.entity_type is not EntityType.ONBOARDING_TEMPLATE:
            return None
        doc = await info.context.loaders.visible_template.load(self.entity_id)
        return OnboardingTemplateType.of_doc(doc) if doc else None

    @strawberry.field(description="The batch of a batch's own events and of the changes its rows made (R-BULK-4); "
                                  "null otherwise or if not visible.")
    async def batch(
        self, info: Info
    ) -> Annotated[SubscriberBatchType, strawberry.lazy("resolvers.batches.types")] | None:
        from resolvers.batches.types import SubscriberBatchType, visible_batch_loader

        batch_id = (self.doc.get("details") or {}).get("batchId")
        if self.entity_type is EntityType.SUBSCRIBER_BATCH:
            batch_id = self.entity_id
        if not batch_id:
            return None
        doc = await visible_batch_loader(info.context).load(str(batch_id))
        return SubscriberBatchType.of_doc(doc) if doc else None

    @strawberry.field(description="Current state; null if gone, not visible or not a location event (R-LOCN-1).")
    async def location(
        self, info: Info
    ) -> Annotated[LocationType, strawberry.lazy("resolvers.customers.locations")] | None:
        from resolvers.customers.locations import LocationType

        if self.entity_type is not EntityType.LOCATION:
            return None
        doc = await info.context.loaders.visible_location.load(self.entity_id)
        return LocationType.of_doc(doc) if doc else None

    @strawberry.field(description="Current state; null if not visible or not a Setup Assist event (R-SA-2).")
    async def setup_assist_request(
        self, info: Info
    ) -> Annotated[SetupAssistRequestType, strawberry.lazy("resolvers.setup_assist.types")] | None:
        from resolvers.setup_assist.types import SetupAssistRequestType, setup_assist_loaders

        if self.entity_type is not EntityType.SETUP_ASSIST_REQUEST:
            return None
        doc = await setup_assist_loaders(info).visible.load(self.entity_id)
        return SetupAssistRequestType.of_doc(doc) if doc else None

    @strawberry.field(description="Current state; null if not visible or not a device shipment event (R-TRI-7).")
    async def device_shipment(
        self, info: Info
    ) -> Annotated[DeviceShipmentType, strawberry.lazy("resolvers.shipments.types")] | None:
        from resolvers.shipments.types import DeviceShipmentType, shipment_loaders

        if self.entity_type is not EntityType.DEVICE_SHIPMENT:
            return None
        shipment = await shipment_loaders(info).visible.load(self.entity_id)
        return DeviceShipmentType.of(shipment) if shipment else None

    @strawberry.field(description="Current state; null if not visible or not an order event (R-ORD-STATE).")
    async def order(self, info: Info) -> Annotated[OrderType, strawberry.lazy("resolvers.orders.types")] | None:
        from resolvers.orders.types import OrderType, order_loaders

        if self.entity_type is not EntityType.ORDER:
            return None
        found = await order_loaders(info).visible.load(self.entity_id)
        return OrderType.of(found) if found else None

    @strawberry.field(description="Current state; null if not visible or not a trial event (R-TRI-STATE).")
    async def trial(self, info: Info) -> Annotated[TrialType, strawberry.lazy("resolvers.trials.types")] | None:
        from resolvers.trials.types import TrialType, trial_loaders

        if self.entity_type is not EntityType.TRIAL:
            return None
        found = await trial_loaders(info).visible.load(self.entity_id)
        return TrialType.of(found) if found else None


@strawberry.type
class ProvisioningEventConnection(Connection[ProvisioningEventType]):
    pass
