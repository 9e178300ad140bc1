"""`Query.node`: any object by its opaque id, as the caller may see it."""

from __future__ import annotations

import strawberry

from domain.model.ids import Kind, kind_of
from resolvers.batches.types import SubscriberBatchType, visible_batch_loader
from resolvers.billing.types import BillingReportNode
from resolvers.common import Node
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.customers.types import CustomerType
from resolvers.organisations.types import PartnerType
from resolvers.setup_assist.types import SetupAssistRequestType, setup_assist_loaders
from resolvers.subscribers.types import SubscriberType
from resolvers.templates.types import OnboardingTemplateType
from resolvers.workspaces.types import WorkspaceType


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by id; null when it does not exist or is not visible (R-ORG-6).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        loaders = info.context.loaders
        match kind_of(id):
            case Kind.PARTNER:
                partner = await loaders.visible_partner.load(id)
                return PartnerType.of(partner) if partner else None
            case Kind.TEMPLATE:
                doc = await loaders.visible_template.load(id)
                return OnboardingTemplateType.of_doc(doc) if doc else None
            case Kind.CUSTOMER:
                doc = await loaders.visible_customer.load(id)
                return CustomerType.of_doc(doc) if doc else None
            case Kind.LOCATION:
                doc = await loaders.visible_location.load(id)
                return LocationType.of_doc(doc) if doc else None
            case Kind.SUBSCRIBER:
                doc = await loaders.visible_subscriber.load(id)
                return SubscriberType.of_doc(doc) if doc else None
            case Kind.BILLING_REPORT:
                doc = await loaders.visible_billing_report.load(id)
                return BillingReportNode.of_doc(doc) if doc else None
            case Kind.WORKSPACE:
                doc = await loaders.workspaces.visible.load(id)
                return WorkspaceType.of_doc(doc) if doc else None
            case Kind.SUBSCRIBER_BATCH:
                doc = await visible_batch_loader(info.context).load(id)
                return SubscriberBatchType.of_doc(doc) if doc else None
            case Kind.SETUP_ASSIST:
                doc = await setup_assist_loaders(info).visible.load(id)
                return SetupAssistRequestType.of_doc(doc) if doc else None
            case Kind.UPLOAD:  # an uploaded file is no node of the API
                return None
            case None:
                return None
