"""Onboarding templates."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.model import entities as models
from domain.store.driver import Document
from resolvers.common import Connection, Node
from resolvers.enums import AuthMode


@strawberry.type(name="OnboardingTemplate")
class OnboardingTemplateType(Node):
    id: strawberry.ID
    provisioning_id: strawberry.ID
    name: str
    country: str
    language: str
    auth_mode: AuthMode
    idp_entity_id: str | None
    idp_name: str | None = strawberry.field(description="The IdP of a partner_oidc template.")
    brand_name: str | None
    restrict_admin_invite_emails_on_attach: bool
    disable_webex_calling1to1: bool = strawberry.field(name="disableWebexCalling1to1")
    created_at: datetime

    @classmethod
    def of(cls, t: models.OnboardingTemplate) -> OnboardingTemplateType:
        return cls(
            id=strawberry.ID(t.id), provisioning_id=strawberry.ID(t.provisioning_id), name=t.name, country=t.country,
            language=t.language, auth_mode=t.auth_mode, idp_entity_id=t.idp_entity_id,
            idp_name=t.idp_name, brand_name=t.brand_name,
            restrict_admin_invite_emails_on_attach=t.restrict_admin_invite_emails_on_attach,
            disable_webex_calling1to1=t.disable_webex_calling_1to1, created_at=t.created_at,
        )

    @classmethod
    def of_doc(cls, doc: Document) -> OnboardingTemplateType:
        return cls.of(models.OnboardingTemplate.from_doc(doc))


@strawberry.type
class OnboardingTemplateConnection(Connection[OnboardingTemplateType]):
    pass


