"""R-RPL-4: the restricted-party list as data, name normalisation, fuzzy screening and CSV loading."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from domain.rules.rpl import DEFAULT_THRESHOLD, RplEntry, RplFormatError, RplMatch, Screener, normalise, parse_csv

EL = "Entity List (EL) - Bureau of Industry and Security"
SDN = "Specially Designated Nationals (SDN) - Treasury Department"

CSL_HEADER = (
    "_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,"
    "standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,"
    "vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,"
    "places_of_birth,source_information_url,ids,country"
)


def _csl_row(source: str, name: str, alt_names: str = "", country: str = "") -> str:
    cells = [""] * 30
    cells[0], cells[1], cells[3], cells[5], cells[22], cells[29] = "e1f2", source, "Entity", name, alt_names, country
    cells[7] = '"12 Harbour Road, Vladivostok, RU"'
    return ",".join(cells)


def _screener(*entries: RplEntry, threshold: float = DEFAULT_THRESHOLD) -> Screener:
    return Screener(entries, threshold=threshold)


# --- normalisation (R-RPL-4) ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Trading Co., Ltd.", "acme trading"),
        ("ACME TRADING", "acme trading"),
        ("  acme\t trading  ", "acme trading"),
        ("Trading Acme", "acme trading"),
        ("Acme-Trading!", "acme trading"),
        ("Société Générale", "generale societe"),
        ("Müller & Söhne GmbH", "and muller sohne"),
        ("Øresund Straße A/S", "oresund strasse"),
        ("Foo Holdings Co. Ltd", "foo holdings"),
        ("Foo Holdings Company Limited", "foo holdings"),
        ("Foo Holdings LLC Inc", "foo holdings"),
        ("Rostov Machine Works PJSC", "machine rostov works"),
        ("Polska Eksport Sp. z o.o.", "eksport polska"),
        ("Polska Eksport SPZOO", "eksport polska"),
        ("Nordic Tools S.A.", "nordic tools"),
        ("Alpha L.L.C.", "alpha"),
        ("Limited Editions Inc", "editions limited"),  # a legal word is only dropped at the end
        ("O'Neil Co.,Ltd", "oneil"),
    ],
)
def test_r_rpl_4_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_r_rpl_4_normalise_never_drops_the_first_word_and_punctuation_alone_is_empty() -> None:
    assert normalise("Company Ltd") == "company"
    assert normalise("Inc.") == "inc"
    assert normalise(" .,;- ") == ""


def test_r_rpl_4_normalise_is_symmetric_for_the_same_company_spelt_differently() -> None:
    assert normalise("Trading Acme Ltd") == normalise("ACME TRADING LIMITED") == normalise("Acme Trading Co., Ltd.")


# --- screening (R-RPL-4) ---


def test_r_rpl_4_exact_and_reordered_names_match_with_full_score() -> None:
    entry = RplEntry.create(EL, "ACME TRADING LIMITED")
    screener = _screener(entry)
    for name in ("ACME TRADING LIMITED", "Trading Acme Ltd", "acme trading co., ltd."):
        assert screener.screen(name, "GB") == [RplMatch(entry.id, EL, "ACME TRADING LIMITED", None, 100.0)]


def test_r_rpl_4_a_small_typo_still_matches_above_the_threshold() -> None:
    screener = _screener(RplEntry.create(EL, "Acme Trading Ltd"), RplEntry.create(EL, "Baltic Logistics GmbH"))
    [typo] = screener.screen("Acme Tradng Limited", "GB")
    assert typo.entry_name == "Acme Trading Ltd" and DEFAULT_THRESHOLD <= typo.score < 100.0
    [plural] = screener.screen("Baltic Logistic", "DE")
    assert plural.entry_name == "Baltic Logistics GmbH" and DEFAULT_THRESHOLD <= plural.score < 100.0


@pytest.mark.parametrize(
    ("listed", "customer"),
    [
        ("Northwind Shipping Ltd", "Northway Shipping Ltd"),  # similar-sounding, different company
        ("Meridian Systems LLC", "Meridian Solutions LLC"),
        ("Tehran Industrial Bank", "Tehran Industrial Group"),
        ("Acme Trading Ltd", "Globex Corporation"),  # unrelated
    ],
)
def test_r_rpl_4_a_different_company_does_not_match(listed: str, customer: str) -> None:
    score = fuzz.ratio(normalise(listed), normalise(customer))
    assert 0 <= score < DEFAULT_THRESHOLD  # the example really is below the threshold
    assert _screener(RplEntry.create(EL, listed)).screen(customer, "GB") == []


def test_r_rpl_4_the_threshold_decides() -> None:
    entry = RplEntry.create(EL, "Northwind Shipping Ltd")
    assert _screener(entry, threshold=85.0).screen("Northway Shipping", "GB")[0].score == 85.7
    assert _screener(entry, threshold=86.0).screen("Northway Shipping", "GB") == []
    with pytest.raises(ValueError, match="threshold"):
        Screener([entry], threshold=101)


def test_r_rpl_4_an_alias_match_reports_the_primary_entry_name() -> None:
    entry = RplEntry.create(SDN, "Volga Maritime Holding JSC", ["Volgamar", "VMH Shipping"])
    [match] = _screener(entry).screen("VMH Shipping Ltd", "RU")
    assert match == RplMatch(entry.id, SDN, "Volga Maritime Holding JSC", None, 100.0)


def test_r_rpl_4_best_score_per_entry_when_name_and_alias_both_match() -> None:
    entry = RplEntry.create(EL, "Orion Electronics Ltd", ["Orion Electronic"])
    [match] = _screener(entry).screen("Orion Electronic", None)
    assert match.score == 100.0


def test_r_rpl_4_an_entry_with_a_country_only_matches_customers_in_that_country() -> None:
    russian = RplEntry.create(EL, "Polar Petrochemical JSC", country="ru")
    assert russian.country == "RU"
    screener = _screener(russian)
    assert screener.screen("Polar Petrochemical", "DE") == []
    assert [m.entry_id for m in screener.screen("Polar Petrochemical", "RU")] == [russian.id]
    assert [m.entry_id for m in screener.screen("Polar Petrochemical", " ru ")] == [russian.id]


def test_r_rpl_4_an_entry_without_a_country_matches_everywhere() -> None:
    anywhere = RplEntry.create(SDN, "Polar Petrochemical JSC")
    screener = _screener(anywhere)
    for country in ("RU", "DE", "US", None):
        assert [m.entry_id for m in screener.screen("Polar Petrochemical", country)] == [anywhere.id]


def test_r_rpl_4_an_unknown_customer_country_is_screened_against_every_entry() -> None:
    russian = RplEntry.create(EL, "Polar Petrochemical JSC", country="RU")
    assert [m.entry_id for m in _screener(russian).screen("Polar Petrochemical", None)] == [russian.id]


def test_r_rpl_4_a_match_records_the_entry_id_list_name_country_and_score() -> None:
    entry = RplEntry.create(EL, "Novatek Aerospace Co., Ltd.", country="CN")
    [match] = _screener(entry).screen("Novatech Aerospace", "CN")
    assert (match.entry_id, match.list_name, match.entry_name, match.country) == (
        entry.id, EL, "Novatek Aerospace Co., Ltd.", "CN"
    )
    assert match.score == round(fuzz.ratio("aerospace novatek", "aerospace novatech"), 1) == 91.4


def test_r_rpl_4_matches_are_ordered_by_score_and_capped_at_ten() -> None:
    entries = [RplEntry.create(EL, f"Acme Trading {suffix}") for suffix in ("", "A", "AB", "ABC")]
    entries += [RplEntry.create(f"List {n}", "Acme Trading") for n in range(12)]
    matches = _screener(*entries, threshold=70).screen("Acme Trading", None)
    assert len(matches) == 10
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True) and scores[0] == 100.0


def test_r_rpl_4_a_name_that_normalises_to_empty_matches_nothing() -> None:
    screener = _screener(RplEntry.create(EL, "Acme Trading"), threshold=0)
    assert screener.screen("", None) == []
    assert screener.screen(" - . ", "GB") == []
    assert _screener().screen("Acme", None) == []


def test_r_rpl_4_screener_over_twenty_thousand_entries_finds_the_listed_name() -> None:
    words = ["Amber", "Boreal", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Jade",
             "Krypton", "Lumen", "Magnet", "Nimbus", "Onyx", "Prism", "Quartz", "Raven", "Sable", "Titan"]
    trades = ["Trading", "Logistics", "Electronics", "Shipping", "Industries"]
    entries = [
        RplEntry.create(EL if n % 2 else SDN, f"{words[n % 20]} {words[n // 20 % 20]} {trades[n // 400 % 5]} {n}",
                        [f"{words[n // 20 % 20]} Group {n}"], country=("RU", "CN", None)[n % 3])
        for n in range(20_000)
    ]
    target = RplEntry.create(SDN, "Zephyr Quantum Dynamics LLC", ["ZQD Holdings"], country="IR")
    screener = Screener([*entries, target])
    assert len(screener) == 20_001
    [match] = screener.screen("Quantum Zephyr Dynamics Ltd", "IR")
    assert match.entry_id == target.id and match.score == 100.0
    assert screener.screen("Quantum Zephyr Dynamics Ltd", "DE") == []


def test_r_rpl_4_screener_counts_each_entry_once() -> None:
    entry = RplEntry.create(EL, "Acme Trading")
    assert len(Screener([entry, entry, RplEntry.create(SDN, "Acme Trading")])) == 2


# --- entries and documents (R-RPL-4) ---


def test_r_rpl_4_create_cleans_fields_and_derives_a_stable_id() -> None:
    entry = RplEntry.create("  EL ", " Acme Trading Ltd ", [" Acme ", "", "Acme", "Acme Trading Ltd"], " ru ")
    assert (entry.source, entry.name, entry.alt_names, entry.country) == ("EL", "Acme Trading Ltd", ("Acme",), "RU")
    assert entry.id.startswith("rpl_") and len(entry.id) == 28
    assert entry.id == RplEntry.create("EL", "Acme Trading Ltd", country="RU").id  # aliases are not part of the id
    assert entry.id != RplEntry.create("EL", "Acme Trading Ltd").id
    assert RplEntry.create("EL", "Acme", country="  ").country is None


@pytest.mark.parametrize(("source", "name", "country"), [("", "Acme", None), ("EL", "  ", None), ("EL", "Acme", "RUS")])
def test_r_rpl_4_create_rejects_blank_fields_and_bad_countries(source: str, name: str, country: str | None) -> None:
    with pytest.raises(ValueError):
        RplEntry.create(source, name, country=country)


def test_r_rpl_4_document_round_trip() -> None:
    entry = RplEntry.create(EL, "Acme Trading Co., Ltd.", ["ACME TRADING LIMITED", "Acme Intl", "..."], "CN")
    doc = entry.to_doc()
    assert doc == {
        "_id": entry.id,
        "source": EL,
        "name": "Acme Trading Co., Ltd.",
        "altNames": ["ACME TRADING LIMITED", "Acme Intl", "..."],
        "country": "CN",
        "normalised": ["acme trading", "acme intl"],
    }
    assert RplEntry.from_doc(doc) == entry
    assert RplEntry.from_doc({"_id": "rpl_x", "source": "S", "name": "N"}) == RplEntry("rpl_x", "S", "N")


# --- CSV loading (R-RPL-4) ---


def test_r_rpl_4_csv_minimal_layout() -> None:
    entries = parse_csv("source,name\nEL,Acme Trading Ltd\nSDN,Globex Corporation\n")
    assert [(e.source, e.name, e.alt_names, e.country) for e in entries] == [
        ("EL", "Acme Trading Ltd", (), None),
        ("SDN", "Globex Corporation", (), None),
    ]


def test_r_rpl_4_csv_consolidated_screening_list_layout_loads_as_is() -> None:
    text = "\r\n".join([
        CSL_HEADER,
        _csl_row(EL, '"Polar Petrochemical, JSC"', "Polar Petrochem; PPC Holdings ;", "RU"),
        _csl_row(SDN, "Zephyr Quantum Dynamics LLC"),
        "",
    ])
    polar, zephyr = parse_csv(text)
    assert polar == RplEntry.create(EL, "Polar Petrochemical, JSC", ["Polar Petrochem", "PPC Holdings"], "RU")
    assert zephyr == RplEntry.create(SDN, "Zephyr Quantum Dynamics LLC")
    [match] = Screener([polar, zephyr]).screen("PPC Holdings", "RU")
    assert match.entry_name == "Polar Petrochemical, JSC" and match.list_name == EL


def test_r_rpl_4_csv_header_is_case_insensitive_in_any_order_and_tolerates_a_bom() -> None:
    text = "\ufeff Country ,ALT_NAMES,Name,Source,remarks\nru,Volgamar,Volga Maritime,SDN,x\n"
    [entry] = parse_csv(text)
    assert entry == RplEntry.create("SDN", "Volga Maritime", ["Volgamar"], "RU")


def test_r_rpl_4_csv_skips_blank_lines_and_keeps_duplicates_once() -> None:
    text = (
        "source,name,alt_names\n\nEL,Acme Trading,Acme\n\n  ,  ,  \nEL,Acme Trading,Acme Intl\nEL,Acme Trading,Acme\n\n"
    )
    [entry] = parse_csv(text)
    assert entry.alt_names == ("Acme", "Acme Intl")


def test_r_rpl_4_csv_ids_are_idempotent_across_parses() -> None:
    text = "\n".join([CSL_HEADER, _csl_row(EL, "Acme Trading Ltd", "Acme", "CN"), _csl_row(SDN, "Globex Corporation")])
    first, second = parse_csv(text), parse_csv(text)
    assert [e.id for e in first] == [e.id for e in second] and len({e.id for e in first}) == 2
    assert first == second


def test_r_rpl_4_csv_rejects_a_missing_name_column() -> None:
    with pytest.raises(RplFormatError, match=r"line 1: .*name") as caught:
        parse_csv("source,alt_names,country\nEL,Acme,RU\n")
    assert caught.value.line == 1


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n"])
def test_r_rpl_4_csv_rejects_text_without_a_header(text: str) -> None:
    with pytest.raises(RplFormatError, match="header"):
        parse_csv(text)


def test_r_rpl_4_csv_reports_a_blank_name_with_its_line() -> None:
    with pytest.raises(RplFormatError, match=r"line 3: name is blank") as caught:
        parse_csv("source,name\nEL,Acme Trading\nEL,  \nEL,Globex\n")
    assert caught.value.line == 3


def test_r_rpl_4_csv_reports_a_blank_source_with_its_line() -> None:
    with pytest.raises(RplFormatError, match=r"line 2: source is blank"):
        parse_csv("name,source\nAcme Trading,\n")


def test_r_rpl_4_csv_line_numbers_count_physical_lines() -> None:
    # The quoted name spans lines 2-3; the bad row starts on line 5 (after a blank line 4).
    with pytest.raises(RplFormatError, match=r"line 5: "):
        parse_csv('source,name\nEL,"Acme\nTrading"\n\nEL,\n')


@pytest.mark.parametrize("country", ["RUS", "R", "1A", "R U"])
def test_r_rpl_4_csv_rejects_a_country_that_is_not_two_letters(country: str) -> None:
    with pytest.raises(RplFormatError, match=r"line 3: country"):
        parse_csv(f"source,name,country\nEL,Acme,RU\nEL,Globex,{country}\n")
