"""Partners, sub-partners and the viewer."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain.model import entities as models
from domain.rules.pagination import PageRequest
from domain.services import reads
from resolvers.common import Connection, Node, listing_connection
from resolvers.context import Info
from resolvers.customers.queries import list_customers
from resolvers.customers.types import CustomerConnection, CustomerFilter
from resolvers.enums import CustomerOrder, OrgKind, RouteToMarket, SubPartnerState


@strawberry.type(name="Partner")
class PartnerType(Node):
    model: strawberry.Private[models.Partner]
    id: strawberry.ID
    name: str
    kind: OrgKind
    subscription_id: str
    provisioning_state: SubPartnerState | None
    billing_start_date: date | None
    delayed_billing_enabled: bool
    created_at: datetime
    route_to_market: RouteToMarket = strawberry.field(description="R-TRI-1; a sub-partner has its parent's.")
    notification_emails: list[str] = strawberry.field(description="Where partner-admin emails go (R-NOT-3).")

    @classmethod
    def of(cls, p: models.Partner) -> PartnerType:
        return cls(
            model=p, id=strawberry.ID(p.id), name=p.name, kind=p.kind, subscription_id=p.subscription_id,
            provisioning_state=p.provisioning_state,
            billing_start_date=p.billing_start_date, delayed_billing_enabled=p.delayed_billing_enabled,
            created_at=p.created_at, route_to_market=p.route_to_market,
            notification_emails=list(p.notification_emails),
        )

    @strawberry.field(description="Set when a parent (or the platform) reads a sub-partner; null otherwise.")
    async def parent(self, info: Info) -> PartnerType | None:
        if self.model.parent_id is None:
            return None
        parent = await info.context.loaders.visible_partner.load(self.model.parent_id)
        return PartnerType.of(parent) if parent else None

    @strawberry.field
    async def sub_partners(
        self, info: Info, provisioning_state: SubPartnerState | None = None, first: int | None = 50,
        after: str | None = None,
    ) -> PartnerConnection:
        listing = await reads.sub_partners(
            info.context.repos, await info.context.caller(), self.model,
            provisioning_state, PageRequest.of(first, after),
        )
        return partner_connection(listing)

    @strawberry.field(description="Customers owned by this org, as the caller may see them (R-ORG-3).")
    async def customers(
        self, info: Info, filter: CustomerFilter | None = None, first: int | None = 50, after: str | None = None,
        order_by: CustomerOrder | None = CustomerOrder["CREATED_DESC"],
    ) -> CustomerConnection:
        return await list_customers(info, filter, first, after, order_by, owner=self.model)


async def owning_partner(info: Info, org_id: str, what: str) -> PartnerType:
    """The partner or sub-partner owning an entity (`what`, for the message): every entity has one."""
    owner = await info.context.loaders.partner_by_id.load(org_id)
    assert owner is not None, f"{what} names a missing owner"
    return PartnerType.of(owner)


@strawberry.type
class PartnerConnection(Connection[PartnerType]):
    pass


def partner_connection(listing: reads.Listing) -> PartnerConnection:
    return listing_connection(PartnerConnection, listing, lambda d: PartnerType.of(models.Partner.from_doc(d)))


@strawberry.type
class Viewer:
    org_id: strawberry.ID
    org_kind: OrgKind
    roles: list[str]
    scopes: list[str]
    partner: PartnerType = strawberry.field(description="The caller's own org.")
