"""`Query.node`: any object by its opaque id, as the caller may see it."""

from __future__ import annotations

import strawberry

from domain.model.ids import Kind, kind_of
from domain.services import customer_orgs, notifications, order_reads, webhooks
from resolvers.batches.types import SubscriberBatchType, visible_batch_loader
from resolvers.billing.types import BillingReportNode
from resolvers.common import Node
from resolvers.context import Info
from resolvers.customer_orgs.types import CustomerOrgType
from resolvers.customers.locations import LocationType
from resolvers.customers.types import CustomerType
from resolvers.notifications.types import NotificationType
from resolvers.orders.types import OrderType
from resolvers.organisations.types import PartnerType
from resolvers.setup_assist.types import SetupAssistRequestType, setup_assist_loaders
from resolvers.shipments.types import DeviceShipmentType, shipment_loaders
from resolvers.subscribers.types import SubscriberType
from resolvers.templates.types import OnboardingTemplateType
from resolvers.trials.types import TrialType, trial_loaders
from resolvers.webhooks.types import WebhookDeliveryType, WebhookEndpointType
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
            case Kind.CUSTOMER_ORG:  # §10: while the caller's org has access to it
                caller = await info.context.caller()
                org = await customer_orgs.visible_org(info.context.repos, caller, id)
                return CustomerOrgType.of(org, caller.org.id if caller.org else None) if org else None
            case Kind.DEVICE_SHIPMENT:  # R-TRI-7
                shipment = await shipment_loaders(info).visible.load(id)
                return DeviceShipmentType.of(shipment) if shipment else None
            case Kind.NOTIFICATION:  # R-NOT-5
                found = await notifications.visible_notification(info.context.repos, await info.context.caller(), id)
                return NotificationType.of_doc(found) if found else None
            case Kind.TRIAL:  # R-TRI-2: as `trial(id)` shows it
                trial = await trial_loaders(info).visible.load(id)
                return TrialType.of(trial) if trial else None
            case Kind.ORDER:  # R-ORD-8
                order = await order_reads.order(info.context.repos, await info.context.caller(), id)
                return OrderType.of(order) if order else None
            case Kind.WEBHOOK_ENDPOINT:  # R-NOT-7: its org's admins
                found_endpoints = await webhooks.visible_endpoints(info.context.repos, await info.context.caller(),
                                                                   [id])
                return WebhookEndpointType.of(found_endpoints[0]) if found_endpoints[0] else None
            case Kind.WEBHOOK_DELIVERY:
                found_deliveries = await webhooks.visible_deliveries(info.context.repos, await info.context.caller(),
                                                                     [id])
                return WebhookDeliveryType.of_doc(found_deliveries[0]) if found_deliveries[0] else None
            case Kind.UPLOAD:  # an uploaded file is no node of the API
                return None
            case None:
                return None
