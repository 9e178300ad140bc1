"""Mutations of attached orgs and customer settings (DOMAIN.md §5.7, §5.8)."""

from __future__ import annotations

import strawberry

from domain.services import attach
from resolvers.common import refused_as
from resolvers.context import Info
from resolvers.customers.attach import CustomerSettingsInput
from resolvers.customers.mutations import CustomerPayload
from resolvers.customers.types import CustomerType


@strawberry.type
class AttachMutations:
    @strawberry.mutation(description="Restricted-by-partner settings (R-RBP-1…3): synchronous, an UPDATE event.")
    @refused_as(CustomerPayload)
    async def update_customer_settings(
        self, info: Info, customer_id: strawberry.ID, input: CustomerSettingsInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> CustomerPayload:
        customer = await attach.update_customer_settings(
            info.context.repos, await info.context.caller(), customer_id, input.to_domain(),
            on_behalf_of_sub_partner_org_id)
        return CustomerPayload(customer=CustomerType.of(customer), errors=[])

    @strawberry.mutation(description="platform_admin: the attached org's admin approved or declined (R-ATT-2).")
    @refused_as(CustomerPayload)
    async def record_attach_approval(
        self, info: Info, customer_id: strawberry.ID, approved: bool, note: str | None = None,
    ) -> CustomerPayload:
        customer = await attach.record_attach_approval(
            info.context.repos, await info.context.caller(), customer_id, approved, note)
        return CustomerPayload(customer=CustomerType.of(customer), errors=[])
