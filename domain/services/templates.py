"""Onboarding templates (DOMAIN.md §4)."""

from __future__ import annotations

import uuid

from domain.model.entities import OnboardingTemplate
from domain.model.ids import Kind, new_id
from domain.model.principal import Scope
from domain.rules.templates import NewTemplate as NewTemplate
from domain.rules.templates import plan_template
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.store.repositories import Repositories


async def create_template(
    repos: Repositories, caller: Caller, data: NewTemplate, on_behalf_of: str | None
) -> OnboardingTemplate:
    # Templates are not provisioning: a suspended sub-partner keeps managing them (R-ORG-5 names customers
    # and subscribers only).
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    problems, language = plan_template(data)
    problems.raise_if_any()
    assert language is not None
    template = OnboardingTemplate(
        id=new_id(Kind.TEMPLATE),
        owner_org_id=owner.id,
        root_org_id=owner.root_id,
        provisioning_id=str(uuid.uuid4()),
        name=data.name.strip(),
        country=data.country.strip().upper(),
        language=language,
        auth_mode=data.auth_mode,
        idp_entity_id=data.idp_entity_id,
        idp_name=data.idp_name,
        brand_name=data.brand_name,
        restrict_admin_invite_emails_on_attach=data.restrict_admin_invite_emails_on_attach,
        disable_webex_calling_1to1=data.disable_webex_calling_1to1,
        created_at=repos.clock.now(),
    )
    await repos.templates.insert(template.to_doc())
    return template
