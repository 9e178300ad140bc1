"""Order mutations (DOMAIN.md §12): createOrder, the setup email's resend and hand-over, the wizard's completion and
provisioning (R-ORD-1…7)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.model.orders import Order
from domain.model.orders import ResaleOffer as DomainOffer
from domain.model.trials import ResaleService as DomainService
from domain.rules.customers import CallingLocation
from domain.services import order_conversion, orders
from resolvers.common import refused_as
from resolvers.context import Info
from resolvers.customers.mutations import CallingLocationInput
from resolvers.enums import ResaleOffer, ResaleService, SetupResponsibility
from resolvers.orders.types import OrderPayload, OrderType


@strawberry.input
class OrderLineInput:
    service: ResaleService
    quantity: int


@strawberry.input
class CreateOrderInput:
    offer: ResaleOffer
    lines: list[OrderLineInput]
    requested_start_date: date = strawberry.field(description="Today to today + 365 days (R-ORD-1).")
    provisioning_contact_email: str = strawberry.field(description="May be an alias (002 step 1).")
    meetings_site_url: str | None = strawberry.field(default=None, description="Conversions with MEETINGS "
                                                                               "(R-TRI-10).")

    def to_domain(self) -> orders.NewOrder:
        return orders.NewOrder(
            offer=DomainOffer(self.offer.value), requested_start_date=self.requested_start_date,
            lines=tuple((DomainService(line.service.value), line.quantity) for line in self.lines),
            provisioning_contact_email=self.provisioning_contact_email, meetings_site_url=self.meetings_site_url)


@strawberry.input
class MeetingsSettingsInput:
    site_url: str
    timezone: str


@strawberry.input
class NewCustomerOrgInput:
    name: str
    country: str


@strawberry.input(description="The wizard's steps 5-10, all or nothing (R-ORD-5).")
class CompleteOrderSetupInput:
    partner_org_confirmed: bool
    customer_admin_email: str
    confirm_existing_org_id: strawberry.ID | None = None
    new_org: NewCustomerOrgInput | None = None
    subdomain: str | None = None
    calling_location: CallingLocationInput | None = None
    meetings: MeetingsSettingsInput | None = None

    def to_domain(self) -> orders.SetupData:
        loc = self.calling_location
        return orders.SetupData(
            partner_org_confirmed=self.partner_org_confirmed, customer_admin_email=self.customer_admin_email,
            confirm_existing_org_id=self.confirm_existing_org_id,
            new_org_name=self.new_org.name if self.new_org else None,
            new_org_country=self.new_org.country if self.new_org else None, new_org_given=self.new_org is not None,
            subdomain=self.subdomain,
            calling_location=CallingLocation(
                name=loc.name, address=loc.address.to_model(), timezone=loc.timezone, language=loc.language,
                emergency_location_identifier=loc.emergency_location_identifier) if loc is not None else None,
            meetings_site_url=self.meetings.site_url if self.meetings else None,
            meetings_timezone=self.meetings.timezone if self.meetings else None)


def _payload(order: Order) -> OrderPayload:
    return OrderPayload(order=OrderType.of(order), errors=[])


@strawberry.type
class OrderMutations:
    @strawberry.mutation(description="full_admin or sales_admin of a RESALE partner; a sub-partner's order is placed "
                                     "by its parent on its behalf (R-ORD-1).")
    @refused_as(OrderPayload)
    async def create_order(self, info: Info, input: CreateOrderInput,
                           on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> OrderPayload:
        return _payload(await orders.create_order(info.context.repos, await info.context.caller(), input.to_domain(),
                                                  on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="An active or expired trial becomes an order linked to it, in one transaction: "
                                     "the trial is converted, its timers stop (R-TRI-10).")
    @refused_as(OrderPayload)
    async def convert_trial(self, info: Info, id: strawberry.ID, order: CreateOrderInput,
                            on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> OrderPayload:
        return _payload(await order_conversion.convert_trial(info.context.repos, await info.context.caller(), id,
                                                             order.to_domain(), on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="A new setup link (the old one stops working), optionally to a new contact "
                                     "(R-ORD-2).")
    @refused_as(OrderPayload)
    async def resend_order_setup_email(
        self, info: Info, id: strawberry.ID, provisioning_contact_email: str | None = None,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> OrderPayload:
        return _payload(await orders.resend_setup_email(info.context.repos, await info.context.caller(), id,
                                                        provisioning_contact_email, on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="The setup goes to a colleague or the customer with a new link (R-ORD-4).")
    @refused_as(OrderPayload)
    async def hand_over_order_setup(self, info: Info, id: strawberry.ID, to: SetupResponsibility,
                                    email: str) -> OrderPayload:
        return _payload(await orders.hand_over_setup(info.context.repos, await info.context.caller(), id, to, email))

    @strawberry.mutation(description="The wizard's steps 5-10 at once; every problem reported together, nothing "
                                     "stored unless it all succeeds (R-ORD-5).")
    @refused_as(OrderPayload)
    async def complete_order_setup(self, info: Info, id: strawberry.ID,
                                   input: CompleteOrderSetupInput) -> OrderPayload:
        return _payload(await orders.complete_order_setup(info.context.repos, await info.context.caller(), id,
                                                          input.to_domain()))

    @strawberry.mutation(description="set_up -> provisioning; the org is made or updated in the background and "
                                     "billing starts (R-ORD-7).")
    @refused_as(OrderPayload)
    async def provision_order(self, info: Info, id: strawberry.ID) -> OrderPayload:
        return _payload(await orders.provision_order(info.context.repos, await info.context.caller(), id))
