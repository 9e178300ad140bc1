from __future__ import annotations

import pytest

from domain.rules.locales import meetings_site_locale, normalise_locale, resolve_locale


@pytest.mark.parametrize(
    ("requested", "country", "expected"),
    [
        ("ja_JP", "US", "ja_JP"),  # a supported 5-character locale is kept
        ("ja", "JP", "ja_JP"),  # language + the template's country
        ("fr", "CA", "fr_CA"),
        ("fr", "US", "fr_FR"),  # fr_US is not supported: the language's default
        ("es", "CO", "es_CO"),
        ("pt", "BR", "pt_BR"),
        ("zh", "TW", "zh_TW"),
        (None, "DE", "de_DE"),  # nothing requested: the template's language
        ("", "DE", "de_DE"),
    ],
)
def test_r_loc_1_resolves_requested_language(requested: str | None, country: str, expected: str) -> None:
    assert resolve_locale(requested, country, "de_DE") == expected


@pytest.mark.parametrize("requested", ["xx", "en_XX", "english", "e", "en_US_x", "en__US", "_US", "en_", "\uff25\uff2e",
                                       "en\u200b_US"])
def test_r_loc_1_refuses_anything_else(requested: str) -> None:
    assert resolve_locale(requested, "US", "en_US") is None


@pytest.mark.parametrize(("requested", "country", "expected"), [
    ("en_us", "GB", "en_US"),  # the Webex REST API's own examples send this
    ("EN-us", "GB", "en_US"),
    ("en-US", "GB", "en_US"),
    ("FR_ca", "US", "fr_CA"),
    ("zh-tw", "US", "zh_TW"),
    ("EN", "GB", "en_GB"),  # a bare language, any case, then R-LOC-1
    ("Ja", "JP", "ja_JP"),
    (" pt-br ", "US", "pt_BR"),
])
def test_r_loc_3_locales_match_case_insensitively_with_underscore_or_hyphen(requested: str, country: str,
                                                                           expected: str) -> None:
    assert resolve_locale(requested, country, "de_DE") == expected


@pytest.mark.parametrize(("text", "spelled"), [("en_us", "en_US"), ("EN-us", "en_US"), ("EN", "en"),
                                               ("de-de", "de_DE"), ("english", "english")])
def test_r_loc_3_normalises_the_spelling(text: str, spelled: str) -> None:
    assert normalise_locale(text) == spelled


@pytest.mark.parametrize("locale", ["es_CO", "id_ID", "nb_NO", "pt_PT"])
def test_r_loc_2_meetings_site_falls_back_to_english(locale: str) -> None:
    assert meetings_site_locale(locale) == "en_US"


@pytest.mark.parametrize("locale", ["ja_JP", "pt_BR", "es_ES", "fr_CA"])
def test_r_loc_2_meetings_site_keeps_supported_locales(locale: str) -> None:
    assert meetings_site_locale(locale) == locale
