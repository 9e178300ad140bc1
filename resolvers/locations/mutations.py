"""Location mutations (DOMAIN.md §6, R-LOCN-1/2): synchronous, answered with the location as it now is."""

from __future__ import annotations

import strawberry

from domain.rules.customers import CallingLocation
from domain.services import locations
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.customers.mutations import AddressInput, CallingLocationInput
from resolvers.subscribers.mutations import DeletePayload


@strawberry.input
class UpdateLocationInput:
    name: str | None = None
    address: AddressInput | None = None
    timezone: str | None = None
    language: str | None = None
    emergency_location_identifier: str | None = strawberry.field(default=None, description="An empty string clears it.")

    def to_domain(self) -> locations.LocationUpdate:
        return locations.LocationUpdate(
            name=self.name, address=self.address.to_model() if self.address is not None else None,
            timezone=self.timezone, language=self.language,
            emergency_location_identifier=self.emergency_location_identifier)


@strawberry.type
class LocationPayload:
    location: LocationType | None
    errors: list[UserError]


def _new(input: CallingLocationInput) -> CallingLocation:
    return CallingLocation(name=input.name, address=input.address.to_model(), timezone=input.timezone,
                           language=input.language, emergency_location_identifier=input.emergency_location_identifier)


@strawberry.type
class LocationMutations:
    @strawberry.mutation(description="full_admin: a branch of a provisioned calling customer (R-LOCN-1).")
    @refused_as(LocationPayload)
    async def add_location(
        self, info: Info, customer_id: strawberry.ID, input: CallingLocationInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> LocationPayload:
        location = await locations.add_location(info.context.repos, await info.context.caller(), customer_id,
                                                _new(input), on_behalf_of_sub_partner_org_id)
        return LocationPayload(location=LocationType.of(location), errors=[])

    @strawberry.mutation(description="full_admin: absent fields stay as they are (R-LOCN-1).")
    @refused_as(LocationPayload)
    async def update_location(
        self, info: Info, id: strawberry.ID, input: UpdateLocationInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> LocationPayload:
        location = await locations.update_location(info.context.repos, await info.context.caller(), id,
                                                   input.to_domain(), on_behalf_of_sub_partner_org_id)
        return LocationPayload(location=LocationType.of(location), errors=[])

    @strawberry.mutation(description="full_admin: an empty branch; never the headquarters, nothing cascades "
                                     "(R-LOCN-2).")
    @refused_as(DeletePayload)
    async def delete_location(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> DeletePayload:
        location = await locations.delete_location(info.context.repos, await info.context.caller(), id,
                                                   on_behalf_of_sub_partner_org_id)
        return DeletePayload(deleted_id=strawberry.ID(location.id), errors=[])
