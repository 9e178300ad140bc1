"""Setup Assist mutations (DOMAIN.md §18, R-SA-1/2)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.services import setup_assist
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import SetupAssistStatus
from resolvers.setup_assist.types import SetupAssistRequestType


@strawberry.input
class SetupAssistInput:
    location_id: strawberry.ID
    contact_name: str
    contact_email: str
    target_date: date = strawberry.field(description="At least 6 business days ahead (R-SA-1).")


@strawberry.type
class SetupAssistPayload:
    request: SetupAssistRequestType | None
    errors: list[UserError]


def _payload(request: setup_assist.SetupAssistRequest) -> SetupAssistPayload:
    return SetupAssistPayload(request=SetupAssistRequestType.of(request), errors=[])


@strawberry.type
class SetupAssistMutations:
    @strawberry.mutation(description="full_admin: Setup Assist for a location of a provisioned customer (R-SA-1).")
    @refused_as(SetupAssistPayload)
    async def request_setup_assist(
        self, info: Info, input: SetupAssistInput, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SetupAssistPayload:
        data = setup_assist.NewSetupAssist(location_id=input.location_id, contact_name=input.contact_name,
                                           contact_email=input.contact_email, target_date=input.target_date)
        return _payload(await setup_assist.request_setup_assist(
            info.context.repos, await info.context.caller(), data, on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="full_admin: withdraws a request while it is `submitted` (R-SA-2).")
    @refused_as(SetupAssistPayload)
    async def cancel_setup_assist(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SetupAssistPayload:
        return _payload(await setup_assist.cancel_setup_assist(
            info.context.repos, await info.context.caller(), id, on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="platform_admin: submitted → in_progress → completed | cancelled; completion "
                                     "bills it once (R-SA-2).")
    @refused_as(SetupAssistPayload)
    async def set_setup_assist_status(self, info: Info, id: strawberry.ID,
                                      status: SetupAssistStatus) -> SetupAssistPayload:
        return _payload(await setup_assist.set_setup_assist_status(
            info.context.repos, await info.context.caller(), id, status))
