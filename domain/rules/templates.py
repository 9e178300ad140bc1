"""The rules of onboarding templates (DOMAIN.md §4): pure functions of the request."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.entities import AuthMode
from domain.model.errors import ErrorCode
from domain.rules.locales import resolve_locale
from domain.rules.validation import Problems


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


def plan_template(data: NewTemplate) -> tuple[Problems, str | None]:
    """Every problem of a new template (R-TPL-1, R-LOC-1), and the locale its language resolves to."""
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
