"""The rules of trial device shipments (DOMAIN.md §10, R-TRI-7): pure functions of the request and facts loaded.

- a shipment names a device type of the data table (domain.rules.resale.DEVICE_TYPES; UNKNOWN_DEVICE_TYPE), a
  quantity and a postal address; one per device type per trial, ever (SHIPMENT_EXISTS);
- the simulated logistics side ships a `requested` shipment after `SHIP_AFTER` (seconds: the demo shows it) with a
  tracking number "D" + 9 digits and one serial number per device, and delivers it `DELIVERY_TIME` later;
- the trial's devices end at the first of its `endsAt`, conversion, deletion or the removal of `DEVICES`; what is
  out is then due back within `RETURN_WINDOW` (14 days), and overdue after;
- the platform records a return with exactly the serials shipped (SERIAL_MISMATCH);
- a `DEVICES` trial lasts at most 120 days from `startedAt` (`device_trial_cap`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.entities import Address
from domain.model.errors import ErrorCode
from domain.model.shipments import RETURNABLE, DeviceShipment, ShipmentStatus
from domain.model.trials import DEVICE_TRIAL_MAX, TrialStatus
from domain.rules.resale import check_device_type
from domain.rules.validation import Problems

SHIP_AFTER = timedelta(seconds=5)  # the simulated logistics side picks a requested shipment up (decision)
DELIVERY_TIME = timedelta(days=2)  # from shipped to delivered (decision)
RETURN_WINDOW = timedelta(days=14)  # R-TRI-7: device end + 14 days, then overdue
MAX_QUANTITY = 25  # devices of one type in one trial (decision)
MAX_WAIT = timedelta(hours=1)  # the longest pause between two looks at a trial that has not started yet
# Devices go out once the trial runs (decision): while it waits for consent or provisioning, the logistics side waits.
WAITING_TRIAL: frozenset[TrialStatus] = frozenset({TrialStatus.PENDING_CUSTOMER_CONSENT,
                                                   TrialStatus.PENDING_PROVISIONING_DETAILS})
TRACKING_NUMBER = re.compile(r"^D[0-9]{9}$")
SERIAL_MAX_LENGTH = 40


@dataclass(frozen=True)
class ShipmentRequest:
    """One `ShipmentInput`: devices of one type to one address."""

    device_type: str
    quantity: int
    address: Address


def shipment_problems(requests: Sequence[ShipmentRequest], already: frozenset[str], problems: Problems,
                      *prefix: str) -> list[ShipmentRequest]:
    """R-TRI-7: every problem of the shipments asked for (field paths under `prefix`, e.g. input.shipments), added to
    `problems`; returns the requests with their device types normalised. `already`: the trial's shipped types."""
    cleaned: list[ShipmentRequest] = []
    seen: set[str] = set(already)
    for i, request in enumerate(requests):
        path = (*prefix, str(i))
        device_type = check_device_type(problems, request.device_type, *path, "deviceType")
        if device_type is not None:
            if device_type in seen:
                problems.add(ErrorCode.SHIPMENT_EXISTS, f"the trial already has a `{device_type}` shipment: one per "
                             "device type per trial", *path, "deviceType")
            seen.add(device_type)
        if not 1 <= request.quantity <= MAX_QUANTITY:
            problems.add(ErrorCode.VALIDATION_FAILED, f"`quantity` must be 1 to {MAX_QUANTITY}", *path, "quantity")
        problems.address(request.address, *path, "address")
        cleaned.append(ShipmentRequest(device_type or request.device_type, request.quantity, request.address))
    return cleaned


def is_tracking_number(value: str) -> bool:
    return bool(TRACKING_NUMBER.match(value))


def tracking_number(digits: int) -> str:
    """The tracking number of a random 0 ≤ `digits` < 10⁹: "D" + 9 digits."""
    return f"D{digits % 1_000_000_000:09d}"


def serial_numbers(device_type: str, tokens: Sequence[str]) -> list[str]:
    """One serial per device, from random tokens (the model's prefix, then the token upper-cased)."""
    prefix = {"desk_phone": "FCH", "headset": "HS", "room_kit": "FOC", "desk_pro": "FDP"}.get(device_type, "DEV")
    return [f"{prefix}{token.upper()}" for token in tokens]


def device_trial_cap(started_at: datetime) -> datetime:
    """R-TRI-7/8: the latest `endsAt` of a trial with DEVICES."""
    return started_at + DEVICE_TRIAL_MAX


def capped_ends_at(proposed: datetime, started_at: datetime | None, has_devices: bool) -> datetime:
    """R-TRI-8: an extension's `endsAt`, held to the device cap when the trial has DEVICES."""
    if not has_devices or started_at is None:
        return proposed
    return min(proposed, device_trial_cap(started_at))


def return_due_at(device_end: datetime) -> datetime:
    return device_end + RETURN_WINDOW


def ends_devices(shipment: DeviceShipment) -> bool:
    """Whether the devices' end concerns this shipment: it is out (or about to be) and its end is not noted yet."""
    return shipment.device_end_at is None and shipment.status is not ShipmentStatus.RETURNED


def due_now(shipment: DeviceShipment) -> bool:
    """A delivered shipment whose devices ended: it becomes `return_due` (at delivery, or at the device end)."""
    return shipment.status is ShipmentStatus.DELIVERED and shipment.device_end_at is not None


def is_overdue(shipment: DeviceShipment, now: datetime) -> bool:
    """R-TRI-7: still not back at device end + 14 days."""
    return (shipment.status is ShipmentStatus.RETURN_DUE and shipment.return_due_at is not None
            and now >= shipment.return_due_at)


def ships(shipment: DeviceShipment) -> bool:
    """The logistics side ships a requested shipment unless the trial's devices ended first (decision: it stays
    `requested`, never sent)."""
    return shipment.status is ShipmentStatus.REQUESTED and shipment.device_end_at is None


def ships_for(trial_status: TrialStatus) -> bool | None:
    """Whether the devices of a trial in this status go out now (True), later (None: it has not started yet) or
    never (False: it ended without them, e.g. consent declined)."""
    if trial_status in WAITING_TRIAL:
        return None
    return trial_status is TrialStatus.ACTIVE


def wait_before_shipping(attempts: int) -> timedelta:
    """How long the logistics side waits before looking at a trial that has not started again: doubling, ≤ 1 h."""
    factor: int = 2 ** min(max(attempts - 1, 0), 20)
    return min(SHIP_AFTER * factor, MAX_WAIT)


def normalise_serial(value: str) -> str:
    return value.strip().upper()


def return_problems(shipment: DeviceShipment | None, serials: Sequence[str]) -> Problems:
    """R-TRI-7: a return is recorded for a shipment due back, with exactly the serials shipped (any order/case)."""
    problems = Problems()
    if shipment is None:
        problems.add(ErrorCode.NOT_FOUND, "no device shipment has this id", "shipmentId")
        return problems
    if shipment.status not in RETURNABLE:
        problems.add(ErrorCode.INVALID_STATE, f"the shipment is `{shipment.status.value}`: a return is recorded once "
                     "it is return_due or return_overdue", "shipmentId")
        return problems
    given = sorted(normalise_serial(s) for s in serials)
    if any(len(s) > SERIAL_MAX_LENGTH for s in given) or given != sorted(shipment.serial_numbers):
        problems.add(ErrorCode.SERIAL_MISMATCH, f"the serial numbers must be exactly the {len(shipment.serial_numbers)}"
                     " shipped", "serialNumbers")
    return problems
