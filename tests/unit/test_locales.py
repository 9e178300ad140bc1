from __future__ import annotations

import pytest

from domain.locales import meetings_site_locale, resolve_locale


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


@pytest.mark.parametrize("requested", ["xx", "en-US", "en_XX", "english", "EN", "e"])
def test_r_loc_1_refuses_anything_else(requested: str) -> None:
    assert resolve_locale(requested, "US", "en_US") is None


@pytest.mark.parametrize("locale", ["es_CO", "id_ID", "nb_NO", "pt_PT"])
def test_r_loc_2_meetings_site_falls_back_to_english(locale: str) -> None:
    assert meetings_site_locale(locale) == "en_US"


@pytest.mark.parametrize("locale", ["ja_JP", "pt_BR", "es_ES", "fr_CA"])
def test_r_loc_2_meetings_site_keeps_supported_locales(locale: str) -> None:
    assert meetings_site_locale(locale) == locale
