"""The rule index (`python -m tests.rule_index`) finds the rule ids a test names, numbered or not."""

from __future__ import annotations

from tests.rule_index import rule_ids


def test_numbered_ids_and_state_machines_are_found_in_names_and_docstrings() -> None:
    assert rule_ids("test_r_sub_1_amended_a_number_must_exist", None) == {"R-SUB-1"}
    assert rule_ids("test_r_org_6_r_aud_1_a_sub_partner_sees", None) == {"R-ORG-6", "R-AUD-1"}
    assert rule_ids("test_r_cus_state_second_delete", "See R-ORG-6.") == {"R-CUS-STATE", "R-ORG-6"}


def test_the_rules_without_a_number_are_found_but_not_inside_other_words() -> None:
    assert rule_ids("test_r_billstart_today_is_accepted", None) == {"R-BILLSTART"}
    assert rule_ids("test_r_pre_reports_every_problem", "R-PRE and R-DIAL") == {"R-PRE", "R-DIAL"}
    assert rule_ids("test_r_present_value", "R-PRESENT, R-PRE-1") == {"R-PRE-1"}
