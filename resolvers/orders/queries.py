"""`order(id)` and `orders(filter)` (R-ORD-8)."""

from __future__ import annotations

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import order_reads
from domain.services.reads import Ownership
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.orders.types import OrderConnection, OrderFilter, OrderType


@strawberry.type
class OrderQueries:
    @strawberry.field(description="An order the caller may see (a setup link holder: its own), else null (R-ORD-8).")
    async def order(self, info: Info, id: strawberry.ID) -> OrderType | None:
        found = await order_reads.order(info.context.repos, await info.context.caller(), id)
        return OrderType.of(found) if found is not None else None

    @strawberry.field(description="Orders, newest first: the caller's org's by default, a sub-partner's when asked "
                                  "(R-ORG-3); a sales_admin's own only (R-TRI-2).")
    async def orders(self, info: Info, filter: OrderFilter | None = None, first: int | None = 50,
                     after: str | None = None) -> OrderConnection:
        f = filter or OrderFilter()
        criteria = order_reads.OrderCriteria(statuses=tuple(f.status) if f.status is not None else None,
                                             follow_up_sent=f.follow_up_sent)
        listing = await order_reads.orders(info.context.repos, await info.context.caller(), criteria,
                                           Ownership(f.sub_partner_org_id, bool(f.include_sub_partners)),
                                           PageRequest.of(first, after))
        return listing_connection(OrderConnection, listing, OrderType.of_doc)
