"""Trial device shipments as the API shows them (DOMAIN.md §10, R-TRI-7).

For the trials slice: `ShipmentInput` (StartTrialInput.shipments, TrialServicesInput.shipments; `.to_request()`
gives the domain's ShipmentRequest) and `trial_shipments(info, trial_id)` (the resolver of `Trial.shipments`, batched
over every trial of the response).
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.model.shipments import DeviceShipment
from domain.rules.shipments import ShipmentRequest
from domain.services import shipments
from resolvers.common import Node
from resolvers.context import Info
from resolvers.customers.mutations import AddressInput
from resolvers.enums import ShipmentStatus
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from resolvers.trials.types import TrialType


@strawberry.input
class ShipmentInput:
    device_type: str = strawberry.field(description="desk_phone, headset, room_kit or desk_pro (R-TRI-7).")
    quantity: int
    address: AddressInput

    def to_request(self) -> ShipmentRequest:
        return ShipmentRequest(self.device_type, self.quantity, self.address.to_model())


class ShipmentLoaders:
    """Per-request loaders: the shipments of a batch of trials in one query; shipments by id as the caller sees them."""

    def __init__(self, info: Info) -> None:
        self._info = info
        self.of_trial = DataLoader(self._of_trials)
        self.visible = DataLoader(self._visible)

    async def _of_trials(self, trial_ids: list[str]) -> list[list[DeviceShipment]]:
        return await shipments.shipments_of_trials(self._info.context.repos, trial_ids)

    async def _visible(self, ids: list[str]) -> list[DeviceShipment | None]:
        context = self._info.context
        return await shipments.visible_shipments(context.repos, await context.caller(), ids)


_LOADERS: weakref.WeakKeyDictionary[Loaders, ShipmentLoaders] = weakref.WeakKeyDictionary()


def shipment_loaders(info: Info) -> ShipmentLoaders:
    """The request's shipment loaders (made on first use, dropped with the request's other loaders)."""
    loaders = info.context.loaders
    found = _LOADERS.get(loaders)
    if found is None:
        found = _LOADERS[loaders] = ShipmentLoaders(info)
    return found


@strawberry.type(name="DeviceShipment")
class DeviceShipmentType(Node):
    model: strawberry.Private[DeviceShipment]
    id: strawberry.ID
    device_type: str
    quantity: int
    status: ShipmentStatus
    tracking_number: str | None = strawberry.field(description="\"D\" + 9 digits, set when shipped (R-TRI-7).")
    serial_numbers: list[str]
    shipped_at: datetime | None
    return_due_at: datetime | None = strawberry.field(
        description="The trial's device end + 14 days; null while the devices are in the trial (R-TRI-7).")
    returned_at: datetime | None

    @classmethod
    def of(cls, s: DeviceShipment) -> DeviceShipmentType:
        return cls(model=s, id=strawberry.ID(s.id), device_type=s.device_type, quantity=s.quantity, status=s.status,
                   tracking_number=s.tracking_number, serial_numbers=list(s.serial_numbers), shipped_at=s.shipped_at,
                   return_due_at=s.return_due_at, returned_at=s.returned_at)

    @strawberry.field(description="The trial the devices are for.")
    async def trial(self, info: Info) -> Annotated[TrialType, strawberry.lazy("resolvers.trials.types")]:
        from resolvers.trials.types import TrialType, trial_loaders

        trial = await trial_loaders(info).visible.load(self.model.trial_id)
        if trial is None:  # seeing the shipment is seeing its trial (same owner, same creator)
            trial = await shipments.trial_of(info.context.repos, self.model)
        return TrialType.of(trial)


async def trial_shipments(info: Info, trial_id: str) -> list[DeviceShipmentType]:
    """`Trial.shipments` (a trial the caller already sees): its shipments, oldest first."""
    return [DeviceShipmentType.of(s) for s in await shipment_loaders(info).of_trial.load(trial_id)]
