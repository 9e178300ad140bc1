"""Subscriber provisioning mutations (DOMAIN.md §7)."""

from __future__ import annotations

import strawberry

from domain.model import entities as models
from domain.services import subscribers
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.customers.mutations import PrecheckResult
from resolvers.enums import PackageName, SubscriberPackage
from resolvers.subscribers.types import SubscriberType


@strawberry.input
class ProvisionSubscriberInput:
    customer_id: strawberry.ID
    email: str
    package: SubscriberPackage
    first_name: str
    last_name: str
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: strawberry.ID | None = None
    add_ons: list[PackageName] | None = strawberry.field(
        default=None, description="User add-ons beside the base package (R-ADD-1; only attendant_console).")

    def to_domain(self) -> subscribers.NewSubscriber:
        return subscribers.NewSubscriber(
            customer_id=str(self.customer_id), email=self.email, package=self.package.value,
            first_name=self.first_name, last_name=self.last_name, primary_phone_number=self.primary_phone_number,
            extension=self.extension, location_id=str(self.location_id) if self.location_id else None,
            add_ons=tuple(a.value for a in self.add_ons or ()))


@strawberry.input
class UpdateSubscriberInput:
    package: SubscriberPackage
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: strawberry.ID | None = None
    add_ons: list[PackageName] | None = strawberry.field(
        default=None, description="The complete list of user add-ons; absent = unchanged (R-ADD-1).")


@strawberry.type
class SubscriberPayload:
    subscriber: SubscriberType | None
    errors: list[UserError]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]


def _payload(subscriber: models.Subscriber) -> SubscriberPayload:
    return SubscriberPayload(subscriber=SubscriberType.of(subscriber), errors=[])


@strawberry.type
class SubscriberMutations:
    @strawberry.mutation(description="Answers at once with the subscriber in `provisioning`; it waits for its "
                                     "customer if that is still being provisioned (R-RPL-5).")
    @refused_as(SubscriberPayload)
    async def provision_subscriber(
        self, info: Info, input: ProvisionSubscriberInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberPayload:
        subscriber = await subscribers.provision_subscriber(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        return _payload(subscriber)

    @strawberry.mutation
    @refused_as(SubscriberPayload)
    async def update_subscriber(
        self, info: Info, id: strawberry.ID, input: UpdateSubscriberInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberPayload:
        data = subscribers.SubscriberUpdate(
            package=input.package.value, primary_phone_number=input.primary_phone_number, extension=input.extension,
            location_id=str(input.location_id) if input.location_id else None,
            add_ons=tuple(a.value for a in input.add_ons) if input.add_ons is not None else None)
        subscriber = await subscribers.update_subscriber(
            info.context.repos, await info.context.caller(), id, data, on_behalf_of_sub_partner_org_id)
        return _payload(subscriber)

    @strawberry.mutation(description="Starts removing the subscriber; `deletedId` is its id once accepted.")
    @refused_as(DeletePayload)
    async def delete_subscriber(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> DeletePayload:
        subscriber = await subscribers.delete_subscriber(
            info.context.repos, await info.context.caller(), id, on_behalf_of_sub_partner_org_id)
        return DeletePayload(deleted_id=strawberry.ID(subscriber.id), errors=[])

    @strawberry.mutation(description="Every problem of a subscriber request at once; never writes (R-PRE).")
    async def precheck_subscriber_provisioning(
        self, info: Info, input: ProvisionSubscriberInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> PrecheckResult:
        problems = await subscribers.precheck_subscriber(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        return PrecheckResult.of(problems)
