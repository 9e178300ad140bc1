"""Trial mutations (DOMAIN.md §10): start, consent (by the customer's emailed link), services, extension and its
decision, deletion. `convertTrial` is the orders area's; device returns the shipments area's."""

from __future__ import annotations

import strawberry

from domain.model.trials import ResaleService as DomainService
from domain.model.trials import Trial
from domain.rules.trials import MeetingsSettings, NewTrial
from domain.services import trials
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import ResaleService
from resolvers.orders.mutations import MeetingsSettingsInput
from resolvers.shipments.types import ShipmentInput
from resolvers.trials.types import TrialType


def _meetings(given: MeetingsSettingsInput | None) -> MeetingsSettings | None:
    return MeetingsSettings(given.site_url, given.timezone) if given is not None else None


def _services(given: list[ResaleService]) -> tuple[DomainService, ...]:
    return tuple(DomainService(s.value) for s in given)


@strawberry.input
class StartTrialInput:
    company_name: str = strawberry.field(description="At most 80 characters, no `%` (R-TRI-3).")
    admin_email: str = strawberry.field(description="Decides a new or an existing org (R-TRI-4, see orgLookup).")
    industry: str
    country: str = strawberry.field(description="A served country (alpha-2); it gives the data region (R-TRI-3).")
    services: list[ResaleService]
    confirm_existing_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required when adminEmail belongs to an org (R-TRI-4).")
    meetings: MeetingsSettingsInput | None = strawberry.field(default=None, description="With MEETINGS.")
    shipments: list[ShipmentInput] | None = strawberry.field(default=None, description="With DEVICES (R-TRI-7).")


@strawberry.input
class TrialServicesInput:
    services: list[ResaleService] = strawberry.field(description="The complete new list (R-TRI-9).")
    meetings: MeetingsSettingsInput | None = strawberry.field(default=None, description="When adding MEETINGS.")
    shipments: list[ShipmentInput] | None = None


@strawberry.type
class TrialPayload:
    trial: TrialType | None
    errors: list[UserError]


def _payload(trial: Trial) -> TrialPayload:
    return TrialPayload(trial=TrialType.of(trial), errors=[])


@strawberry.type
class TrialMutations:
    @strawberry.mutation(description="trials_write: a trial for a new or an existing org (R-TRI-3/4).")
    @refused_as(TrialPayload)
    async def start_trial(self, info: Info, input: StartTrialInput,
                          on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> TrialPayload:
        data = trials.StartTrial(NewTrial(
            company_name=input.company_name, admin_email=input.admin_email, industry=input.industry,
            country=input.country, services=_services(input.services),
            confirm_existing_org_id=input.confirm_existing_org_id, meetings=_meetings(input.meetings),
            shipments=len(input.shipments or [])), [s.to_request() for s in input.shipments or []])
        return _payload(await trials.start_trial(info.context.repos, await info.context.caller(), data,
                                                 on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="A new consent link to the org's admins; the old one stops working, the "
                                     "deadline stays (R-TRI-5).")
    @refused_as(TrialPayload)
    async def resend_trial_consent(self, info: Info, id: strawberry.ID,
                                   on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> TrialPayload:
        return _payload(await trials.resend_consent(info.context.repos, await info.context.caller(), id,
                                                    on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="trial_consent link of a full admin of the org: accept (optionally giving the "
                                     "partner full admin) or decline (R-TRI-5).")
    @refused_as(TrialPayload)
    async def respond_to_trial_consent(self, info: Info, id: strawberry.ID, accept: bool,
                                       grant_full_admin: bool | None = False) -> TrialPayload:
        return _payload(await trials.respond_to_consent(info.context.repos, await info.context.caller(), id, accept,
                                                        bool(grant_full_admin)))

    @strawberry.mutation(description="An active trial's complete list of services (R-TRI-9).")
    @refused_as(TrialPayload)
    async def update_trial_services(self, info: Info, id: strawberry.ID, input: TrialServicesInput,
                                    on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> TrialPayload:
        data = trials.TrialServices(_services(input.services), _meetings(input.meetings),
                                    [s.to_request() for s in input.shipments or []])
        return _payload(await trials.update_services(info.context.repos, await info.context.caller(), id, data,
                                                     on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="endsAt = now + 30 days; a DEVICES trial asks platform_admin (R-TRI-8).")
    @refused_as(TrialPayload)
    async def extend_trial(self, info: Info, id: strawberry.ID,
                           on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> TrialPayload:
        return _payload(await trials.extend_trial(info.context.repos, await info.context.caller(), id,
                                                  on_behalf_of_sub_partner_org_id))

    @strawberry.mutation(description="platform_admin: approve or reject a device trial's extension (R-TRI-8).")
    @refused_as(TrialPayload)
    async def decide_trial_extension(self, info: Info, id: strawberry.ID, approve: bool,
                                     note: str | None = None) -> TrialPayload:
        return _payload(await trials.decide_extension(info.context.repos, await info.context.caller(), id, approve,
                                                      note))

    @strawberry.mutation(description="Ends a non-terminal trial at once, with the effects of its purge (R-TRI-11).")
    @refused_as(TrialPayload)
    async def delete_trial(self, info: Info, id: strawberry.ID,
                           on_behalf_of_sub_partner_org_id: strawberry.ID | None = None) -> TrialPayload:
        return _payload(await trials.delete_trial(info.context.repos, await info.context.caller(), id,
                                                  on_behalf_of_sub_partner_org_id))
