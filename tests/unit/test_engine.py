"""The simulated Webex side: fault rules and what each fault does."""

from __future__ import annotations

import pytest

from domain.store.engine import Engine, Fault, FaultRule, OrgCreationFailed, TemporaryFailure, parse_fault_rules
from gateway.settings import SettingsError, load_settings


def test_fault_rules_parse_with_an_optional_external_id_prefix() -> None:
    assert parse_fault_rules(" calling_maintenance, org_create_failure:EXT-9 ,") == [
        FaultRule(Fault.CALLING_MAINTENANCE), FaultRule(Fault.ORG_CREATE_FAILURE, "EXT-9")]
    assert parse_fault_rules("") == []


def test_an_unknown_fault_is_a_settings_error_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"GATEWAY_ENGINE_FAULTS.*power_outage"):
        load_settings(engine_faults="power_outage")


async def test_calling_maintenance_fails_calling_packages_with_webex_code_2560() -> None:
    engine = Engine(0, [FaultRule(Fault.CALLING_MAINTENANCE, "EXT-")])
    failed = await engine.assign_package("cus_1", "EXT-1", "webex_calling")
    assert failed is not None and failed.code == "2560"
    assert await engine.assign_package("cus_1", "EXT-1", "webex_meetings") is None  # not a calling package
    assert await engine.assign_package("cus_2", "OTHER-1", "webex_calling") is None  # the rule's prefix only


async def test_the_org_id_is_the_same_on_every_retry() -> None:
    engine = Engine(0)
    assert await engine.create_org("cus_1", "X") == await engine.create_org("cus_1", "X")
    assert await engine.create_org("cus_1", "X") != await engine.create_org("cus_2", "X")


async def test_org_creation_failure_and_temporary_failures() -> None:
    engine = Engine(0, [FaultRule(Fault.ORG_CREATE_FAILURE, "BAD-"), FaultRule(Fault.TRANSIENT, "FLAKY-")])
    with pytest.raises(OrgCreationFailed):
        await engine.create_org("cus_1", "BAD-1")
    with pytest.raises(TemporaryFailure):
        await engine.create_org("cus_2", "FLAKY-1")
    assert await engine.create_org("cus_2", "FLAKY-1")  # a temporary failure happens once per step
