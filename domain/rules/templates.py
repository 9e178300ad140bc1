"""The rules of onboarding templates (DOMAIN.md §4): pure functions of the request and the facts loaded for it.

A template is created (`plan_template`), changed (`plan_template_update`, R-TPL-4) and retired (R-TPL-5, in the
service: retiring has no input to judge). Names are unique among an owner's active templates, compared folded
(`name_key`): a retired template's name may be used again (decision).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from typing import Any

from domain.model.entities import AuthMode, OnboardingTemplate
from domain.model.errors import ErrorCode
from domain.rules.locales import resolve_locale
from domain.rules.validation import Problems, is_blank

# R-TPL-3: an OIDC IdP's name, as Webex accepts it.
IDP_NAME = re.compile(r"[A-Za-z0-9\-_~.]{1,128}")
IDP_NAME_MAX_LENGTH = 128
NAME_MAX_LENGTH = 100
PSTN_VENDOR_MAX_LENGTH = 100  # free text: no list of cloud-connected PSTN providers is given (decision)


@dataclass(frozen=True)
class NewTemplate:
    """Every setting of a template, as requested (creation) or as an update would leave it."""

    name: str
    country: str
    language: str
    auth_mode: AuthMode = AuthMode.WEBEX
    idp_entity_id: str | None = None
    idp_name: str | None = None
    brand_name: str | None = None
    restrict_admin_invite_emails_on_attach: bool = False
    disable_webex_calling_1to1: bool = False
    sp_admin_email: str | None = None
    pstn_vendor: str | None = None


@dataclass(frozen=True)
class TemplateUpdate:
    """R-TPL-4: the settings to change; None leaves one as it is, a blank text clears an optional one.

    `provisioningId` and `subscriptionId` cannot be changed at all (they are not here).
    """

    name: str | None = None
    country: str | None = None
    language: str | None = None
    auth_mode: AuthMode | None = None
    idp_entity_id: str | None = None
    idp_name: str | None = None
    brand_name: str | None = None
    restrict_admin_invite_emails_on_attach: bool | None = None
    disable_webex_calling_1to1: bool | None = None
    sp_admin_email: str | None = None
    pstn_vendor: str | None = None


# The entity's fields an update may change, by the names the API and the events use.
UPDATABLE: dict[str, str] = {
    "name": "name", "country": "country", "language": "language", "auth_mode": "authMode",
    "idp_entity_id": "idpEntityId", "idp_name": "idpName", "brand_name": "brandName",
    "restrict_admin_invite_emails_on_attach": "restrictAdminInviteEmailsOnAttach",
    "disable_webex_calling_1to1": "disableWebexCalling1to1", "sp_admin_email": "spAdminEmail",
    "pstn_vendor": "pstnVendor",
}


def name_key(name: str) -> str:
    """What makes two names the same name (R-TPL-3): case and surrounding or repeated blanks do not count."""
    return " ".join(name.split()).casefold()


def _optional(value: str | None) -> str | None:
    return None if value is None or is_blank(value) else value.strip()


def cleaned(data: NewTemplate, language: str) -> NewTemplate:
    """The settings as stored: trimmed, country in capitals, the resolved locale, blank optional texts absent."""
    return replace(
        data, name=data.name.strip(), country=data.country.strip().upper(), language=language,
        idp_entity_id=_optional(data.idp_entity_id), idp_name=_optional(data.idp_name),
        brand_name=_optional(data.brand_name), sp_admin_email=_optional(data.sp_admin_email),
        pstn_vendor=_optional(data.pstn_vendor))


def plan_template(data: NewTemplate, taken_names: Collection[str] = ()) -> tuple[Problems, str | None]:
    """Every problem of a template's settings (R-TPL-1, R-TPL-3, R-LOC-1), and the locale its language resolves to.

    `taken_names`: the `name_key`s of the owner's other active templates.
    """
    problems = Problems()
    problems.text(data.name, NAME_MAX_LENGTH, "input", "name")
    if not is_blank(data.name) and name_key(data.name) in taken_names:
        problems.add(ErrorCode.NAME_IN_USE, "another template of this owner has this name", "input", "name")
    country = data.country.strip().upper()
    problems.country(country, "input", "country")
    language = resolve_locale(data.language.strip(), country, "")
    if not language:
        problems.add(ErrorCode.INVALID_LOCALE, "`language` must be a supported locale or language code",
                     "input", "language")
    if data.auth_mode is AuthMode.PARTNER_SAML:
        problems.text(data.idp_entity_id, 500, "input", "idpEntityId")
    elif _optional(data.idp_entity_id):
        problems.add(ErrorCode.VALIDATION_FAILED, "`idpEntityId` applies to partner_saml only",
                     "input", "idpEntityId")
    if data.auth_mode is AuthMode.PARTNER_OIDC:
        _idp_name(problems, data.idp_name)
    elif _optional(data.idp_name):
        problems.add(ErrorCode.VALIDATION_FAILED, "`idpName` applies to partner_oidc only", "input", "idpName")
    problems.text(data.brand_name, 100, "input", "brandName", required=False)
    if _optional(data.sp_admin_email) is not None:
        problems.email(data.sp_admin_email or "", "input", "spAdminEmail")
    problems.text(data.pstn_vendor, PSTN_VENDOR_MAX_LENGTH, "input", "pstnVendor", required=False)
    return problems, language


def _idp_name(problems: Problems, value: str | None) -> None:
    """R-TPL-3: required for partner_oidc; 1 to 128 of ASCII letters, digits and `-_~.`."""
    text = (value or "").strip()
    if not text:
        problems.add(ErrorCode.REQUIRED, "`idpName` is required for partner_oidc", "input", "idpName")
    elif len(text) > IDP_NAME_MAX_LENGTH:
        problems.add(ErrorCode.TOO_LONG, f"`idpName` is longer than {IDP_NAME_MAX_LENGTH} characters",
                     "input", "idpName")
    elif not IDP_NAME.fullmatch(text):
        problems.add(ErrorCode.VALIDATION_FAILED, "`idpName` may hold only letters, digits and - _ ~ .",
                     "input", "idpName")


def settings_of(template: OnboardingTemplate) -> NewTemplate:
    """A stored template's settings, as an update starts from them."""
    return NewTemplate(**{f.name: getattr(template, f.name) for f in fields(NewTemplate)})


def merged(current: OnboardingTemplate, update: TemplateUpdate) -> NewTemplate:
    """The settings an update asks for: the given ones over the current ones (R-TPL-4).

    Changing the authentication mode drops the IdP setting of the former mode unless the update names it again
    (then it is refused as not applying to the new mode).
    """
    given = {f.name: getattr(update, f.name) for f in fields(TemplateUpdate) if getattr(update, f.name) is not None}
    settings = replace(settings_of(current), **given)
    if settings.auth_mode is not AuthMode.PARTNER_SAML and update.idp_entity_id is None:
        settings = replace(settings, idp_entity_id=None)
    if settings.auth_mode is not AuthMode.PARTNER_OIDC and update.idp_name is None:
        settings = replace(settings, idp_name=None)
    return settings


@dataclass(frozen=True)
class TemplateUpdatePlan:
    problems: Problems
    settings: NewTemplate | None  # as stored after the update; None if refused
    changed: dict[str, Any]  # entity field → new value (empty: the update changes nothing)


def plan_template_update(current: OnboardingTemplate, update: TemplateUpdate,
                         taken_names: Collection[str]) -> TemplateUpdatePlan:
    """R-TPL-4: the problems of an update (judged on the settings it would leave) and the fields it changes.

    `taken_names`: the `name_key`s of the owner's active templates other than this one.
    """
    wanted = merged(current, update)
    problems, language = plan_template(wanted, taken_names)
    if problems.items or language is None:
        return TemplateUpdatePlan(problems, None, {})
    settings = cleaned(wanted, language)
    changed = {name: getattr(settings, name) for name in UPDATABLE
               if getattr(settings, name) != getattr(current, name)}
    return TemplateUpdatePlan(problems, settings, changed)
