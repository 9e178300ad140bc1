"""Orders as the API shows them (DOMAIN.md §12, R-ORD-1…8)."""

from __future__ import annotations

import weakref
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.model.entities import PartnerAccess
from domain.model.orders import Order
from domain.services import customer_orgs, order_reads
from domain.store.driver import Document
from resolvers.common import Connection, Node, ProvisioningError, UserError
from resolvers.context import Info
from resolvers.customer_orgs.types import CustomerOrgType
from resolvers.enums import OrderStatus, ResaleOffer, ResaleService, SetupResponsibility
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from resolvers.organisations.types import PartnerType
    from resolvers.trials.types import TrialType


class OrderLoaders:
    """Per-request loaders: orders by id as the caller may see them (R-ORD-8), one query per batch."""

    def __init__(self, info: Info) -> None:
        self._info = info
        self.visible = DataLoader(self._visible)

    async def _visible(self, ids: list[str]) -> list[Order | None]:
        context = self._info.context
        found = await order_reads.orders_by_ids(context.repos, await context.caller(), ids)
        return [found.get(i) for i in ids]


_LOADERS: weakref.WeakKeyDictionary[Loaders, OrderLoaders] = weakref.WeakKeyDictionary()


def order_loaders(info: Info) -> OrderLoaders:
    """The request's order loaders (made on first use, dropped with the request's other loaders)."""
    loaders = info.context.loaders
    found = _LOADERS.get(loaders)
    if found is None:
        found = _LOADERS[loaders] = OrderLoaders(info)
    return found


@strawberry.type(name="OrderLine")
class OrderLineType:
    service: ResaleService
    quantity: int


@strawberry.type(name="Order", description="A resale order of A-WX or A-SPK and its setup (R-ORD-1…8).")
class OrderType(Node):
    model: strawberry.Private[Order]
    id: strawberry.ID
    offer: ResaleOffer
    lines: list[OrderLineType]
    requested_start_date: date
    provisioning_contact_email: str
    setup_by: SetupResponsibility = strawberry.field(description="Who runs the setup wizard (R-ORD-4).")
    status: OrderStatus
    setup_email_sent_at: datetime | None
    follow_up_sent: bool = strawberry.field(description="The one-day follow-up went out (R-ORD-3).")
    customer_admin_email: str | None
    subdomain: str | None
    meetings_site_url: str | None
    billing_started_at: datetime | None
    created_by: str
    errors: list[ProvisioningError]
    version: int
    created_at: datetime
    last_status_change: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> OrderType:
        return cls.of(Order.from_doc(doc))

    @classmethod
    def of(cls, o: Order) -> OrderType:
        return cls(model=o, id=strawberry.ID(o.id), offer=o.offer,
                   lines=[OrderLineType(service=ResaleService(line.service.value), quantity=line.quantity)
                          for line in o.lines],
                   requested_start_date=o.requested_start_date, provisioning_contact_email=o.provisioning_contact_email,
                   setup_by=o.setup_by, status=o.status, setup_email_sent_at=o.setup_email_sent_at,
                   follow_up_sent=o.follow_up_sent, customer_admin_email=o.customer_admin_email,
                   subdomain=o.subdomain, meetings_site_url=o.site_url, billing_started_at=o.billing_started_at,
                   created_by=o.created_by, errors=[ProvisioningError.of(e) for e in o.errors], version=o.version,
                   created_at=o.created_at, last_status_change=o.last_status_change)

    @strawberry.field(description="The customer's org; null before it exists, and for the partner after a CUSTOMER "
                                  "handover (R-ORD-4).")
    async def org(self, info: Info) -> CustomerOrgType | None:
        org_id = self.model.org_id or (self.model.setup.existing_org_id if self.model.setup else None)
        if org_id is None:
            return None
        caller = await info.context.caller()
        if caller.principal.link is None and self.model.partner_access is PartnerAccess.NONE:
            return None
        org = await customer_orgs.get(info.context.repos, org_id)
        if org is None:
            return None
        return CustomerOrgType.of(org, caller.org.id if caller.org else self.model.owner_org_id)

    @strawberry.field(description="The trial this order converts (R-TRI-10), as the caller may see it.")
    async def trial(self, info: Info) -> Annotated[TrialType, strawberry.lazy("resolvers.trials.types")] | None:
        from resolvers.trials.types import TrialType, trial_loaders

        if self.model.trial_id is None:
            return None
        found = await trial_loaders(info).visible.load(self.model.trial_id)
        return TrialType.of(found) if found else None

    @strawberry.field(description="The partner or sub-partner that owns it.")
    async def owner(self, info: Info) -> Annotated[PartnerType, strawberry.lazy("resolvers.organisations.types")]:
        from resolvers.organisations.types import owning_partner

        return await owning_partner(info, self.model.owner_org_id, f"order {self.model.id}")


@strawberry.type(name="OrderConnection")
class OrderConnection(Connection[OrderType]):
    pass


@strawberry.input
class OrderFilter:
    status: list[OrderStatus] | None = None
    follow_up_sent: bool | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False


@strawberry.type
class OrderPayload:
    order: OrderType | None
    errors: list[UserError]
