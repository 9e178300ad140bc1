"""Onboarding templates (DOMAIN.md §4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.model.entities import AuthMode, OnboardingTemplate
from domain.model.errors import ErrorCode
from domain.model.ids import Kind, new_id
from domain.model.principal import Scope
from domain.rules.locales import resolve_locale
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services.acting import acting_owner
from domain.store.repositories import Repositories


@dataclass(frozen=True)
class NewTemplate:
    name: str
    country: str
    language: str
    auth_mode: AuthMode = AuthMode.WEBEX
    idp_entity_id: str | None = None
    idp_name: str | None = None
    brand_name: str | None = None
    restrict_admin_invite_emails_on_attach: bool = False
    disable_webex_calling_1to1: bool = False


def _validate(data: NewTemplate) -> tuple[Problems, str | None]:
    problems = Problems()
    problems.text(data.name, 100, "input", "name")
    country = data.country.strip().upper()
    problems.country(country, "input", "country")
    language = resolve_locale(data.language.strip(), country, "")
    if not language:
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code",
                     "input", "language")
    if data.auth_mode is AuthMode.PARTNER_SAML:
        problems.text(data.idp_entity_id, 500, "input", "idpEntityId")
    if data.auth_mode is AuthMode.PARTNER_OIDC:
        problems.text(data.idp_name, 200, "input", "idpName")
    if data.auth_mode is not AuthMode.PARTNER_SAML and data.idp_entity_id:
        problems.add(ErrorCode.VALIDATION_FAILED, "`idpEntityId` applies to partner_saml only",
                     "input", "idpEntityId")
    if data.auth_mode is not AuthMode.PARTNER_OIDC and data.idp_name:
        problems.add(ErrorCode.VALIDATION_FAILED, "`idpName` applies to partner_oidc only", "input", "idpName")
    problems.text(data.brand_name, 100, "input", "brandName", required=False)
    return problems, language


async def create_template(
    repos: Repositories, caller: Caller, data: NewTemplate, on_behalf_of: str | None
) -> OnboardingTemplate:
    # Templates are not provisioning: a suspended sub-partner keeps managing them (R-ORG-5 names customers
    # and subscribers only).
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    problems, language = _validate(data)
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
