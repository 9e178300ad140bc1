"""Every enum of the API is derived from the domain: the members of its domain enum or table, in their order.

A hand-written copy would drift the day the domain gains a member; these tests fail on such a copy at once.
"""

from __future__ import annotations

from enum import Enum
from functools import cache

import graphql
import pytest
import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from domain.model.audit import ActorKind, EventAction
from domain.model.batches import BatchSource, BatchStatus, RowAction, RowStatus
from domain.model.changes import EntityType
from domain.model.customer_orgs import ResaleService, SubdomainKind
from domain.model.entities import (
    AttachApprovalState,
    AuthMode,
    CustomerStatus,
    OrgKind,
    PackageStatus,
    PartnerAccess,
    RouteToMarket,
    RplState,
    SubPartnerState,
    SubscriberStatus,
)
from domain.model.errors import ErrorCode
from domain.model.notifications import NotificationAudience, NotificationKind, NotificationStatus
from domain.model.orders import OrderStatus, ResaleOffer, SetupResponsibility
from domain.model.setup_assist import SetupAssistSku
from domain.model.shipments import ShipmentStatus
from domain.model.status import SetupAssistStatus, WorkspaceStatus
from domain.model.trials import ApprovalState, TrialStatus
from domain.model.webhooks import WebhookDeliveryStatus, WebhookEndpointState
from domain.rules.billing import ReportStatus, ReportType
from domain.rules.catalogue import CATALOGUE, USER_PACKAGES
from domain.rules.compliance import Decision
from domain.services.billing import REPORT_ORDERS
from domain.store.repositories.customers import CUSTOMER_ORDERS
from domain.store.repositories.subscribers import SUBSCRIBER_ORDERS
from domain.store.repositories.trials import TRIAL_ORDERS
from resolvers.enums import TableEnum
from resolvers.schema import build_schema, sdl

# The API shows these domain enums by their values (`provisioned`), the others by their names.
BY_VALUE: dict[str, type[Enum]] = {
    "AuthMode": AuthMode, "CustomerStatus": CustomerStatus, "PackageStatus": PackageStatus, "RplState": RplState,
    "SubPartnerState": SubPartnerState, "SubscriberStatus": SubscriberStatus,
}
BY_VALUE["WorkspaceStatus"] = WorkspaceStatus  # R-WS-2
BY_VALUE["SetupAssistStatus"] = SetupAssistStatus  # R-SA-2
BY_NAME: dict[str, type[Enum]] = {
    "BillingReportStatus": ReportStatus, "BillingReportType": ReportType, "EntityType": EntityType,
    "ErrorCode": ErrorCode, "OrgKind": OrgKind, "RplDecision": Decision,
}
BY_NAME["SetupAssistSku"] = SetupAssistSku  # R-SA-1
BY_VALUE.update(SubscriberBatchStatus=BatchStatus, BatchRowStatus=RowStatus)  # R-BULK-3
BY_NAME.update(BatchRowAction=RowAction, BatchSource=BatchSource)  # R-BULK-1
BY_NAME.update(ActorKind=ActorKind, EventAction=EventAction)  # R-AUD-1
BY_VALUE["AttachApprovalState"] = AttachApprovalState  # R-ATT-2
BY_NAME["PartnerAccess"] = PartnerAccess  # R-ATT-3
BY_NAME["RouteToMarket"] = RouteToMarket  # R-TRI-1
BY_NAME.update(ResaleService=ResaleService, SubdomainKind=SubdomainKind)  # §10, R-ORD-6
BY_VALUE["ShipmentStatus"] = ShipmentStatus  # R-TRI-7
BY_NAME["NotificationKind"] = NotificationKind  # R-NOT-4
BY_NAME["NotificationAudience"] = NotificationAudience  # R-NOT-3
BY_VALUE["NotificationStatus"] = NotificationStatus  # R-NOT-2
BY_VALUE["OrderStatus"] = OrderStatus  # R-ORD-STATE
BY_NAME.update(ResaleOffer=ResaleOffer, SetupResponsibility=SetupResponsibility)  # R-ORD-1, R-ORD-4
BY_VALUE.update(TrialStatus=TrialStatus, ApprovalState=ApprovalState)  # R-TRI-STATE, R-TRI-8
BY_VALUE.update(WebhookEndpointState=WebhookEndpointState, WebhookDeliveryStatus=WebhookDeliveryStatus)  # R-NOT-7/9
# The API enums made of the keys of a domain table.
BY_KEY: dict[str, tuple[str, ...]] = {
    "BillingReportOrder": tuple(REPORT_ORDERS), "CustomerOrder": tuple(CUSTOMER_ORDERS),
    "PackageName": tuple(CATALOGUE), "SubscriberOrder": tuple(SUBSCRIBER_ORDERS),
    "SubscriberPackage": tuple(USER_PACKAGES),
}
BY_KEY["TrialOrder"] = tuple(TRIAL_ORDERS)  # R-TRI-11
DOMAIN_MEMBERS: dict[str, tuple[str, ...]] = {
    **{name: tuple(str(m.value) for m in enum) for name, enum in BY_VALUE.items()},
    **{name: tuple(m.name for m in enum) for name, enum in BY_NAME.items()},
    **BY_KEY,
}


@cache
def _schema() -> strawberry.Schema:
    return build_schema()


@cache
def _published() -> dict[str, graphql.GraphQLEnumType]:
    """The enums of the exported SDL, as clients see them."""
    types = graphql.build_schema(sdl()).type_map.values()
    return {t.name: t for t in types if isinstance(t, graphql.GraphQLEnumType) and not t.name.startswith("__")}


def _definition(name: str) -> StrawberryEnumDefinition:
    definition = _schema().get_type_by_name(name)
    assert isinstance(definition, StrawberryEnumDefinition), name
    return definition


def test_every_enum_of_the_api_has_a_domain_source() -> None:
    assert set(_published()) == set(DOMAIN_MEMBERS)


@pytest.mark.parametrize("name", sorted(DOMAIN_MEMBERS))
def test_an_api_enum_has_exactly_the_members_of_its_domain_source(name: str) -> None:
    assert tuple(_published()[name].values) == DOMAIN_MEMBERS[name]


@pytest.mark.parametrize("name", sorted(BY_VALUE | BY_NAME))
def test_a_domain_enum_is_the_api_enum_itself_not_a_copy(name: str) -> None:
    assert _definition(name).wrapped_cls is (BY_VALUE | BY_NAME)[name]


@pytest.mark.parametrize("name", sorted(BY_KEY))
def test_a_table_enum_is_made_from_the_table(name: str) -> None:
    made = _definition(name).wrapped_cls
    assert issubclass(made, TableEnum)
    assert tuple(m.name for m in made) == tuple(m.value for m in made) == BY_KEY[name]
