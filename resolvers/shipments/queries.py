"""`deviceShipment(trackingNumber)` (R-TRI-7)."""

from __future__ import annotations

import strawberry

from domain.services import shipments
from resolvers.context import Info
from resolvers.shipments.types import DeviceShipmentType


@strawberry.type
class ShipmentQueries:
    @strawberry.field(description="A trial device shipment by its tracking number; null when there is none the caller "
                                  "may see (R-TRI-7, R-ORG-6). trials_read, or platform_admin.")
    async def device_shipment(self, info: Info, tracking_number: str) -> DeviceShipmentType | None:
        found = await shipments.shipment_by_tracking_number(info.context.repos, await info.context.caller(),
                                                            tracking_number)
        return DeviceShipmentType.of(found) if found is not None else None
