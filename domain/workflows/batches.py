"""The job of a subscriber batch (R-BULK-3): its rows applied in order, 100 per transaction.

Each chunk's transaction re-reads the batch, proves the job's lease, judges every row like its single mutation
(the same pure rules: `plan_new_subscriber`, `plan_subscriber_update`, the subscriber status machine), writes the
accepted rows' subscribers, their jobs and events, every row's result, the batch's counters and a PROGRESS event
— all or nothing. `processedRows` is where the next chunk starts, so a crash resumes at the first row not
committed and no row is applied twice. A dry run judges the rows the same way and writes only their results.

Everything the job writes is done as the batch's creator (R-BULK-4): its rows' subscriber events carry that actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from domain.model.audit import Actor, acting
from domain.model.batches import FINISHED, BatchStatus, RowAction, RowStatus, SubscriberBatch
from domain.model.changes import Change
from domain.model.entities import Customer, OrgKind, Partner, SubPartnerState, Subscriber, SubscriberStatus
from domain.model.errors import ErrorCode, FieldError
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleSubscriber
from domain.model.status import SUBSCRIBER, can_move
from domain.rules.attach import OrgUserTerms, org_user_terms
from domain.rules.bulk import (
    CHUNK_ROWS,
    RowOp,
    error_doc,
    finished_status,
    match_location,
    new_subscriber,
    resolve,
    row_errors,
    subscriber_update,
)
from domain.rules.subscribers import (
    CLOSED,
    UNSETTLED,
    NewSubscriberFacts,
    UpdateFacts,
    blank_to_none,
    needs_locations,
    plan_new_subscriber,
    plan_subscriber_update,
)
from domain.services.subscribers import _holdings as subscriber_holdings
from domain.services.subscribers import becomes_admin, new_subscriber_entity, updated_subscriber
from domain.store.driver import Document, DuplicateKey
from domain.store.jobs import Job, Retry
from domain.store.repositories import Tx
from domain.workflows.common import Steps

WAIT_FOR_EARLIER = timedelta(seconds=1)


@dataclass
class _Chunk:
    """What one chunk's transaction knows about the customer, kept up to date as its rows are applied."""

    customer: Customer | None
    owner: Partner | None
    locations: list[Document]
    held: dict[str, int] = field(default_factory=dict)  # subscribers holding each limited package
    admin_id: str | None = None
    wrote_subscribers: bool = False


@dataclass
class BatchJobs(Steps):
    async def run(self, job: Job, *, chunks: int | None = None) -> None:
        """Start the batch if it is its turn, then commit its chunks until none is left and finish it.

        `chunks`: return after committing that many, leaving the job leased and unfinished, as a worker that died
        right after that commit would (how tests act out a crash; the handler proper never passes it).
        """
        doc = await self.repos.batches.find_doc(job.entity_id)
        if doc is None or SubscriberBatch.from_doc(doc).status in FINISHED:
            return await self.finish_only(job)
        batch = SubscriberBatch.from_doc(doc)
        with acting(Actor.from_doc(batch.created_by)):
            if batch.status is BatchStatus.QUEUED:
                earlier = [d for d in await self.repos.batches.unfinished_of(batch.customer_id)
                           if d.get("queueSeq", 0) < batch.queue_seq]
                if earlier:  # R-BULK-3: one running batch per customer, oldest first
                    raise Retry("waiting for the customer's earlier batch", WAIT_FOR_EARLIER)
                await self._start(job, batch)
            committed = 0
            while chunks is None or committed < chunks:
                fresh = await self.repos.batches.find_doc(batch.id)
                if fresh is None:
                    return await self.finish_only(job)
                batch = SubscriberBatch.from_doc(fresh)
                if batch.status is not BatchStatus.RUNNING:
                    return await self.finish_only(job)  # cancelled meanwhile
                rows = await self.repos.batch_rows.from_row(batch.id, batch.processed_rows + 1, CHUNK_ROWS)
                if not rows:
                    return await self._finish(job, batch)
                await self._chunk(job, batch, rows)
                committed += 1

    async def _start(self, job: Job, batch: SubscriberBatch) -> None:
        async def write(tx: Tx) -> None:
            await self.queue.hold(tx, job)
            doc = await self.repos.batches.find_doc(batch.id, session=tx.session)
            if doc is None or doc["status"] != BatchStatus.QUEUED.value:
                return
            running, change = SubscriberBatch.from_doc(doc).move(BatchStatus.RUNNING, tx.now, started_at=tx.now)
            await self.repos.batches.replace(running.to_doc(), session=tx.session)
            tx.record(change)

        await self.repos.atomic(write)

    async def _finish(self, job: Job, batch: SubscriberBatch) -> None:
        async def write(tx: Tx) -> None:
            doc = await self.repos.batches.find_doc(batch.id, session=tx.session)
            if doc is not None and doc["status"] == BatchStatus.RUNNING.value:
                current = SubscriberBatch.from_doc(doc)
                done, change = current.move(finished_status(current.refused_rows), tx.now, finished_at=tx.now)
                await self.repos.batches.replace(done.to_doc(), session=tx.session)
                tx.record(change)
            await tx.release_waiting(batch.id)  # the customer's next batch
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def give_up(self, job: Job, error: str) -> None:
        """A batch whose job kept failing is `failed`; its rows not applied are `skipped`."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.batches.find_doc(job.entity_id, session=tx.session)
            if doc is not None and doc["status"] not in {s.value for s in FINISHED}:
                batch = SubscriberBatch.from_doc(doc)
                skipped = await self.repos.batch_rows.skip_pending(batch.id, session=tx.session)
                failed, change = batch.counted(0, 0, skipped).move(BatchStatus.FAILED, tx.now, finished_at=tx.now)
                await self.repos.batches.replace(failed.to_doc(), session=tx.session)
                tx.record(replace(change, reason=error[:500]))
                await tx.release_waiting(batch.id)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def _chunk(self, job: Job, batch: SubscriberBatch, rows: list[Document]) -> None:
        for attempt in range(3):
            try:
                await self.repos.atomic(lambda tx: self._apply(tx, job, batch, rows))
                return
            except DuplicateKey:
                # A single mutation took an email or a number meanwhile: judged again, that row is refused.
                if attempt == 2:
                    raise

    async def _apply(self, tx: Tx, job: Job, batch: SubscriberBatch, rows: list[Document]) -> None:
        await self.queue.hold(tx, job)
        doc = await self.repos.batches.find_doc(batch.id, session=tx.session)
        if doc is None or doc["status"] != BatchStatus.RUNNING.value or doc["processedRows"] != batch.processed_rows:
            return  # cancelled, or this chunk is already committed: never apply a row twice
        current = SubscriberBatch.from_doc(doc)
        customer_doc = await self.repos.customers.find_doc(batch.customer_id, session=tx.session)
        customer = Customer.from_doc(customer_doc) if customer_doc is not None else None
        owner = await self.repos.partners.get(batch.owner_org_id)
        locations = (await self.repos.locations.by_customers([customer.id])).get(customer.id, []) if customer else []
        chunk = _Chunk(customer, owner, locations, admin_id=customer.admin_subscriber_id if customer else None)
        results: list[dict[str, Any]] = []
        accepted = refused = 0
        for row in rows:
            op = RowOp.from_doc(row["op"])
            action, subscriber_id, problems = await self._row(tx, batch, chunk, op)
            ok = not problems
            accepted, refused = accepted + ok, refused + (not ok)
            results.append({"_id": row["_id"], "action": action.value if action else None,
                            "status": (RowStatus.ACCEPTED if ok else RowStatus.REFUSED).value,
                            "subscriberId": subscriber_id,
                            "errors": [error_doc(e) for e in row_errors(problems, op.from_csv)]})
        if chunk.wrote_subscribers and customer is not None:
            # Like the single mutations: writing the customer serialises this chunk with them (limits, admin).
            await self.repos.customers.set_fields(customer.id, {"adminSubscriberId": chunk.admin_id,
                                                                "subscriberWrites": tx.now}, session=tx.session)
        await self.repos.batch_rows.record(results, session=tx.session)
        counted = current.counted(accepted, refused)
        await self.repos.batches.replace(counted.to_doc(), session=tx.session)
        tx.record(counted.progress())

    async def _row(self, tx: Tx, batch: SubscriberBatch, chunk: _Chunk, op: RowOp
                   ) -> tuple[RowAction | None, str | None, list[FieldError]]:
        holder_doc = await self.repos.subscribers.by_email(op.email, session=tx.session) if op.email else None
        holder = Subscriber.from_doc(holder_doc) if holder_doc is not None else None
        resolved = resolve(op, batch.customer_id, holder)
        action = resolved.action
        if resolved.problems or action is None:
            return action, None, resolved.problems
        owner = chunk.owner
        if (action is not RowAction.DELETE and owner is not None and owner.kind is OrgKind.SUB_PARTNER
                and owner.provisioning_state is SubPartnerState.SUSPENDED):
            return action, None, [FieldError(ErrorCode.SUB_PARTNER_SUSPENDED, "the sub-partner is suspended: it may "
                                             "only delete subscribers")]
        if action is RowAction.CREATE:
            return await self._create(tx, batch, chunk, op)
        assert holder is not None
        if action is RowAction.UPDATE:
            return await self._update(tx, batch, chunk, op, holder)
        return await self._delete(tx, batch, holder)

    def _location(self, chunk: _Chunk, op: RowOp) -> tuple[str | None, list[FieldError]]:
        if not op.from_csv:
            return op.location_id, []
        found, ok = match_location(op.location, chunk.locations)
        if not ok:
            return None, [FieldError(ErrorCode.NOT_FOUND, "the customer has no location with this id or name",
                                     ("location",))]
        return found, []

    async def _held(self, tx: Tx, chunk: _Chunk, package: str) -> int:
        """Subscribers holding `package`, counted once per chunk and then kept by the chunk itself."""
        customer = chunk.customer
        limit = next((p.limit for p in customer.packages if p.name == package), None) if customer else None
        if customer is None or limit is None:
            return 0  # without a limit the count decides nothing (R-PKG-6): not counted
        if package not in chunk.held:
            chunk.held[package] = await self.repos.subscribers.holding(customer.id, package, session=tx.session)
        return chunk.held[package]

    async def _create(self, tx: Tx, batch: SubscriberBatch, chunk: _Chunk, op: RowOp
                      ) -> tuple[RowAction, str | None, list[FieldError]]:
        location_id, problems = self._location(chunk, op)
        if problems:
            return RowAction.CREATE, None, problems
        data = new_subscriber(op, batch.customer_id, location_id)
        customer = chunk.customer
        if customer is None or customer.status in CLOSED:
            plan = plan_new_subscriber(data, NewSubscriberFacts(False, customer))
            return RowAction.CREATE, None, plan.problems.items
        terms = OrgUserTerms(data)  # R-ATT-3: an attached org's own users join on their own settings
        if customer.attach is not None and customer.org_id is not None:
            terms = org_user_terms(customer, await self.repos.org_directory.get(customer.org_id), data)
        data = terms.data
        phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
        holdings = await subscriber_holdings(self.repos, customer, data.package, phone, extension, None,
                                             session=tx.session, package_changes=False, add_ons=data.add_ons)
        holdings = replace(holdings, held=await self._held(tx, chunk, data.package))
        locations = chunk.locations if needs_locations(data.package) else []
        plan = plan_new_subscriber(data, NewSubscriberFacts(False, customer, locations, holdings))
        if plan.problems.items:
            return RowAction.CREATE, None, plan.problems.items
        if batch.dry_run:
            return RowAction.CREATE, None, []
        is_admin = becomes_admin(customer, chunk.admin_id)
        subscriber = new_subscriber_entity(new_id(Kind.SUBSCRIBER), customer, data, plan.location_id, is_admin, tx.now,
                                           org_user=terms.org_user, warnings=terms.warnings)
        await self.repos.subscribers.insert(subscriber.to_doc(), session=tx.session)
        if is_admin:
            chunk.admin_id = subscriber.id
        if data.package in chunk.held:
            chunk.held[data.package] += 1
        chunk.wrote_subscribers = True
        wait = customer.id if customer.status in UNSETTLED else None
        await tx.enqueue(SettleSubscriber(subscriber.id, "provision", 1, waiting_for=wait))
        tx.record(_of_batch(subscriber.change(None), batch))
        return RowAction.CREATE, subscriber.id, []

    async def _update(self, tx: Tx, batch: SubscriberBatch, chunk: _Chunk, op: RowOp, current: Subscriber
                      ) -> tuple[RowAction, str | None, list[FieldError]]:
        customer = chunk.customer
        if not can_move(SUBSCRIBER, current.status, SubscriberStatus.UPDATING):
            return RowAction.UPDATE, current.id, [FieldError(
                ErrorCode.INVALID_STATE, f"a subscriber in status `{current.status.value}` cannot be updated")]
        if customer is None or customer.status in CLOSED or customer.status in UNSETTLED:
            state = customer.status.value if customer else "gone"
            return RowAction.UPDATE, current.id, [FieldError(ErrorCode.INVALID_STATE, f"the customer is `{state}`")]
        location_id, problems = self._location(chunk, op)
        if problems:
            return RowAction.UPDATE, current.id, problems
        data = subscriber_update(op, current, location_id)
        phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
        changes_package = data.package != current.package
        holdings = await subscriber_holdings(self.repos, customer, data.package, phone, extension, current.id,
                                             session=tx.session, package_changes=False, add_ons=data.add_ons or ())
        if changes_package:
            holdings = replace(holdings, held=await self._held(tx, chunk, data.package))
        locations = chunk.locations if needs_locations(data.package) else []
        plan = plan_subscriber_update(current, customer, data, UpdateFacts(locations, holdings))
        if plan.problems.items:
            return RowAction.UPDATE, current.id, plan.problems.items
        if batch.dry_run:
            return RowAction.UPDATE, current.id, []
        updated, events = updated_subscriber(current, data, plan.location_id, tx.now)
        await self.repos.subscribers.replace(updated.to_doc(), session=tx.session)
        if changes_package:
            for package, delta in ((data.package, 1), (current.package, -1)):
                if package in chunk.held:
                    chunk.held[package] += delta
        chunk.wrote_subscribers = True
        await tx.enqueue(SettleSubscriber(updated.id, "update", updated.version, previous_package=current.package))
        for event in events:
            tx.record(_of_batch(event, batch))
        return RowAction.UPDATE, current.id, []

    async def _delete(self, tx: Tx, batch: SubscriberBatch, current: Subscriber
                      ) -> tuple[RowAction, str | None, list[FieldError]]:
        if not can_move(SUBSCRIBER, current.status, SubscriberStatus.DELETING):
            return RowAction.DELETE, current.id, [FieldError(
                ErrorCode.INVALID_STATE, f"a subscriber in status `{current.status.value}` cannot be deleted")]
        if batch.dry_run:
            return RowAction.DELETE, current.id, []
        updated, change = current.move(SubscriberStatus.DELETING, tx.now)
        await self.repos.subscribers.replace(updated.to_doc(), session=tx.session)
        await tx.enqueue(SettleSubscriber(updated.id, "delete", updated.version))
        tx.record(_of_batch(change, batch))
        return RowAction.DELETE, current.id, []


def _of_batch(change: Change, batch: SubscriberBatch) -> Change:
    """A row's subscriber event names its batch (ProvisioningEvent.batch)."""
    return replace(change, details={**change.details, "batchId": batch.id})
