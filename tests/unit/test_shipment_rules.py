"""R-TRI-7 device shipments as pure rules: what may be asked for, the machine, returns and the 120-day cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.changes import EntityType
from domain.model.entities import Address
from domain.model.errors import DomainError, ErrorCode
from domain.model.shipments import DeviceShipment, ShipmentStatus
from domain.model.trials import TrialStatus
from domain.rules.shipments import (
    MAX_QUANTITY,
    ShipmentRequest,
    capped_ends_at,
    device_trial_cap,
    due_now,
    ends_devices,
    is_overdue,
    is_tracking_number,
    return_due_at,
    return_problems,
    serial_numbers,
    shipment_problems,
    ships,
    ships_for,
    tracking_number,
    wait_before_shipping,
)
from domain.rules.validation import Problems

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
ADDRESS = Address(address_line1="1 Fjord Road", city="Bergen", country="NO")


def shipment(status: ShipmentStatus = ShipmentStatus.REQUESTED, **fields: object) -> DeviceShipment:
    values: dict[str, object] = {
        "_id": "shp_1", "trialId": "trl_1", "ownerOrgId": "ptn_a", "rootOrgId": "ptn_a", "createdBy": "sales@a",
        "deviceType": "headset", "quantity": 2, "address": ADDRESS, "status": status, "version": 1,
        "createdAt": NOW, "lastStatusChange": NOW, **fields}
    return DeviceShipment.model_validate(values)


def codes(problems: Problems) -> list[tuple[str, tuple[str, ...] | None]]:
    return [(p.code.value, p.field) for p in problems.items]


def test_r_tri_7_device_types_come_from_the_table_one_shipment_per_type_per_trial_ever() -> None:
    problems = Problems()
    cleaned = shipment_problems([
        ShipmentRequest(" Desk_Phone ", 3, ADDRESS),  # any case: normalised
        ShipmentRequest("toaster", 1, ADDRESS),  # not in the table
        ShipmentRequest("headset", 1, ADDRESS),  # the trial already had one
        ShipmentRequest("desk_phone", 1, ADDRESS),  # twice in one request
        ShipmentRequest("room_kit", MAX_QUANTITY + 1, Address(address_line1="", city="Oslo", country="XX")),
    ], frozenset({"headset"}), problems, "input", "shipments")
    assert codes(problems) == [
        ("UNKNOWN_DEVICE_TYPE", ("input", "shipments", "1", "deviceType")),
        ("SHIPMENT_EXISTS", ("input", "shipments", "2", "deviceType")),
        ("SHIPMENT_EXISTS", ("input", "shipments", "3", "deviceType")),
        ("VALIDATION_FAILED", ("input", "shipments", "4", "quantity")),
        ("REQUIRED", ("input", "shipments", "4", "address", "addressLine1")),
        ("INVALID_COUNTRY", ("input", "shipments", "4", "address", "country")),
    ]
    assert cleaned[0].device_type == "desk_phone"
    fine = Problems()
    shipment_problems([ShipmentRequest("desk_pro", 1, ADDRESS)], frozenset({"headset"}), fine, "shipments")
    assert fine.items == []


def test_r_tri_7_shipment_machine_requested_shipped_delivered_return_due_returned_or_overdue() -> None:
    s = shipment()
    shipped, change = s.move(ShipmentStatus.SHIPPED, NOW, tracking_number="D000000042", serial_numbers=["HSA", "HSB"])
    assert (shipped.version, change.entity_type, change.from_status, change.to_status) == (
        2, EntityType.DEVICE_SHIPMENT, "requested", "shipped")
    assert change.details["trackingNumber"] == "D000000042" and change.details["trialId"] == "trl_1"
    with pytest.raises(DomainError) as refused:
        shipped.move(ShipmentStatus.RETURNED, NOW)  # not before it is due back
    assert refused.value.errors[0].code is ErrorCode.INVALID_STATE
    delivered, _ = shipped.move(ShipmentStatus.DELIVERED, NOW)
    due, _ = delivered.move(ShipmentStatus.RETURN_DUE, NOW)
    overdue, _ = due.move(ShipmentStatus.RETURN_OVERDUE, NOW)
    back, change = overdue.move(ShipmentStatus.RETURNED, NOW)
    assert (back.status, back.version, change.from_status) == (ShipmentStatus.RETURNED, 6, "return_overdue")
    assert "trackingNumber" not in s.to_doc() and shipped.to_doc()["trackingNumber"] == "D000000042"


def test_r_tri_7_tracking_numbers_are_d_and_nine_digits_serials_one_per_device() -> None:
    assert tracking_number(42) == "D000000042" and tracking_number(999_999_999) == "D999999999"
    assert is_tracking_number("D123456789") and not is_tracking_number("D12345678")
    assert not is_tracking_number("X123456789")
    assert serial_numbers("headset", ["ab12cd34", "ffee0011"]) == ["HSAB12CD34", "HSFFEE0011"]


def test_r_tri_7_device_end_makes_what_is_out_due_back_in_14_days_then_overdue() -> None:
    end = NOW + timedelta(days=30)
    assert return_due_at(end) == end + timedelta(days=14)
    assert ends_devices(shipment(ShipmentStatus.DELIVERED))
    assert not ends_devices(shipment(ShipmentStatus.DELIVERED, deviceEndAt=end))  # noted once: due date kept
    assert not ends_devices(shipment(ShipmentStatus.RETURNED))
    assert due_now(shipment(ShipmentStatus.DELIVERED, deviceEndAt=end))
    assert not due_now(shipment(ShipmentStatus.SHIPPED, deviceEndAt=end))  # due once it is delivered
    # A shipment not sent before the devices ended is never sent.
    assert ships(shipment()) and not ships(shipment(deviceEndAt=end))
    due = shipment(ShipmentStatus.RETURN_DUE, deviceEndAt=end, returnDueAt=return_due_at(end))
    assert not is_overdue(due, return_due_at(end) - timedelta(seconds=1))
    assert is_overdue(due, return_due_at(end))


def test_r_tri_7_a_return_names_exactly_the_serials_shipped() -> None:
    due = shipment(ShipmentStatus.RETURN_DUE, serialNumbers=["HSA1", "HSB2"])
    assert return_problems(due, [" hsb2", "HSA1"]).items == []  # any order, any case
    assert codes(return_problems(due, ["HSA1"])) == [("SERIAL_MISMATCH", ("serialNumbers",))]
    assert codes(return_problems(due, ["HSA1", "HSB2", "HSC3"])) == [("SERIAL_MISMATCH", ("serialNumbers",))]
    assert codes(return_problems(due.model_copy(update={"status": ShipmentStatus.DELIVERED}), ["HSA1", "HSB2"])) == [
        ("INVALID_STATE", ("shipmentId",))]
    assert codes(return_problems(None, [])) == [("NOT_FOUND", ("shipmentId",))]
    overdue = due.model_copy(update={"status": ShipmentStatus.RETURN_OVERDUE})
    assert return_problems(overdue, ["HSA1", "HSB2"]).items == []


def test_r_tri_7_a_devices_trial_lasts_at_most_120_days_from_its_start() -> None:
    started = NOW - timedelta(days=100)
    assert device_trial_cap(started) == started + timedelta(days=120)
    assert capped_ends_at(NOW + timedelta(days=30), started, has_devices=True) == started + timedelta(days=120)
    assert capped_ends_at(NOW + timedelta(days=30), started, has_devices=False) == NOW + timedelta(days=30)
    assert capped_ends_at(NOW + timedelta(days=10), started, has_devices=True) == NOW + timedelta(days=10)


def test_r_tri_7_devices_go_out_once_the_trial_runs_never_for_one_that_ended_without_them() -> None:
    assert ships_for(TrialStatus.ACTIVE) is True
    assert ships_for(TrialStatus.PENDING_CUSTOMER_CONSENT) is None  # waits (consent may take days)
    assert ships_for(TrialStatus.PENDING_PROVISIONING_DETAILS) is None
    assert ships_for(TrialStatus.CANCELLED) is False and ships_for(TrialStatus.ERROR) is False
    assert [wait_before_shipping(n) for n in (1, 2, 3)] == [timedelta(seconds=5), timedelta(seconds=10),
                                                            timedelta(seconds=20)]
    assert wait_before_shipping(40) == timedelta(hours=1)
