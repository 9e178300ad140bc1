"""`recordDeviceReturn` (R-TRI-7): platform_admin records a trial shipment back."""

from __future__ import annotations

import strawberry

from domain.services import shipments
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.shipments.types import DeviceShipmentType


@strawberry.type
class DeviceShipmentPayload:
    shipment: DeviceShipmentType | None
    errors: list[UserError]


@strawberry.type
class ShipmentMutations:
    @strawberry.mutation(description="platform_admin: the shipment came back with exactly these serial numbers "
                                     "(return_due | return_overdue → returned; SERIAL_MISMATCH), R-TRI-7.")
    @refused_as(DeviceShipmentPayload)
    async def record_device_return(self, info: Info, shipment_id: strawberry.ID,
                                   serial_numbers: list[str]) -> DeviceShipmentPayload:
        returned = await shipments.record_device_return(info.context.repos, await info.context.caller(), shipment_id,
                                                        serial_numbers)
        return DeviceShipmentPayload(shipment=DeviceShipmentType.of(returned), errors=[])
