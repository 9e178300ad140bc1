"""Storage of each entity over MongoDB; the only place that writes Mongo queries."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pymongo import ReturnDocument

from domain.model.changes import Change
from domain.model.clock import Clock
from domain.model.jobs import JobCommand
from domain.model.notifications import Notification
from domain.rules.notifications import outbox_documents
from domain.store.driver import Database, Session
from domain.store.repositories.accounts import AccountRepository
from domain.store.repositories.batches import (
    BatchRowRepository,
    IdempotencyKeyRepository,
    SubscriberBatchRepository,
    UploadRepository,
)
from domain.store.repositories.billing import BillingReportRepository, BillingRowRepository, UsageRepository
from domain.store.repositories.customer_orgs import (
    CustomerOrgRepository,
    NameClaimRepository,
    OrgMemberRepository,
)
from domain.store.repositories.customers import CustomerRepository
from domain.store.repositories.events import COUNTERS, EVENT_COUNTER_ID, EVENTS, EventRepository
from domain.store.repositories.jobs import JobDocuments
from domain.store.repositories.locations import LocationRepository
from domain.store.repositories.notifications import NotificationRepository
from domain.store.repositories.orders import OrderRepository
from domain.store.repositories.org_directory import OrgDirectoryRepository
from domain.store.repositories.partners import PartnerRepository
from domain.store.repositories.rpl import RplRepository
from domain.store.repositories.setup_assist import SetupAssistRepository
from domain.store.repositories.shipments import ShipmentRepository
from domain.store.repositories.subscribers import SubscriberRepository
from domain.store.repositories.templates import TemplateRepository
from domain.store.repositories.trials import TrialRepository
from domain.store.repositories.webhooks import WebhookDeliveryRepository, WebhookEndpointRepository
from domain.store.repositories.workspaces import WorkspaceRepository
from domain.store.webhooks import AddressGuard

T = TypeVar("T")


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Tx:
    """A unit of work: an open transaction, its time, and what it records to commit with it.

    Changes become events at the commit (R-EVT-1); jobs are written at once, in the same transaction.
    """

    session: Session
    now: datetime
    jobs: JobDocuments
    changes: list[Change] = field(default_factory=list)
    # The email outbox (R-NOT-1); set by `Repositories.atomic`.
    outbox: NotificationRepository | None = None

    def record(self, change: Change) -> None:
        self.changes.append(change)

    async def enqueue(self, command: JobCommand) -> None:
        """Store the command's job with this transaction (an id that already exists is left as it is)."""
        await self.jobs.enqueue(command, self.now, self.session)

    async def notify(self, notification: Notification) -> None:
        """Write an email to the outbox with this transaction (R-NOT-1); the same occasion again writes nothing."""
        assert self.outbox is not None, "a unit of work made outside Repositories.atomic cannot send mail"
        for doc in outbox_documents(notification, self.now):
            await self.outbox.add(doc, session=self.session)

    async def cancel(self, job_id: str) -> None:
        await self.jobs.cancel(job_id, self.session)

    async def release_waiting(self, entity_id: str) -> None:
        """Make the jobs parked until `entity_id` settles due now (R-RPL-5)."""
        await self.jobs.release_waiting(entity_id, self.now, self.session)


@dataclass
class Repositories:
    db: Database
    clock: Clock
    partners: PartnerRepository
    templates: TemplateRepository
    customers: CustomerRepository
    locations: LocationRepository
    subscribers: SubscriberRepository
    rpl: RplRepository
    events: EventRepository
    billing_reports: BillingReportRepository
    billing_rows: BillingRowRepository
    usage: UsageRepository
    accounts: AccountRepository
    jobs: JobDocuments
    setup_assist: SetupAssistRepository  # R-SA
    workspaces: WorkspaceRepository
    org_directory: OrgDirectoryRepository
    batches: SubscriberBatchRepository  # R-BULK
    batch_rows: BatchRowRepository
    uploads: UploadRepository
    idempotency_keys: IdempotencyKeyRepository
    notifications: NotificationRepository  # R-NOT-1 the email outbox
    customer_orgs: CustomerOrgRepository  # §10/§12 resale customer orgs
    org_members: OrgMemberRepository  # a user in one org only
    name_claims: NameClaimRepository  # R-ORD-6
    trials: TrialRepository  # R-TRI
    orders: OrderRepository  # R-ORD
    shipments: ShipmentRepository  # R-TRI-7 device shipments
    webhook_endpoints: WebhookEndpointRepository  # R-NOT-7
    webhook_deliveries: WebhookDeliveryRepository  # R-NOT-9
    # Which process wrote an event (kept on the event, for operators and the multi-process tests).
    process: str = field(default_factory=process_identity)
    # Serialises this process's transactions (see `atomic`).
    commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # Called after every commit that may have created jobs (wakes this process's worker at once).
    after_commit: Callable[[], None] | None = field(default=None, repr=False)
    # R-NOT-7: where webhook URLs may point (the runtime sets it from GATEWAY_WEBHOOK_ALLOW_LOOPBACK).
    webhook_guard: AddressGuard = field(default_factory=AddressGuard, repr=False)

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one transaction together with the events it records (R-EVT-1).

        The whole of it is retried on a transient conflict, so `work` must be a pure function of
        what it reads inside the transaction. A DomainError raised by `work` aborts it: nothing is
        written.
        """
        current: list[Tx] = []

        async def body(session: Session) -> T:
            tx = Tx(session, self.clock.now(), self.jobs, outbox=self.notifications)
            current[:] = [tx]
            return await work(tx)

        async def stamp_events(session: Session) -> None:
            tx = current[0]
            if not tx.changes:
                return
            counter = await self.db.collection(COUNTERS).find_one_and_update(
                {"_id": EVENT_COUNTER_ID}, {"$inc": {"seq": len(tx.changes)}}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
            first = counter["seq"] - len(tx.changes) + 1
            docs = [c.to_doc(first + i, tx.now, self.process) for i, c in enumerate(tx.changes)]
            await self.db.collection(EVENTS).insert_many(docs, session=session)

        # The whole transaction runs under this process's lock, not just the counter increment: a transaction
        # whose snapshot predates another's commit of the counter could never increment it (write conflict,
        # retried again and again). Other processes still conflict now and then; those are retried.
        async with self.commit_lock:
            result = await self.db.run_transaction(body, tail=stamp_events)
        if self.after_commit is not None:
            self.after_commit()
        return result

    @classmethod
    def over(cls, db: Database, clock: Clock) -> Repositories:
        return cls(
            db=db,
            clock=clock,
            partners=PartnerRepository(db),
            templates=TemplateRepository(db),
            customers=CustomerRepository(db),
            locations=LocationRepository(db),
            subscribers=SubscriberRepository(db),
            rpl=RplRepository(db),
            events=EventRepository(db),
            billing_reports=BillingReportRepository(db),
            billing_rows=BillingRowRepository(db),
            usage=UsageRepository(db),
            accounts=AccountRepository(db),
            batches=SubscriberBatchRepository(db),
            batch_rows=BatchRowRepository(db),
            uploads=UploadRepository(db),
            idempotency_keys=IdempotencyKeyRepository(db),
            notifications=NotificationRepository(db),
            jobs=JobDocuments(db),
            setup_assist=SetupAssistRepository(db),
            org_directory=OrgDirectoryRepository(db),
            workspaces=WorkspaceRepository(db),
            customer_orgs=CustomerOrgRepository(db),
            org_members=OrgMemberRepository(db),
            name_claims=NameClaimRepository(db),
            trials=TrialRepository(db),
            orders=OrderRepository(db),
            shipments=ShipmentRepository(db),
            webhook_endpoints=WebhookEndpointRepository(db),
            webhook_deliveries=WebhookDeliveryRepository(db),
        )
