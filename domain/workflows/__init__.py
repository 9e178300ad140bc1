"""The background steps, one module per entity: what each kind of job does when the worker runs it.

- `customers`: screening, provisioning on the Webex side, the review and compliance timers, deletion;
- `subscribers`: assignment, consent of existing free accounts, removal;
- `billing`: generating a report's rows, discarding a deleted report's;
- `maintenance`: the retention of the events outbox.

`Workflows` puts them together for the worker: a handler per job kind, and what happens to an entity whose job
kept failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.model.entities import ProvisioningError
from domain.model.jobs import JobKind
from domain.store.engine import Engine
from domain.store.jobs import GiveUp, Handler, Job, JobQueue
from domain.store.repositories import Repositories
from domain.workflows.batches import BatchJobs
from domain.workflows.billing import BillingJobs
from domain.workflows.customers import CustomerSteps
from domain.workflows.maintenance import DEFAULT_RETENTION, EventRetention
from domain.workflows.orders import OrderSteps
from domain.workflows.settings import SettingsSteps
from domain.workflows.shipments import ShipmentSteps
from domain.workflows.subscribers import SubscriberSteps
from domain.workflows.trials import TrialSteps
from domain.workflows.workspaces import WorkspaceSteps


@dataclass
class Workflows:
    repos: Repositories
    queue: JobQueue
    engine: Engine
    retention_period: timedelta = DEFAULT_RETENTION
    customers: CustomerSteps = field(init=False)
    subscribers: SubscriberSteps = field(init=False)
    workspaces: WorkspaceSteps = field(init=False)
    billing: BillingJobs = field(init=False)
    batches: BatchJobs = field(init=False)
    retention: EventRetention = field(init=False)
    settings: SettingsSteps = field(init=False)
    shipments: ShipmentSteps = field(init=False)  # R-TRI-7
    orders: OrderSteps = field(init=False)  # R-ORD
    trials: TrialSteps = field(init=False)  # R-TRI

    def __post_init__(self) -> None:
        self.customers = CustomerSteps(self.repos, self.queue, self.engine)
        self.subscribers = SubscriberSteps(self.repos, self.queue, self.engine)
        self.workspaces = WorkspaceSteps(self.repos, self.queue, self.engine)
        self.billing = BillingJobs(self.repos, self.queue)
        self.batches = BatchJobs(self.repos, self.queue)
        self.retention = EventRetention(self.repos, self.queue, self.retention_period)
        self.settings = SettingsSteps(self.repos, self.queue, self.engine)
        self.shipments = ShipmentSteps(self.repos, self.queue)
        self.orders = OrderSteps(self.repos, self.queue)
        self.trials = TrialSteps(self.repos, self.queue)

    def handlers(self) -> dict[str, Handler]:
        return {
            JobKind.SETTLE_CUSTOMER: self.customers.settle,
            JobKind.SETTLE_SUBSCRIBER: self.subscribers.settle,
            JobKind.SUBSCRIBER_MIGRATION: self.subscribers.settle,
            JobKind.SETTLE_WORKSPACE: self.workspaces.settle,
            JobKind.RPL_REVIEW_TIMEOUT: self.customers.review_timeout,
            JobKind.COMPLIANCE_DEADLINE: self.customers.compliance_deadline,
            JobKind.ATTACH_APPROVAL_TIMEOUT: self.customers.attach_timeout,
            JobKind.PURGE_EVENTS: self.retention.run,
            JobKind.RUN_BATCH: self.batches.run,
            JobKind.PUSH_CUSTOMER_SETTINGS: self.settings.push,
            JobKind.SHIPMENT_LOGISTICS: self.shipments.logistics,
            JobKind.SHIPMENT_RETURN_OVERDUE: self.shipments.return_overdue,
            JobKind.ORDER_SETUP_START: self.orders.setup_start,
            JobKind.ORDER_FOLLOW_UP: self.orders.follow_up,
            JobKind.PROVISION_ORDER: self.orders.provision,
            JobKind.PROVISION_TRIAL: self.trials.provision,
            JobKind.TRIAL_TIMER: self.trials.timer,
            **self.billing.handlers(),
        }

    def give_ups(self) -> dict[str, GiveUp]:
        """The jobs whose entity ends in `error` once they kept failing; timers keep retrying instead."""
        return {JobKind.SETTLE_CUSTOMER: self._give_up, JobKind.SETTLE_SUBSCRIBER: self._give_up,
                JobKind.SUBSCRIBER_MIGRATION: self._give_up, JobKind.SETTLE_WORKSPACE: self._give_up_workspace,
                JobKind.RUN_BATCH: self.batches.give_up, JobKind.PROVISION_ORDER: self.orders.give_up,
                **self.billing.give_ups()}

    async def _give_up_workspace(self, job: Job, error: str) -> None:
        failure = ProvisioningError(code="INTERNAL", message=f"provisioning failed repeatedly: {error}"[:500])
        await self.workspaces.give_up(job, failure)

    async def _give_up(self, job: Job, error: str) -> None:
        failure = ProvisioningError(code="INTERNAL", message=f"provisioning failed repeatedly: {error}"[:500])
        if job.kind == JobKind.SETTLE_CUSTOMER:
            await self.customers.give_up(job, failure)
        else:
            await self.subscribers.give_up(job, failure)
