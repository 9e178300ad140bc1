"""The operator's own onboarding of partners (platform_admin)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.model import entities as models
from domain.services import organisations
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import RouteToMarket, SubPartnerState
from resolvers.organisations.types import PartnerType


@strawberry.input
class CreatePartnerInput:
    name: str
    subscription_id: str
    delayed_billing_enabled: bool | None = False
    route_to_market: RouteToMarket | None = RouteToMarket.WHOLESALE
    notification_emails: list[str] | None = strawberry.field(default_factory=list)


@strawberry.input
class CreateSubPartnerInput:
    name: str
    admin_email: str
    billing_start_date: date | None = None


@strawberry.type
class PartnerPayload:
    partner: PartnerType | None
    errors: list[UserError]


def _payload(partner: models.Partner) -> PartnerPayload:
    return PartnerPayload(partner=PartnerType.of(partner), errors=[])


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation
    @refused_as(PartnerPayload)
    async def create_partner(self, info: Info, input: CreatePartnerInput) -> PartnerPayload:
        data = organisations.NewPartner(
            input.name, input.subscription_id, bool(input.delayed_billing_enabled),
            input.route_to_market or RouteToMarket.WHOLESALE,
            tuple(input.notification_emails or ()))
        partner = await organisations.create_partner(info.context.repos, await info.context.caller(), data)
        return _payload(partner)

    @strawberry.mutation
    @refused_as(PartnerPayload)
    async def create_sub_partner(
        self, info: Info, parent_id: strawberry.ID, input: CreateSubPartnerInput
    ) -> PartnerPayload:
        data = organisations.NewSubPartner(input.name, input.admin_email, input.billing_start_date)
        partner = await organisations.create_sub_partner(
            info.context.repos, await info.context.caller(), parent_id, data)
        return _payload(partner)

    @strawberry.mutation
    @refused_as(PartnerPayload)
    async def set_sub_partner_state(
        self, info: Info, id: strawberry.ID, state: SubPartnerState
    ) -> PartnerPayload:
        partner = await organisations.set_sub_partner_state(
            info.context.repos, await info.context.caller(), id, state)
        return _payload(partner)
