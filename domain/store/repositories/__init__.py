"""Storage of each entity over MongoDB; the only place that writes Mongo queries."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pymongo import ReturnDocument

from domain.model.changes import Change
from domain.model.clock import Clock
from domain.model.jobs import JobCommand
from domain.model.notifications import Notification
from domain.rules.notifications import outbox_documents
from domain.store.driver import Database, Document, Session, is_transient
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
# The repositories that keep recent reads (domain.store.recent), by the entity type of the events that change them.
FORGET_ON: dict[str, Callable[[Repositories], PartnerRepository | TemplateRepository]] = {
    "SUB_PARTNER": lambda repos: repos.partners,
    "ONBOARDING_TEMPLATE": lambda repos: repos.templates,
}
# Units of work one database transaction may commit together (see `Repositories.atomic`).
GROUP_LIMIT = 32


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


def _forget(outcome: asyncio.Future[Any]) -> None:
    if not outcome.cancelled():
        outcome.exception()  # retrieved: no "exception was never retrieved" warning for a caller that left


@dataclass
class _Unit(Generic[T]):
    """A unit of work waiting for `Repositories.atomic` to commit it, and what came of it."""

    work: Callable[[Tx], Awaitable[T]]
    outcome: asyncio.Future[T]


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
    # Serialises this process's transactions (see `atomic`), and the units of work waiting for it.
    commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _queued: list[_Unit[Any]] = field(default_factory=list, repr=False)
    # Called after every commit that may have created jobs (wakes this process's worker at once).
    after_commit: Callable[[], None] | None = field(default=None, repr=False)
    # R-NOT-7: where webhook URLs may point (the runtime sets it from GATEWAY_WEBHOOK_ALLOW_LOOPBACK).
    webhook_guard: AddressGuard = field(default_factory=AddressGuard, repr=False)

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one transaction together with the events it records (R-EVT-1).

        The whole of it is retried on a transient conflict, so `work` must be a pure function of what it reads
        inside the transaction. A DomainError raised by `work` aborts it: nothing is written.

        Group commit: this process's transactions run one at a time (see below), and while one commits others
        queue up. The next holder of the lock runs every queued unit of work (up to GROUP_LIMIT, in arrival
        order) in one database transaction, each with its own `Tx`, and stamps all their events with one counter
        increment and one insert: the same outcome as running them one after the other, for fewer round trips
        under the lock. When one of them raises, that transaction is aborted and each is run again alone, so a
        refused unit of work never takes the others down with it, and it alone sees its error. A transient database
        error that outlasted the transaction's retries is every unit's answer at once (each would only retry it again).
        """
        entry: _Unit[T] = _Unit(work, asyncio.get_running_loop().create_future())
        self._queued.append(entry)
        # The whole transaction runs under this process's lock, not just the counter increment: a transaction
        # whose snapshot predates another's commit of the counter could never increment it (write conflict,
        # retried again and again). Other processes still conflict now and then; those are retried.
        try:
            async with self.commit_lock:
                if not entry.outcome.done():
                    group = self._queued[:GROUP_LIMIT]  # the lock is fair: this unit is the first still queued
                    del self._queued[:len(group)]
                    await self._commit_group(group)
        except asyncio.CancelledError:
            if entry in self._queued:  # never started: nobody runs it now
                self._queued.remove(entry)
            else:  # in another's group: it may still commit, and nobody reads its outcome
                entry.outcome.add_done_callback(_forget)
            raise
        if self.after_commit is not None and entry.outcome.exception() is None:
            self.after_commit()
        return entry.outcome.result()

    async def _commit_group(self, group: list[_Unit[Any]]) -> None:
        """Run `group` in one transaction; alone each, when that fails. Sets every unit's outcome."""
        if len(group) > 1:
            try:
                results = await self._transaction(group)
            except asyncio.CancelledError:
                for unit in reversed(group):  # the others' callers still wait: the lock's next holder runs them
                    self._queued.insert(0, unit)
                raise
            except Exception as exc:
                if is_transient(exc):  # the database's doing, retried already: alone, each would fail the same way
                    for unit in group:
                        unit.outcome.set_exception(exc)
                    return
                # One of them refused: each again, alone.
            else:
                for unit, result in zip(group, results, strict=True):
                    unit.outcome.set_result(result)
                return
        for i, unit in enumerate(group):
            try:
                [result] = await self._transaction([unit])
            except asyncio.CancelledError:
                for rest in reversed(group[i:]):
                    self._queued.insert(0, rest)
                raise
            except Exception as exc:
                unit.outcome.set_exception(exc)
            else:
                unit.outcome.set_result(result)

    async def _transaction(self, group: list[_Unit[Any]]) -> list[Any]:
        current: list[Tx] = []

        async def body(session: Session) -> list[Any]:
            current.clear()
            results = []
            for unit in group:
                tx = Tx(session, self.clock.now(), self.jobs, outbox=self.notifications)
                current.append(tx)
                results.append(await unit.work(tx))
            return results

        async def stamp_events(session: Session) -> None:
            changes = [(tx, change) for tx in current for change in tx.changes]
            if not changes:
                return
            counter = await self.db.collection(COUNTERS).find_one_and_update(
                {"_id": EVENT_COUNTER_ID}, {"$inc": {"seq": len(changes)}}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
            first = counter["seq"] - len(changes) + 1
            docs = [change.to_doc(first + i, tx.now, self.process) for i, (tx, change) in enumerate(changes)]
            await self.db.collection(EVENTS).insert_many(docs, session=session)

        return await self.db.run_transaction(body, tail=stamp_events)

    def forget_changed(self, event: Document) -> None:
        """A committed event (any process's, from the event hub): records it changed are read afresh next time."""
        forget = FORGET_ON.get(event.get("entityType", ""))
        if forget is not None:
            forget(self).recent.forget([str(event.get("entityId"))])

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
