"""Reading orders (DOMAIN.md §12, R-ORD-8): R-ORG-2/3/6, the sales_admin limit (R-TRI-2), and a setup link holder
sees only its own order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.orders import Order, OrderStatus
from domain.model.principal import Scope
from domain.rules.filters import all_of
from domain.rules.pagination import PageRequest
from domain.rules.tenancy import Caller, list_scope
from domain.services.orders import is_sales_limited, visible_filter
from domain.services.reads import Listing, Ownership, empty, require_scope
from domain.store.repositories import Repositories
from domain.store.repositories.orders import ORDERS_NEWEST_FIRST


@dataclass(frozen=True)
class OrderCriteria:
    statuses: Sequence[OrderStatus] | None = None
    follow_up_sent: bool | None = None

    def to_filter(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.statuses:
            found["status"] = {"$in": [s.value for s in self.statuses]}
        if self.follow_up_sent is not None:
            found["followUpSent"] = self.follow_up_sent
        return found


async def order(repos: Repositories, caller: Caller, order_id: str) -> Order | None:
    """`order(id)`: None for a missing order and for one the caller may not see, alike (R-ORG-6)."""
    reach = visible_filter(caller)
    if reach is None:
        return None
    doc = await repos.orders.find_within(order_id, reach)
    return Order.from_doc(doc) if doc is not None else None


async def orders_by_ids(repos: Repositories, caller: Caller, ids: Sequence[str]) -> dict[str, Order]:
    """A batch of orders as the caller may see them (for `Trial.conversionOrder` and events)."""
    reach = visible_filter(caller)
    if reach is None:
        return {}
    return {k: Order.from_doc(v) for k, v in (await repos.orders.by_ids(ids, reach)).items()}


async def orders(repos: Repositories, caller: Caller, criteria: OrderCriteria, ownership: Ownership,
                 request: PageRequest) -> Listing:
    """`orders(filter)`: newest first, the caller's own by default; sub-partners' only when asked (R-ORG-3)."""
    link_reach = visible_filter(caller) if caller.principal.link is not None else None
    if link_reach is not None:
        base: dict[str, Any] = all_of(link_reach, criteria.to_filter())
    else:
        require_scope(caller, Scope.ORDERS_READ)
        sub_partner = await repos.partners.get(ownership.sub_partner_org_id) \
            if ownership.sub_partner_org_id is not None else None
        reach = list_scope(caller, sub_partner, ownership.sub_partner_org_id is not None,
                           ownership.include_sub_partners)
        if reach.is_nothing:
            return empty(request)
        scoped = reach.filter()
        if is_sales_limited(caller):
            scoped["createdBy"] = caller.principal.subject
        base = all_of(scoped, criteria.to_filter())
    page = await repos.orders.page(base, ORDERS_NEWEST_FIRST, request)
    return Listing(page, lambda: repos.orders.count(base))
