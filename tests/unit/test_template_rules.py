"""The rules of onboarding templates as pure functions (DOMAIN.md §4, R-TPL-3…5, R-LOC-1, R-LOC-3): `plan_template`,
`plan_template_update`, and a retired template refused by `plan_new_customer`.

Each test restates a refusal or a resolved language of tests/api/test_template_mutations.py (whose `_input` is a
Canadian template in en_CA). No database, no HTTP, no event loop, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import AuthMode, OnboardingTemplate
from domain.model.errors import ErrorCode
from domain.rules.customers import NewCustomerFacts, plan_new_customer
from domain.rules.templates import (
    UPDATABLE,
    NewTemplate,
    TemplateUpdate,
    TemplateUpdatePlan,
    cleaned,
    name_key,
    plan_template,
    plan_template_update,
)
from domain.rules.validation import Problems

Path = tuple[str, ...]
TEMPLATE = NewTemplate(name="Retail (Canada)", country="CA", language="en_CA")


def _input(**changes: Any) -> NewTemplate:
    return replace(TEMPLATE, **changes)


def _problems(problems: Problems) -> list[tuple[str, Path | None]]:
    """(code, field) of every problem, sorted as the API tests compare them; every problem says something."""
    assert all(p.message for p in problems.items), problems.items
    return _sorted((p.code, p.field) for p in problems.items)


def _sorted(pairs: Iterable[tuple[ErrorCode, Path | None]]) -> list[tuple[str, Path | None]]:
    return sorted(((ErrorCode(code).value, field) for code, field in pairs), key=repr)


def test_a_valid_template_has_no_problems_and_keeps_its_locale() -> None:
    problems, language = plan_template(TEMPLATE)
    assert (problems.items, language) == ([], "en_CA")


def test_country_is_judged_in_capitals() -> None:
    """test_template_keeps_every_optional_setting_given sends `de`; it is DE, and de_DE is kept."""
    problems, language = plan_template(_input(name="  Branded  ", country="de", language="de_DE",
                                              brand_name="Demo Telecom Business"))
    assert (problems.items, language) == ([], "de_DE")


@pytest.mark.parametrize(("changes", "problem"), [
    pytest.param({"country": "XX"}, (ErrorCode.INVALID_COUNTRY, ("input", "country")),
                 id="unknown_country_is_refused_with_invalid_country"),
    pytest.param({"language": "xx"}, (ErrorCode.INVALID_LOCALE, ("input", "language")),
                 id="unknown_language_is_refused_with_invalid_locale"),
    pytest.param({"auth_mode": AuthMode.PARTNER_SAML}, (ErrorCode.REQUIRED, ("input", "idpEntityId")),
                 id="partner_saml_without_idp_entity_id_is_refused_with_required"),
    pytest.param({"auth_mode": AuthMode.PARTNER_OIDC}, (ErrorCode.REQUIRED, ("input", "idpName")),
                 id="partner_oidc_without_idp_name_is_refused_with_required"),
    pytest.param({"idp_entity_id": "https://idp.example/saml"}, (ErrorCode.VALIDATION_FAILED, ("input", "idpEntityId")),
                 id="idp_entity_id_without_partner_saml_is_refused"),
    pytest.param({"idp_name": "Okta"}, (ErrorCode.VALIDATION_FAILED, ("input", "idpName")),
                 id="idp_name_without_partner_oidc_is_refused"),
    pytest.param({"name": "N" * 101}, (ErrorCode.TOO_LONG, ("input", "name")),
                 id="name_longer_than_100_characters_is_refused_with_too_long"),
    pytest.param({"name": "   "}, (ErrorCode.REQUIRED, ("input", "name")), id="blank_name_is_refused_with_required"),
    pytest.param({"brand_name": "B" * 101}, (ErrorCode.TOO_LONG, ("input", "brandName")),
                 id="brand_name_longer_than_100_characters_is_refused_with_too_long"),
])
def test_template_input_problem_is_refused(changes: dict[str, Any], problem: tuple[ErrorCode, Path]) -> None:
    """R-TPL-3 (the IdP setting each authentication mode requires, and only that mode), R-LOC-1 (language), §4."""
    problems, _ = plan_template(_input(**changes))
    assert _problems(problems) == _sorted([problem])


@pytest.mark.parametrize("changes", [
    pytest.param({"name": "N" * 100}, id="name_of_exactly_100_characters_is_accepted"),
    pytest.param({"auth_mode": AuthMode.PARTNER_SAML, "idp_entity_id": "https://idp.example/saml"},
                 id="partner_saml_with_an_idp_entity_id"),
    pytest.param({"auth_mode": AuthMode.PARTNER_OIDC, "idp_name": "Okta"}, id="partner_oidc_with_an_idp_name"),
])
def test_template_input_is_accepted(changes: dict[str, Any]) -> None:
    """R-TPL-3: each mode with its own IdP setting; §4: names up to 100 characters."""
    problems, _ = plan_template(_input(**changes))
    assert problems.items == []


def test_every_validation_problem_is_reported_at_once() -> None:
    problems, language = plan_template(_input(name="N" * 101, country="XX", language="en-XX",
                                              auth_mode=AuthMode.PARTNER_SAML))
    assert _problems(problems) == _sorted([
        (ErrorCode.INVALID_COUNTRY, ("input", "country")), (ErrorCode.INVALID_LOCALE, ("input", "language")),
        (ErrorCode.REQUIRED, ("input", "idpEntityId")), (ErrorCode.TOO_LONG, ("input", "name")),
    ])
    assert language is None


@pytest.mark.parametrize(("country", "language", "expected"), [
    pytest.param("CA", "fr", "fr_CA", id="two_letter_language_is_combined_with_the_country"),
    pytest.param("US", "fr", "fr_FR", id="unsupported_combination_falls_back_to_the_languages_default"),
    pytest.param("US", "pt_BR", "pt_BR", id="supported_five_character_locale_is_kept"),
])
def test_r_loc_1_template_language_is_resolved(country: str, language: str, expected: str) -> None:
    problems, resolved = plan_template(_input(country=country, language=language))
    assert (problems.items, resolved) == ([], expected)


def test_r_loc_3_a_locale_in_any_case_with_a_hyphen_resolves_to_ll_cc() -> None:
    problems, language = plan_template(_input(country="US", language="FR-ca"))
    assert (problems.items, language) == ([], "fr_CA")


# ---------------------------------------------------------------- R-TPL-3: the 2026-12 settings

@pytest.mark.parametrize(("idp_name", "problem"), [
    pytest.param("I" * 129, (ErrorCode.TOO_LONG, ("input", "idpName")), id="longer_than_128_is_too_long"),
    pytest.param("Okta SSO", (ErrorCode.VALIDATION_FAILED, ("input", "idpName")), id="a_space_is_refused"),
    pytest.param("okta/prod", (ErrorCode.VALIDATION_FAILED, ("input", "idpName")), id="a_slash_is_refused"),
    pytest.param("Entrée", (ErrorCode.VALIDATION_FAILED, ("input", "idpName")), id="a_non_ascii_letter_is_refused"),
    pytest.param("   ", (ErrorCode.REQUIRED, ("input", "idpName")), id="blank_is_required"),
])
def test_r_tpl_3_idp_name_outside_1_to_128_letters_digits_and_dash_underscore_tilde_dot_is_refused(
    idp_name: str, problem: tuple[ErrorCode, Path]
) -> None:
    problems, _ = plan_template(_input(auth_mode=AuthMode.PARTNER_OIDC, idp_name=idp_name))
    assert _problems(problems) == _sorted([problem])


@pytest.mark.parametrize("idp_name", ["I" * 128, "a", "okta-prod_2~eu.west", "0.9"])
def test_r_tpl_3_idp_name_of_1_to_128_letters_digits_and_dash_underscore_tilde_dot_is_accepted(idp_name: str) -> None:
    problems, _ = plan_template(_input(auth_mode=AuthMode.PARTNER_OIDC, idp_name=idp_name))
    assert problems.items == []


@pytest.mark.parametrize(("changes", "problem"), [
    pytest.param({"sp_admin_email": "not-an-email"}, (ErrorCode.INVALID_EMAIL, ("input", "spAdminEmail")),
                 id="sp_admin_email_must_be_an_email_address"),
    pytest.param({"pstn_vendor": "P" * 101}, (ErrorCode.TOO_LONG, ("input", "pstnVendor")),
                 id="pstn_vendor_longer_than_100_characters_is_too_long"),
    pytest.param({"pstn_vendor": "IntelePeer\x00"}, (ErrorCode.VALIDATION_FAILED, ("input", "pstnVendor")),
                 id="pstn_vendor_with_a_control_character_is_refused"),
])
def test_r_tpl_3_optional_settings_are_checked_when_given(changes: dict[str, Any], problem: tuple[ErrorCode, Path]
                                                          ) -> None:
    problems, _ = plan_template(_input(**changes))
    assert _problems(problems) == _sorted([problem])


def test_r_tpl_3_optional_settings_stored_trimmed_and_blank_ones_absent() -> None:
    data = _input(sp_admin_email="  ops@demo-telecom.example ", pstn_vendor=" IntelePeer ", brand_name="  ")
    problems, language = plan_template(data)
    assert problems.items == [] and language is not None
    stored = cleaned(data, language)
    assert (stored.sp_admin_email, stored.pstn_vendor, stored.brand_name) == (
        "ops@demo-telecom.example", "IntelePeer", None)


@pytest.mark.parametrize("name", ["Retail (Canada)", "retail (canada)", "  RETAIL   (Canada) "])
def test_r_tpl_3_a_name_another_active_template_of_the_owner_has_is_name_in_use_whatever_its_case_or_spacing(
    name: str
) -> None:
    problems, _ = plan_template(_input(name=name), {name_key("Retail (Canada)")})
    assert _problems(problems) == _sorted([(ErrorCode.NAME_IN_USE, ("input", "name"))])


def test_r_tpl_3_a_name_no_active_template_of_the_owner_has_is_free() -> None:
    problems, _ = plan_template(_input(name="Retail (Canada) 2"), {name_key("Retail (Canada)")})
    assert problems.items == []


# ---------------------------------------------------------------- R-TPL-4: updates

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
STORED = OnboardingTemplate(
    id="tpl_1", owner_org_id="ptn_demo", root_org_id="ptn_demo", provisioning_id="0b7f2f4e-prov", name="Enterprise",
    country="DE", language="de_DE", auth_mode=AuthMode.PARTNER_SAML, idp_entity_id="https://idp.example/saml",
    brand_name="Demo", restrict_admin_invite_emails_on_attach=False, disable_webex_calling_1to1=False,
    subscription_id="Sub-DEMO-0001", pstn_vendor="IntelePeer", name_key="enterprise", version=3, created_at=NOW)


def _update(taken: set[str] | None = None, **changes: Any) -> TemplateUpdatePlan:
    return plan_template_update(STORED, TemplateUpdate(**changes), taken or set())


def test_r_tpl_4_an_update_changes_only_what_it_names() -> None:
    plan = _update(name=" Enterprise EU ", brand_name="Demo Business", disable_webex_calling_1to1=True)
    assert plan.problems.items == []
    assert plan.changed == {"name": "Enterprise EU", "brand_name": "Demo Business", "disable_webex_calling_1to1": True}


def test_r_tpl_4_an_update_naming_current_values_changes_nothing() -> None:
    plan = _update(name="Enterprise", country="de", language="de-de", pstn_vendor="IntelePeer")
    assert (plan.problems.items, plan.changed) == ([], {})


def test_r_tpl_4_a_blank_text_clears_an_optional_setting() -> None:
    plan = _update(pstn_vendor="", brand_name="  ")
    assert (plan.problems.items, plan.changed) == ([], {"pstn_vendor": None, "brand_name": None})


def test_r_tpl_4_switching_from_saml_to_oidc_needs_an_idp_name_and_drops_the_entity_id() -> None:
    refused = _update(auth_mode=AuthMode.PARTNER_OIDC)
    assert _problems(refused.problems) == _sorted([(ErrorCode.REQUIRED, ("input", "idpName"))])
    assert refused.changed == {}
    plan = _update(auth_mode=AuthMode.PARTNER_OIDC, idp_name="okta-eu")
    assert (plan.problems.items, plan.changed) == (
        [], {"auth_mode": AuthMode.PARTNER_OIDC, "idp_entity_id": None, "idp_name": "okta-eu"})


def test_r_tpl_4_switching_to_webex_drops_the_idp_but_naming_it_again_is_refused() -> None:
    plan = _update(auth_mode=AuthMode.WEBEX)
    assert (plan.problems.items, plan.changed) == ([], {"auth_mode": AuthMode.WEBEX, "idp_entity_id": None})
    refused = _update(auth_mode=AuthMode.WEBEX, idp_entity_id="https://idp.example/saml")
    assert _problems(refused.problems) == _sorted([(ErrorCode.VALIDATION_FAILED, ("input", "idpEntityId"))])


def test_r_tpl_4_an_update_is_judged_like_a_creation_with_every_problem_at_once() -> None:
    plan = _update({name_key("Retail")}, name="retail", country="XX", language="xx", sp_admin_email="nope")
    assert _problems(plan.problems) == _sorted([
        (ErrorCode.NAME_IN_USE, ("input", "name")), (ErrorCode.INVALID_COUNTRY, ("input", "country")),
        (ErrorCode.INVALID_LOCALE, ("input", "language")), (ErrorCode.INVALID_EMAIL, ("input", "spAdminEmail")),
    ])
    assert (plan.settings, plan.changed) == (None, {})


def test_r_tpl_4_provisioning_id_and_subscription_id_are_not_updatable() -> None:
    assert {"provisioning_id", "subscription_id"}.isdisjoint({f.name for f in fields(TemplateUpdate)})
    assert {"provisioning_id", "subscription_id"}.isdisjoint(UPDATABLE)


# ---------------------------------------------------------------- R-TPL-5: a retired template onboards no one

def test_r_tpl_5_a_retired_templates_provisioning_id_is_template_not_found() -> None:
    from tests.unit.test_customer_plans import PARTNER, REQUEST, TEMPLATE_US

    def plan(template: OnboardingTemplate) -> list[tuple[str, Path | None]]:
        facts = NewCustomerFacts(template=template, external_id_taken=False, today=NOW.date())
        return [(p.code.value, p.field) for p in plan_new_customer(PARTNER, REQUEST, facts).problems.items]

    assert plan(TEMPLATE_US) == []
    retired = TEMPLATE_US.model_copy(update={"retired_at": NOW})
    assert plan(retired) == [(ErrorCode.TEMPLATE_NOT_FOUND.value, ("input", "provisioningId"))]
