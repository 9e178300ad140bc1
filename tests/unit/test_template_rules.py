"""The rules of a new onboarding template as a pure function (DOMAIN.md §4, R-TPL-3, R-LOC-1, R-LOC-3): `plan_template`.

Each test restates a refusal or a resolved language of tests/api/test_template_mutations.py (whose `_input` is a
Canadian template in en_CA). No database, no HTTP, no event loop, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from domain.model.entities import AuthMode
from domain.model.errors import ErrorCode
from domain.rules.templates import NewTemplate, plan_template
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
