"""Device shipments of resale trials (DOMAIN.md §10, R-TRI-7): trial devices sent to a customer and sent back.

A trial with `DEVICES` asks for at most one shipment per device type, ever. The simulated logistics side ships a
`requested` shipment in the background (tracking number "D" + 9 digits, serial numbers), then delivers it. When the
trial's devices end (the first of its `endsAt`, its conversion, its deletion, the removal of `DEVICES`) every
shipment still out becomes `return_due`, due back 14 days later, and `return_overdue` after that; the platform
records the return of the very serials that were shipped.

Usage for other slices (trials, orders): `domain.services.shipments.request_shipments(repos, tx, trial, inputs)`
inside the trial's transaction; `domain.services.shipments.start_returns(repos, tx, trial_id, at)` when its devices
end; `domain.rules.shipments.device_trial_cap(started_at)` for the 120-day cap of extensions.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from pydantic import Field

from domain.model.changes import Change, EntityType
from domain.model.entities import Address, _Entity
from domain.model.status import require_move


class ShipmentStatus(str, Enum):
    REQUESTED = "requested"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_DUE = "return_due"
    RETURNED = "returned"
    RETURN_OVERDUE = "return_overdue"


_S = ShipmentStatus
# R-TRI-7: requested → shipped → delivered → return_due → returned | return_overdue → returned.
SHIPMENT: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    _S.REQUESTED: frozenset({_S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset({_S.RETURN_DUE}),
    _S.RETURN_DUE: frozenset({_S.RETURNED, _S.RETURN_OVERDUE}),
    _S.RETURN_OVERDUE: frozenset({_S.RETURNED}),
    _S.RETURNED: frozenset(),
}

# The states in which the platform may record a return (R-TRI-7).
RETURNABLE: frozenset[ShipmentStatus] = frozenset({_S.RETURN_DUE, _S.RETURN_OVERDUE})


class ShipmentTrial(Protocol):
    """What the shipments need of a trial (the trials slice's `Trial` has these)."""

    @property
    def id(self) -> str: ...

    @property
    def owner_org_id(self) -> str: ...

    @property
    def root_org_id(self) -> str: ...

    @property
    def created_by(self) -> str: ...


class DeviceShipment(_Entity):
    trial_id: str = Field(alias="trialId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    # The trial's creator: a sales_admin sees only the shipments of the trials it created (R-TRI-2).
    created_by: str = Field(alias="createdBy")
    device_type: str = Field(alias="deviceType")
    quantity: int
    address: Address
    status: ShipmentStatus
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    serial_numbers: list[str] = Field(default_factory=list, alias="serialNumbers")
    shipped_at: datetime | None = Field(default=None, alias="shippedAt")
    delivered_at: datetime | None = Field(default=None, alias="deliveredAt")
    # When the trial's devices ended (R-TRI-7); the return is due 14 days later.
    device_end_at: datetime | None = Field(default=None, alias="deviceEndAt")
    return_due_at: datetime | None = Field(default=None, alias="returnDueAt")
    returned_at: datetime | None = Field(default=None, alias="returnedAt")
    version: int
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    def to_doc(self) -> dict[str, Any]:
        doc = super().to_doc()
        if doc["trackingNumber"] is None:  # unique sparse index: only shipped ones have one
            del doc["trackingNumber"]
        return doc

    def move(self, to: ShipmentStatus, at: datetime, *, reason: str | None = None,
             **fields: Any) -> tuple[DeviceShipment, Change]:
        """The one way a shipment changes status: checked against R-TRI-7's machine, version bumped, stamped,
        `fields` applied; with its DEVICE_SHIPMENT event."""
        require_move(SHIPMENT, self.status, to, "device shipment")
        moved = self.model_copy(update={**fields, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def revised(self, **fields: Any) -> DeviceShipment:
        """A change that is not a status move (the device end noted on a shipment still out)."""
        return self.model_copy(update={**fields, "version": self.version + 1})

    def change(self, from_status: ShipmentStatus | None, *, reason: str | None = None) -> Change:
        details: dict[str, Any] = {"trialId": self.trial_id, "deviceType": self.device_type,
                                   "quantity": self.quantity, "createdBy": self.created_by}
        if self.tracking_number:
            details["trackingNumber"] = self.tracking_number
        return Change(EntityType.DEVICE_SHIPMENT, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      reason=reason, details=details)
