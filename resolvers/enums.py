"""Every enum of the API, derived from the domain so that a new member there is in the API without a second edit.

A domain enum is the API's enum itself: Strawberry marks the domain class here and resolvers pass its members
through unchanged. Statuses, states and auth modes are shown by their values (`provisioned`), as the API has
always shown them; the others by their names. Package names and list orders are the keys of domain tables (the
package catalogue, the orders of the lists), so `TableEnum` makes enums of them, member name = value = key.

Import an enum from this module, not from `domain`: that is what makes sure the class is marked before a schema
is built (an unmarked enum would be shown by its names, silently).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, EnumMeta
from typing import Any

import strawberry

from domain.model.audit import ActorKind, EventAction
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
from domain.rules.billing import ReportStatus, ReportType
from domain.rules.catalogue import CATALOGUE, USER_PACKAGES
from domain.rules.compliance import Decision
from domain.services.billing import REPORT_ORDERS
from domain.store.repositories.customers import CUSTOMER_ORDERS
from domain.store.repositories.subscribers import SUBSCRIBER_ORDERS

__all__ = [
    "ActorKind", "AttachApprovalState", "AuthMode", "BillingReportOrder", "CustomerOrder", "CustomerStatus",
    "Decision", "EntityType",
    "ErrorCode", "EventAction", "OrgKind", "PackageName", "PackageStatus", "PartnerAccess",
    "ReportStatus", "ReportType", "RplState",
    "SubPartnerState", "SubscriberOrder", "SubscriberPackage", "SubscriberStatus", "TableEnum",
]

for _by_value in (AuthMode, CustomerStatus, PackageStatus, RplState, SubPartnerState, SubscriberStatus):
    strawberry.enum(_by_value, graphql_name_from="value")
for _by_name in (ActorKind, EntityType, ErrorCode, EventAction, OrgKind):
    strawberry.enum(_by_name)
strawberry.enum(Decision, name="RplDecision")
strawberry.enum(AttachApprovalState, graphql_name_from="value")  # R-ATT-2
strawberry.enum(PartnerAccess)  # R-ATT-3
strawberry.enum(RouteToMarket)  # R-TRI-1
__all__ += ["RouteToMarket"]
strawberry.enum(ReportType, name="BillingReportType",
                description="PARTNER: one row per partner org and package; CUSTOMER: per customer and package; "
                            "USER: per subscriber and package (R-BIL-2).")
strawberry.enum(ReportStatus, name="BillingReportStatus")
strawberry.enum(WorkspaceStatus, graphql_name_from="value")  # R-WS-2
strawberry.enum(SetupAssistStatus, graphql_name_from="value")  # R-SA-2
strawberry.enum(SetupAssistSku)  # R-SA-1
__all__ += ["SetupAssistSku", "SetupAssistStatus"]
strawberry.enum(ShipmentStatus, graphql_name_from="value")  # R-TRI-7
__all__ += ["ShipmentStatus"]
strawberry.enum(NotificationKind)  # R-NOT-4
strawberry.enum(NotificationAudience)  # R-NOT-3
strawberry.enum(NotificationStatus, graphql_name_from="value")  # R-NOT-2
__all__ += ["NotificationAudience", "NotificationKind", "NotificationStatus"]
__all__ += ["WorkspaceStatus"]
strawberry.enum(ResaleService)  # §10
strawberry.enum(SubdomainKind)  # R-ORD-6
__all__ += ["ResaleService", "SubdomainKind"]
strawberry.enum(ResaleOffer)  # R-ORD-1
strawberry.enum(OrderStatus, graphql_name_from="value")  # R-ORD-STATE
strawberry.enum(SetupResponsibility)  # R-ORD-4
__all__ += ["OrderStatus", "ResaleOffer", "SetupResponsibility"]


class _TableEnumType(EnumMeta):
    def __new__(metacls, cls: str, bases: tuple[type, ...], classdict: Any, *, keys: Iterable[str] = (),
                **kwargs: Any) -> _TableEnumType:
        for key in keys:
            classdict[key] = key
        return super().__new__(metacls, cls, bases, classdict, **kwargs)


class TableEnum(Enum, metaclass=_TableEnumType):
    """An enum whose members are the `keys` of a domain table, in order: `class X(TableEnum, keys=TABLE)`.

    Its members are only known at run time: name one by its key, `X["KEY"]`.
    """


class PackageName(TableEnum, keys=CATALOGUE): ...
class SubscriberPackage(TableEnum, keys=USER_PACKAGES): ...
class CustomerOrder(TableEnum, keys=CUSTOMER_ORDERS): ...
class SubscriberOrder(TableEnum, keys=SUBSCRIBER_ORDERS): ...
class BillingReportOrder(TableEnum, keys=REPORT_ORDERS): ...


for _by_key in (PackageName, SubscriberPackage, CustomerOrder, SubscriberOrder, BillingReportOrder):
    strawberry.enum(_by_key)

# R-TRI-STATE, R-TRI-8, R-TRI-11: trials (the orders of `trials(orderBy:)` are the repository's table).
from domain.model.trials import ApprovalState, TrialStatus  # noqa: E402
from domain.store.repositories.trials import TRIAL_ORDERS  # noqa: E402

strawberry.enum(TrialStatus, graphql_name_from="value")
strawberry.enum(ApprovalState, graphql_name_from="value")


class TrialOrder(TableEnum, keys=TRIAL_ORDERS): ...


strawberry.enum(TrialOrder)
__all__ += ["ApprovalState", "TrialOrder", "TrialStatus"]
