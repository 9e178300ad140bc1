"""The background half of a trial device shipment (R-TRI-7): the simulated logistics side ships and delivers it; the
return timer makes it overdue.

Each step re-reads the shipment and acts on its current state (the job only says "look at it now"), so a step run
twice, or run after the trial's devices ended, does no harm.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.model.jobs import ShipmentLogistics, ShipmentReturnOverdue
from domain.model.notifications import NotificationKind
from domain.model.shipments import DeviceShipment, ShipmentStatus
from domain.model.trials import Trial
from domain.rules.shipments import (
    DELIVERY_TIME,
    due_now,
    is_overdue,
    serial_numbers,
    ships,
    ships_for,
    tracking_number,
    wait_before_shipping,
)
from domain.services.shipments import notice_facts, notify_shipment
from domain.store.driver import DuplicateKey
from domain.store.jobs import Job, Retry
from domain.store.repositories import Tx
from domain.workflows.common import Steps

COLLISION_RETRY = timedelta(seconds=1)


@dataclass
class ShipmentSteps(Steps):
    async def logistics(self, job: Job) -> None:
        """Ship a requested shipment (tracking number, serials, DEVICE_SHIPPED), or deliver a shipped one (due back
        at once when the trial's devices already ended)."""
        doc = await self.repos.shipments.find_doc(job.entity_id)
        current = DeviceShipment.from_doc(doc) if doc is not None else None
        if current is None or not (ships(current) or current.status is ShipmentStatus.SHIPPED):
            return await self.finish_only(job)
        if ships(current):
            trial_doc = await self.repos.trials.find_doc(current.trial_id)
            go = ships_for(Trial.from_doc(trial_doc).status) if trial_doc is not None else False
            if go is None:
                raise Retry("waiting for the trial to start", wait_before_shipping(job.attempts), waiting_for="trial")
            if not go:  # the trial ended before it ran: the devices are not sent
                return await self.finish_only(job)
        digits = secrets.randbelow(1_000_000_000)
        tokens = [secrets.token_hex(4) for _ in range(current.quantity)]

        async def write(tx: Tx) -> None:
            fresh_doc = await self.repos.shipments.find_doc(job.entity_id, session=tx.session)
            shipment = DeviceShipment.from_doc(fresh_doc) if fresh_doc is not None else None
            if shipment is not None and ships(shipment):
                await self._ship(tx, shipment, tracking_number(digits), serial_numbers(shipment.device_type, tokens))
            elif shipment is not None and shipment.status is ShipmentStatus.SHIPPED:
                await self._deliver(tx, shipment)
            await self.queue.finish(tx, job)

        try:
            await self.repos.atomic(write)
        except DuplicateKey as exc:  # another shipment has this tracking number: draw again
            raise Retry("tracking number already in use", COLLISION_RETRY) from exc
        return None

    async def _ship(self, tx: Tx, shipment: DeviceShipment, tracking: str, serials: list[str]) -> None:
        shipped, change = shipment.move(ShipmentStatus.SHIPPED, tx.now, reason="shipped", tracking_number=tracking,
                                        serial_numbers=serials, shipped_at=tx.now)
        await self.repos.shipments.replace(shipped.to_doc(), expected_version=shipment.version, session=tx.session)
        tx.record(change)
        await tx.enqueue(ShipmentLogistics(shipped.id, shipped.version, tx.now + DELIVERY_TIME))
        owner, trial, org = await notice_facts(self.repos, shipped, session=tx.session)
        await notify_shipment(tx, NotificationKind.DEVICE_SHIPPED, shipped, owner, trial, org)

    async def _deliver(self, tx: Tx, shipment: DeviceShipment) -> None:
        delivered, change = shipment.move(ShipmentStatus.DELIVERED, tx.now, reason="delivered", delivered_at=tx.now)
        tx.record(change)
        if due_now(delivered):  # the devices ended while it was on its way: due back from that end
            delivered, change = delivered.move(ShipmentStatus.RETURN_DUE, tx.now, reason="the trial's devices ended")
            tx.record(change)
            await tx.enqueue(ShipmentReturnOverdue(delivered.id, delivered.return_due_at or tx.now))
        await self.repos.shipments.replace(delivered.to_doc(), expected_version=shipment.version, session=tx.session)

    async def return_overdue(self, job: Job) -> None:
        """R-TRI-7: not back at device end + 14 days → return_overdue, DEVICE_RETURN_OVERDUE to partner admins."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.shipments.find_doc(job.entity_id, session=tx.session)
            shipment = DeviceShipment.from_doc(doc) if doc is not None else None
            if shipment is not None and is_overdue(shipment, tx.now):
                overdue, change = shipment.move(ShipmentStatus.RETURN_OVERDUE, tx.now, reason="not returned in time")
                await self.repos.shipments.replace(overdue.to_doc(), expected_version=shipment.version,
                                                   session=tx.session)
                tx.record(change)
                owner, trial, org = await notice_facts(self.repos, overdue, session=tx.session)
                await notify_shipment(tx, NotificationKind.DEVICE_RETURN_OVERDUE, overdue, owner, trial, org)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
