"""The background steps of orders (DOMAIN.md §12): the setup start at the requested date (R-ORD-STATE, R-ORD-2),
the one-day follow-up (R-ORD-3) and provisioning on the simulated Webex side (R-ORD-7). Each re-reads the order and
does nothing when the state or date it was made for has changed."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.entities import ProvisioningError
from domain.model.errors import DomainError
from domain.model.orders import Order, OrderStatus
from domain.rules.orders import follow_up_due, setup_starts_at
from domain.services import order_setup
from domain.services.orders import follow_up_email, save, start_setup
from domain.store.jobs import Job
from domain.store.repositories import Tx
from domain.workflows.common import Steps


@dataclass
class OrderSteps(Steps):
    async def _order(self, tx: Tx, order_id: str) -> Order | None:
        doc = await self.repos.orders.find_doc(order_id, session=tx.session)
        return Order.from_doc(doc) if doc is not None else None

    async def setup_start(self, job: Job) -> None:
        """R-ORD-STATE: placed -> awaiting_setup at the requested start date's 00:00 UTC, with the setup email."""
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)
            order = await self._order(tx, job.entity_id)
            if order is not None and order.status is OrderStatus.PLACED and \
                    setup_starts_at(order.requested_start_date) <= tx.now:
                await save(self.repos, tx, order, await start_setup(self.repos, tx, order))

        await self.repos.atomic(write)

    async def follow_up(self, job: Job) -> None:
        """R-ORD-3: not provisioning by the follow-up time -> once, ORDER_SETUP_FOLLOW_UP; `followUpSent`."""
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)
            order = await self._order(tx, job.entity_id)
            if order is not None and follow_up_due(order, tx.now):
                changed = order.updated(follow_up_sent=True)
                await save(self.repos, tx, order, changed)
                tx.record(changed.change(order.status, reason="setup follow-up sent"))
                await follow_up_email(self.repos, tx, changed)

        await self.repos.atomic(write)

    async def provision(self, job: Job) -> None:
        """R-ORD-7: a provisioning order becomes active (org, services, access, billing) or, failing, error."""
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)
            order = await self._order(tx, job.entity_id)
            if order is not None and order.status is OrderStatus.PROVISIONING:
                await save(self.repos, tx, order, await order_setup.provision(self.repos, tx, order))

        try:
            await self.repos.atomic(write)
        except DomainError as e:
            failure = ProvisioningError(code=e.errors[0].code.value, message=e.errors[0].message[:500])
            await self._fail(job, failure)

    async def give_up(self, job: Job, error: str) -> None:
        await self._fail(job, ProvisioningError(code="INTERNAL", message=f"provisioning failed: {error}"[:500]))

    async def _fail(self, job: Job, failure: ProvisioningError) -> None:
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)
            order = await self._order(tx, job.entity_id)
            if order is not None and order.status is OrderStatus.PROVISIONING:
                await save(self.repos, tx, order, await order_setup.fail(self.repos, tx, order, failure))

        await self.repos.atomic(write)
