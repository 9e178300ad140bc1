"""The schema: every area's queries and mutations merged into the root types."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.tools import merge_types

from resolvers.batches.mutations import BatchMutations
from resolvers.batches.queries import BatchQueries
from resolvers.batches.types import SubscriberBatchType
from resolvers.billing.mutations import BillingMutations
from resolvers.billing.queries import BillingQueries
from resolvers.billing.types import BillingReportNode
from resolvers.customer_orgs.queries import CustomerOrgQueries
from resolvers.customer_orgs.types import CustomerOrgType
from resolvers.customers.attach_mutations import AttachMutations
from resolvers.customers.locations import LocationType
from resolvers.customers.mutations import CustomerMutations
from resolvers.customers.queries import CustomerQueries
from resolvers.customers.types import CustomerType
from resolvers.dashboard.queries import DashboardQueries
from resolvers.errors import ErrorCodes, GatewaySchema, MaskedErrorCodes
from resolvers.events.queries import EventQueries
from resolvers.events.sharing import SharingExecutionContext
from resolvers.events.subscription import EventHeadQueries, EventSubscription
from resolvers.locations.mutations import LocationMutations
from resolvers.node import NodeQueries
from resolvers.notifications.mutations import NotificationMutations
from resolvers.notifications.queries import NotificationQueries
from resolvers.notifications.types import NotificationType
from resolvers.orders.mutations import OrderMutations
from resolvers.orders.queries import OrderQueries
from resolvers.orders.types import OrderType
from resolvers.organisations.mutations import OrganisationMutations
from resolvers.organisations.queries import OrganisationQueries
from resolvers.organisations.types import PartnerType
from resolvers.plan import PlannedExecutionContext
from resolvers.scalars import SCALAR_OVERRIDES
from resolvers.setup_assist.mutations import SetupAssistMutations
from resolvers.setup_assist.types import SetupAssistRequestType
from resolvers.shipments.mutations import ShipmentMutations
from resolvers.shipments.queries import ShipmentQueries
from resolvers.shipments.types import DeviceShipmentType
from resolvers.subscribers.consent import ConsentMutations
from resolvers.subscribers.mutations import SubscriberMutations
from resolvers.subscribers.queries import SubscriberQueries
from resolvers.subscribers.types import SubscriberType
from resolvers.templates.mutations import TemplateMutations
from resolvers.templates.queries import TemplateQueries
from resolvers.templates.types import OnboardingTemplateType
from resolvers.trials.mutations import TrialMutations
from resolvers.trials.queries import TrialQueries
from resolvers.trials.types import TrialType
from resolvers.webhooks.mutations import WebhookMutations
from resolvers.webhooks.queries import WebhookQueries
from resolvers.webhooks.types import WebhookDeliveryType, WebhookEndpointType
from resolvers.workspaces.mutations import WorkspaceMutations
from resolvers.workspaces.queries import WorkspaceQueries
from resolvers.workspaces.types import WorkspaceType

Query = merge_types("Query", (NodeQueries, OrganisationQueries, TemplateQueries, CustomerQueries, SubscriberQueries,
                              EventQueries, EventHeadQueries, BillingQueries, WorkspaceQueries, BatchQueries,
                              NotificationQueries, DashboardQueries, CustomerOrgQueries, ShipmentQueries))
Mutation = merge_types("Mutation", (TemplateMutations, CustomerMutations, AttachMutations, SubscriberMutations,
                                    ConsentMutations,
                                    OrganisationMutations, BillingMutations, WorkspaceMutations, LocationMutations,
                                    NotificationMutations, SetupAssistMutations, BatchMutations, ShipmentMutations))

# Every Node implementation, so `node(id)` can return any of them.
NODE_TYPES = [PartnerType, OnboardingTemplateType, CustomerType, LocationType, SubscriberType, BillingReportNode,
              WorkspaceType, SetupAssistRequestType, SubscriberBatchType, CustomerOrgType, DeviceShipmentType]
NODE_TYPES += [NotificationType]  # R-NOT-5
Query = merge_types("Query", (Query, OrderQueries))  # R-ORD
Mutation = merge_types("Mutation", (Mutation, OrderMutations))
NODE_TYPES += [OrderType]  # R-ORD
Query = merge_types("Query", (Query, TrialQueries))  # R-TRI
Mutation = merge_types("Mutation", (Mutation, TrialMutations))
NODE_TYPES += [TrialType]  # R-TRI
Query = merge_types("Query", (Query, WebhookQueries))  # R-NOT-7…10
Mutation = merge_types("Mutation", (Mutation, WebhookMutations))
NODE_TYPES += [WebhookEndpointType, WebhookDeliveryType]


def build_schema(*, mask_errors: bool = False,
                 extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
                 plans: bool = True) -> strawberry.Schema:
    """The schema; `extensions` (the gateway's limits, metrics, tracing) run before the error codes are added.

    `plans`: plain fields answered by cached execution plans (resolvers.plan); off, graphql-core's executor answers
    every field itself (the same answer, byte for byte, only slower)."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=EventSubscription,
        types=NODE_TYPES,
        extensions=[*extensions, MaskedErrorCodes if mask_errors else ErrorCodes],
        execution_context_class=PlannedExecutionContext if plans else SharingExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
