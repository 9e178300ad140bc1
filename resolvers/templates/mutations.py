from __future__ import annotations

import strawberry

from domain.services import templates
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import AuthMode
from resolvers.templates.types import OnboardingTemplateType


@strawberry.input
class CreateOnboardingTemplateInput:
    name: str
    country: str
    language: str
    auth_mode: AuthMode | None = AuthMode.WEBEX
    idp_entity_id: str | None = None
    idp_name: str | None = strawberry.field(default=None, description="Required for partner_oidc.")
    brand_name: str | None = None
    restrict_admin_invite_emails_on_attach: bool | None = False
    disable_webex_calling1to1: bool | None = strawberry.field(default=False, name="disableWebexCalling1to1")


@strawberry.type
class OnboardingTemplatePayload:
    template: OnboardingTemplateType | None
    errors: list[UserError]


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="full_admin; a parent may create one for a sub-partner (R-ORG-4).")
    @refused_as(OnboardingTemplatePayload)
    async def create_onboarding_template(
        self, info: Info, input: CreateOnboardingTemplateInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> OnboardingTemplatePayload:
        data = templates.NewTemplate(
            name=input.name, country=input.country, language=input.language,
            auth_mode=input.auth_mode or AuthMode.WEBEX,
            idp_entity_id=input.idp_entity_id, idp_name=input.idp_name, brand_name=input.brand_name,
            restrict_admin_invite_emails_on_attach=bool(input.restrict_admin_invite_emails_on_attach),
            disable_webex_calling_1to1=bool(input.disable_webex_calling1to1),
        )
        template = await templates.create_template(
            info.context.repos, await info.context.caller(), data, on_behalf_of_sub_partner_org_id)
        return OnboardingTemplatePayload(template=OnboardingTemplateType.of(template), errors=[])
