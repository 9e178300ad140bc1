"""Customer language and meetings-site locale (R-LOC-1, R-LOC-2, R-LOC-3)."""

from __future__ import annotations

SUPPORTED_LOCALES: frozenset[str] = frozenset(
    "en_US en_AU en_GB en_CA fr_FR fr_CA cs_CZ da_DK de_DE hu_HU id_ID it_IT ja_JP ko_KR es_ES es_CO "
    "es_MX nl_NL nb_NO pl_PL pt_PT pt_BR ru_RU ro_RO zh_CN zh_TW sv_SE ar_SA tr_TR".split()
)

LANGUAGE_DEFAULTS: dict[str, str] = dict(
    pair.split("→")
    for pair in (
        "en→en_US fr→fr_FR cs→cs_CZ da→da_DK de→de_DE hu→hu_HU id→id_ID it→it_IT ja→ja_JP ko→ko_KR "
        "es→es_ES nl→nl_NL nb→nb_NO pl→pl_PL pt→pt_PT ru→ru_RU ro→ro_RO zh→zh_CN sv→sv_SE ar→ar_SA tr→tr_TR"
    ).split()
)

# R-LOC-2: locales the meetings site cannot use; the site falls back to English.
MEETINGS_UNSUPPORTED: frozenset[str] = frozenset({"es_CO", "id_ID", "nb_NO", "pt_PT"})
MEETINGS_FALLBACK = "en_US"


def normalise_locale(text: str) -> str:
    """R-LOC-3: a locale as clients send it (`en_us`, `EN-us`, `EN`) spelled as stored (`en_US`, `en`).

    Case-insensitive, `_` or `-` between language and country; anything else is returned as given (R-LOC-1
    then refuses it).
    """
    language, separator, country = text.strip().replace("-", "_").partition("_")
    if not separator:
        return language.lower()
    return f"{language.lower()}_{country.upper()}"


def resolve_locale(requested: str | None, template_country: str, template_language: str) -> str | None:
    """R-LOC-1 after R-LOC-3: the 5-character locale a request resolves to, or None when it is not acceptable."""
    if requested is None or requested.strip() == "":
        return template_language
    requested = normalise_locale(requested)
    if requested in SUPPORTED_LOCALES:
        return requested
    if len(requested) == 2 and requested in LANGUAGE_DEFAULTS:
        combined = f"{requested}_{template_country.upper()}"
        return combined if combined in SUPPORTED_LOCALES else LANGUAGE_DEFAULTS[requested]
    return None


def meetings_site_locale(locale: str) -> str:
    """R-LOC-2: the locale of the customer's meetings site."""
    return MEETINGS_FALLBACK if locale in MEETINGS_UNSUPPORTED else locale
