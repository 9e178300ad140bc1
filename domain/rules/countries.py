"""ISO-3166 alpha-2 countries grouped by the call-in regions of R-DIAL."""

from __future__ import annotations

_AMER = (
    "US CA MX AG AI AR AW BB BL BM BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GL GP GT GY HN HT JM KN "
    "KY LC MF MQ MS NI PA PE PM PR PY SR SV SX TC TT UM UY VC VE VG VI GS"
)
_ANZ = "AU NZ NF CX CC HM"
_APAC = (
    "AF BD BN BT CN FJ HK ID IN JP KH KI KP KR LA LK MM MN MO MV MY NP NR PG PH PK PW SB SG TH TL TO TV TW "
    "VN VU WS FM MH NC PF GU MP AS CK NU TK WF IO KZ KG TJ TM UZ PN"
)
# Euro-area members (and the microstates that use the euro by agreement).
_EURO = "AT BE BG HR CY EE FI FR DE GR IE IT LV LT LU MT NL PT SK SI ES AD MC SM VA ME XK"
_EMEA = (
    "GB GG JE IM AL AM AZ BA BY CH CZ DK FO GE GI HU IS LI MD MK NO PL RO RS RU SE SJ TR UA AX "
    "AE BH IL IQ IR JO KW LB OM PS QA SA SY YE "
    "DZ AO BJ BW BF BI CM CV CF TD KM CD CG CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU "
    "YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW TF BV AQ"
)

REGION_OF: dict[str, str] = {
    code: region
    for region, codes in (("AMER", _AMER), ("ANZ", _ANZ), ("APAC", _APAC), ("EURO", _EURO), ("EMEA", _EMEA))
    for code in codes.split()
}

COUNTRIES: frozenset[str] = frozenset(REGION_OF)


def is_country(code: str) -> bool:
    return code in COUNTRIES
