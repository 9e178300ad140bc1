"""Onboarding templates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model import entities as models
from domain.store.driver import Document
from resolvers.common import Connection, Node
from resolvers.context import Info
from resolvers.enums import AuthMode
from resolvers.loaders import now_or_later

if TYPE_CHECKING:
    from resolvers.organisations.types import PartnerType


@strawberry.type(name="OnboardingTemplate")
class OnboardingTemplateType(Node):
    model: strawberry.Private[models.OnboardingTemplate]
    id: strawberry.ID
    provisioning_id: strawberry.ID
    name: str
    country: str
    language: str
    auth_mode: AuthMode
    idp_entity_id: str | None = strawberry.field(description="The IdP of a partner_saml template.")
    idp_name: str | None = strawberry.field(description="The IdP of a partner_oidc template.")
    brand_name: str | None
    restrict_admin_invite_emails_on_attach: bool
    disable_webex_calling1to1: bool = strawberry.field(name="disableWebexCalling1to1")
    sp_admin_email: str | None = strawberry.field(description="The service provider's admin for its customers.")
    pstn_vendor: str | None = strawberry.field(
        description="Cloud-connected PSTN vendor set on a new customer's headquarters (R-TPL-4).")
    version: int = strawberry.field(description="Bumped by every change of the template.")
    created_at: datetime
    retired_at: datetime | None = strawberry.field(
        description="When it was deleted (R-TPL-5): then listed nowhere and unusable, still shown by its customers.")

    @classmethod
    def of(cls, t: models.OnboardingTemplate) -> OnboardingTemplateType:
        return cls(
            model=t,
            id=strawberry.ID(t.id), provisioning_id=strawberry.ID(t.provisioning_id), name=t.name, country=t.country,
            language=t.language, auth_mode=t.auth_mode, idp_entity_id=t.idp_entity_id,
            idp_name=t.idp_name, brand_name=t.brand_name,
            restrict_admin_invite_emails_on_attach=t.restrict_admin_invite_emails_on_attach,
            disable_webex_calling1to1=t.disable_webex_calling_1to1, sp_admin_email=t.sp_admin_email,
            pstn_vendor=t.pstn_vendor, version=t.version, created_at=t.created_at, retired_at=t.retired_at,
        )

    @classmethod
    def of_doc(cls, doc: Document) -> OnboardingTemplateType:
        return cls.of(models.OnboardingTemplate.from_doc(doc))

    @strawberry.field(description="The owner's wholesale subscription (a sub-partner's is its parent's); fixed.")
    def subscription_id(self, info: Info) -> str:
        if self.model.subscription_id is not None:
            return self.model.subscription_id
        return now_or_later(info.context.loaders.partner_by_id, self.model.owner_org_id,  # type: ignore[return-value]
                            lambda owner: self._owner_of(owner).subscription_id)

    @strawberry.field(description="The partner or sub-partner that owns it.")
    def owner(self, info: Info) -> Annotated[PartnerType, strawberry.lazy("resolvers.organisations.types")]:
        from resolvers.organisations.types import PartnerType

        return now_or_later(info.context.loaders.partner_by_id, self.model.owner_org_id,  # type: ignore[return-value]
                            lambda owner: PartnerType.of(self._owner_of(owner)))

    def _owner_of(self, owner: models.Partner | None) -> models.Partner:
        assert owner is not None, f"template {self.model.id} names a missing owner"
        return owner


@strawberry.type
class OnboardingTemplateConnection(Connection[OnboardingTemplateType]):
    pass
