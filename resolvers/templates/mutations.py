from __future__ import annotations

import strawberry

from domain.services import templates
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import AuthMode
from resolvers.subscribers.mutations import DeletePayload
from resolvers.templates.types import OnboardingTemplateType


@strawberry.input
class CreateOnboardingTemplateInput:
    name: str
    country: str
    language: str
    auth_mode: AuthMode | None = AuthMode.WEBEX
    idp_entity_id: str | None = strawberry.field(default=None, description="Required for partner_saml.")
    idp_name: str | None = strawberry.field(
        default=None, description="Required for partner_oidc: 1 to 128 of letters, digits and - _ ~ .")
    brand_name: str | None = None
    restrict_admin_invite_emails_on_attach: bool | None = False
    disable_webex_calling1to1: bool | None = strawberry.field(default=False, name="disableWebexCalling1to1")
    sp_admin_email: str | None = None
    pstn_vendor: str | None = strawberry.field(
        default=None, description="Cloud-connected PSTN vendor for new customers' headquarters.")

    def to_domain(self) -> templates.NewTemplate:
        return templates.NewTemplate(
            name=self.name, country=self.country, language=self.language,
            auth_mode=self.auth_mode or AuthMode.WEBEX, idp_entity_id=self.idp_entity_id, idp_name=self.idp_name,
            brand_name=self.brand_name,
            restrict_admin_invite_emails_on_attach=bool(self.restrict_admin_invite_emails_on_attach),
            disable_webex_calling_1to1=bool(self.disable_webex_calling1to1),
            sp_admin_email=self.sp_admin_email, pstn_vendor=self.pstn_vendor,
        )


@strawberry.input(description="R-TPL-4: absent or null leaves a setting as it is; an empty text clears an optional "
                              "one. Changing authMode drops the former mode's IdP setting.")
class UpdateOnboardingTemplateInput:
    name: str | None = None
    country: str | None = None
    language: str | None = None
    auth_mode: AuthMode | None = None
    idp_entity_id: str | None = None
    idp_name: str | None = None
    sp_admin_email: str | None = None
    brand_name: str | None = None
    pstn_vendor: str | None = None
    restrict_admin_invite_emails_on_attach: bool | None = None
    disable_webex_calling1to1: bool | None = strawberry.field(default=None, name="disableWebexCalling1to1")

    def to_domain(self) -> templates.TemplateUpdate:
        return templates.TemplateUpdate(
            name=self.name, country=self.country, language=self.language, auth_mode=self.auth_mode,
            idp_entity_id=self.idp_entity_id, idp_name=self.idp_name, brand_name=self.brand_name,
            restrict_admin_invite_emails_on_attach=self.restrict_admin_invite_emails_on_attach,
            disable_webex_calling_1to1=self.disable_webex_calling1to1, sp_admin_email=self.sp_admin_email,
            pstn_vendor=self.pstn_vendor,
        )


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
        template = await templates.create_template(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        return OnboardingTemplatePayload(template=OnboardingTemplateType.of(template), errors=[])

    @strawberry.mutation(description="full_admin (R-TPL-4): any setting but provisioningId and subscriptionId; "
                                     "customers already onboarded keep what they were onboarded with.")
    @refused_as(OnboardingTemplatePayload)
    async def update_onboarding_template(
        self, info: Info, id: strawberry.ID, input: UpdateOnboardingTemplateInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> OnboardingTemplatePayload:
        template = await templates.update_template(
            info.context.repos, await info.context.caller(), id, input.to_domain(), on_behalf_of_sub_partner_org_id)
        return OnboardingTemplatePayload(template=OnboardingTemplateType.of(template), errors=[])

    @strawberry.mutation(description="full_admin (R-TPL-5): retires the template: no longer listed, its "
                                     "provisioningId refused from now on; its customers still show it.")
    @refused_as(DeletePayload)
    async def delete_onboarding_template(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> DeletePayload:
        deleted = await templates.delete_template(
            info.context.repos, await info.context.caller(), id, on_behalf_of_sub_partner_org_id)
        return DeletePayload(deleted_id=strawberry.ID(deleted), errors=[])
