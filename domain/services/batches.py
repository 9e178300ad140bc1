"""Bulk subscriber operations (DOMAIN.md §15): asking for a batch, importing a CSV, cancelling, uploads, reads.

A request is checked as a whole (who acts, the customer, 1-25 operations without an email twice, the CSV file),
then the batch, every row (`pending`), its idempotency key and its job are written in one transaction with the
batch's first event. The rows themselves are judged and applied later by the batch's job
(domain/workflows/batches.py), in order, 100 at a time.

Creating a batch writes its customer's document too: two batches asked for the same customer at once conflict
and are serialised, so the second sees the first and its job waits for it (one running batch per customer, oldest
first, R-BULK-3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.audit import current_actor
from domain.model.batches import FINISHED, BatchSource, BatchStatus, RowAction, RowStatus, SubscriberBatch
from domain.model.entities import Partner
from domain.model.errors import DomainError, ErrorCode, FieldError, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.jobs import RunBatch
from domain.model.principal import Scope
from domain.rules.bulk import (
    BATCH_RETENTION,
    IDEMPOTENCY_TTL,
    MAX_CSV_BYTES,
    UPLOAD_TTL,
    RowOp,
    duplicate_rows,
    fingerprint,
    idempotency_key_problems,
    idempotent_answer,
    operations_problems,
)
from domain.rules.csv_import import decode, parse_csv
from domain.rules.pagination import PageRequest
from domain.rules.tenancy import Caller, direct_scope
from domain.services.acting import acting_owner
from domain.services.customers import owned_customer
from domain.services.reads import Listing
from domain.store.driver import Document
from domain.store.repositories import Repositories, Tx
from domain.store.repositories.batches import BATCH_ROW_ORDER, row_id


@dataclass(frozen=True)
class BatchRequest:
    customer_id: str
    ops: Sequence[RowOp]
    source: BatchSource
    dry_run: bool
    idempotency_key: str | None
    fingerprint: str
    upload_id: str | None = None
    key_field: tuple[str, ...] = ("idempotencyKey",)
    customer_field: tuple[str, ...] = ("customerId",)


async def _owner(repos: Repositories, caller: Caller, on_behalf_of: str | None) -> Partner:
    # A suspended sub-partner may still delete (R-ORG-5): whether a batch only deletes is known from its rows.
    return await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE, allow_suspended=True)


async def _require_active(repos: Repositories, caller: Caller, on_behalf_of: str | None,
                          ops: Sequence[RowOp]) -> None:
    if any(op.action is not RowAction.DELETE for op in ops):
        await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)


async def _replayed(repos: Repositories, owner: Partner, request: BatchRequest, *, session: Any = None
                    ) -> SubscriberBatch | None:
    """R-BULK-4: the batch a live idempotency key already stands for (same request), or IDEMPOTENCY_KEY_REUSED."""
    if request.idempotency_key is None:
        return None
    key = await repos.idempotency_keys.live(owner.id, request.idempotency_key, repos.clock.now(), session=session)
    if key is None:
        return None
    idempotent_answer(key.get("fingerprint"), request.fingerprint, *request.key_field)
    doc = await repos.batches.find_doc(key["batchId"], session=session)
    return SubscriberBatch.from_doc(doc) if doc is not None else None


async def submit_operations(repos: Repositories, caller: Caller, customer_id: str, ops: Sequence[RowOp],
                            dry_run: bool, idempotency_key: str | None, on_behalf_of: str | None) -> SubscriberBatch:
    """R-BULK-1: 1-25 subscriber operations of one customer, as a batch."""
    owner = await _owner(repos, caller, on_behalf_of)
    problems = [*operations_problems(ops, "operations"), *idempotency_key_problems(idempotency_key, "idempotencyKey")]
    if problems:
        raise DomainError(problems)
    request = BatchRequest(customer_id, ops, BatchSource.MUTATION, dry_run, idempotency_key,
                           fingerprint(customer_id, dry_run, BatchSource.MUTATION.value, [o.to_doc() for o in ops]))
    if (replay := await _replayed(repos, owner, request)) is not None:
        return replay
    await owned_customer(repos, owner, customer_id, "customerId")
    await _require_active(repos, caller, on_behalf_of, ops)
    return await _create(repos, owner, request)


async def submit_import(repos: Repositories, caller: Caller, customer_id: str, csv: str | None,
                        upload_id: str | None, dry_run: bool, idempotency_key: str | None,
                        on_behalf_of: str | None) -> SubscriberBatch:
    """R-BULK-1/2: a CSV file, inline or uploaded before (POST /uploads), as a batch of up to 10,000 rows."""
    owner = await _owner(repos, caller, on_behalf_of)
    problems = idempotency_key_problems(idempotency_key, "input", "idempotencyKey")
    if (csv is None) == (upload_id is None):
        problems.append(FieldError(ErrorCode.VALIDATION_FAILED, "give exactly one of `csv` and `uploadId`",
                                   ("input",)))
    if problems:
        raise DomainError(problems)
    content = (hashlib.sha256(csv.encode("utf-8", "surrogatepass")).hexdigest() if csv is not None
               else f"upload:{upload_id}")
    request = BatchRequest(customer_id, (), BatchSource.CSV, dry_run, idempotency_key,
                           fingerprint(customer_id, dry_run, BatchSource.CSV.value, content), upload_id,
                           ("input", "idempotencyKey"), ("input", "customerId"))
    if (replay := await _replayed(repos, owner, request)) is not None:
        return replay
    await owned_customer(repos, owner, customer_id, "input", "customerId")
    if upload_id is not None:
        assert caller.org is not None
        upload = await repos.uploads.usable(upload_id, caller.org.id, repos.clock.now())
        if upload is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no usable upload has this id (uploads are used once, "
                                     "by the org that sent them, within 24 hours)", "input", "uploadId")
        text = decode(bytes(upload["content"]), "input", "uploadId")
        ops = parse_csv(text, "input", "uploadId")
    else:
        assert csv is not None
        ops = parse_csv(csv, "input", "csv")
    ops = duplicate_rows(ops)
    await _require_active(repos, caller, on_behalf_of, ops)
    return await _create(repos, owner, BatchRequest(
        customer_id, ops, BatchSource.CSV, dry_run, idempotency_key, request.fingerprint, upload_id,
        request.key_field, request.customer_field))


async def _create(repos: Repositories, owner: Partner, request: BatchRequest) -> SubscriberBatch:
    batch_id = new_id(Kind.SUBSCRIBER_BATCH)
    creator = current_actor().to_doc()

    async def write(tx: Tx) -> SubscriberBatch:
        if (replay := await _replayed(repos, owner, request, session=tx.session)) is not None:
            return replay
        customer = await repos.customers.find_doc(request.customer_id, session=tx.session)
        if customer is None or customer["ownerOrgId"] != owner.id:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", *request.customer_field)
        if request.upload_id is not None and not await repos.uploads.use(request.upload_id, tx.now,
                                                                         session=tx.session):
            raise DomainError.single(ErrorCode.NOT_FOUND, "no usable upload has this id", "input", "uploadId")
        before = await repos.batches.unfinished_of(request.customer_id, session=tx.session)
        expire_at = tx.now + BATCH_RETENTION
        batch = SubscriberBatch(
            id=batch_id, customer_id=request.customer_id, owner_org_id=owner.id, root_org_id=owner.root_id,
            source=request.source, dry_run=request.dry_run, status=BatchStatus.QUEUED,
            total_rows=len(request.ops), idempotency_key=request.idempotency_key, fingerprint=request.fingerprint,
            created_by=creator, version=1, created_at=tx.now, last_status_change=tx.now, expire_at=expire_at,
            queue_seq=before[-1].get("queueSeq", 0) + 1 if before else 1)
        await repos.batches.insert(batch.to_doc(), session=tx.session)
        await repos.batch_rows.insert_many([{
            "_id": row_id(batch_id, op.row_number), "batchId": batch_id, "rowNumber": op.row_number,
            "ownerOrgId": owner.id, "op": op.to_doc(), "action": op.action.value if op.action else None,
            "email": op.email or None, "status": RowStatus.PENDING.value, "subscriberId": None, "errors": [],
            "expireAt": expire_at} for op in request.ops], session=tx.session)
        # Serialises batches asked for one customer at once (and orders them: the later one waits).
        await repos.customers.set_fields(request.customer_id, {"batchWrites": tx.now}, session=tx.session)
        if request.idempotency_key is not None:
            await repos.idempotency_keys.put(owner.id, request.idempotency_key, batch_id, request.fingerprint,
                                             tx.now + IDEMPOTENCY_TTL, session=tx.session)
        await tx.enqueue(RunBatch(batch_id, waiting_for=before[-1]["_id"] if before else None))
        tx.record(batch.change(None))
        return batch

    return await repos.atomic(write)


async def cancel_batch(repos: Repositories, caller: Caller, batch_id: str, on_behalf_of: str | None
                       ) -> SubscriberBatch:
    """R-BULK-3: the rows not applied yet are `skipped` and the batch is `cancelled` (the applied ones stay)."""
    owner = await _owner(repos, caller, on_behalf_of)
    doc = await repos.batches.owned_doc(batch_id, owner.id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber batch has this id", "id")

    async def write(tx: Tx) -> SubscriberBatch:
        fresh = await repos.batches.find_doc(batch_id, session=tx.session)
        if fresh is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber batch has this id", "id")
        batch = SubscriberBatch.from_doc(fresh)
        if batch.status in FINISHED:
            raise DomainError.single(ErrorCode.INVALID_STATE, f"the batch is already `{batch.status.value}`", "id")
        skipped = await repos.batch_rows.skip_pending(batch.id, session=tx.session)
        was_queued = batch.status is BatchStatus.QUEUED
        cancelled, change = batch.counted(0, 0, skipped).move(BatchStatus.CANCELLED, tx.now, finished_at=tx.now)
        await repos.batches.replace(cancelled.to_doc(), session=tx.session)
        if was_queued:
            await tx.cancel(RunBatch(batch.id).job_id)
        await tx.release_waiting(batch.id)  # the customer's next batch may start
        tx.record(change)
        return cancelled

    return await repos.atomic(write)


async def store_upload(repos: Repositories, caller: Caller, content: bytes) -> str:
    """POST /uploads: keep a CSV file 24 hours for one `importSubscribers` of the caller's org."""
    if caller.org is None:
        raise Forbidden("uploads need the token of a partner or sub-partner")
    if not caller.principal.can(Scope.SUBSCRIBERS_WRITE):
        raise Forbidden(f"this needs the {Scope.SUBSCRIBERS_WRITE.value} scope")
    if len(content) > MAX_CSV_BYTES:
        raise DomainError.single(ErrorCode.CSV_INVALID, "the file is larger than 5 MiB")
    now = repos.clock.now()
    upload_id = new_id(Kind.UPLOAD)
    await repos.uploads.insert({"_id": upload_id, "ownerOrgId": caller.org.id, "content": content,
                                "size": len(content), "createdAt": now, "usedAt": None, "expireAt": now + UPLOAD_TTL})
    return upload_id


# --- reads ----------------------------------------------------------------------------------------------------


async def visible_batches(repos: Repositories, caller: Caller, ids: Sequence[str]) -> list[Document | None]:
    """Batches by id as the caller may see them (R-ORG-6): its org's, a full_admin parent's sub-partners'."""
    scope = direct_scope(caller)
    if scope.is_nothing or not caller.principal.can(Scope.SUBSCRIBERS_READ):
        return [None] * len(ids)
    docs = await repos.batches.by_ids(ids, scope.filter())
    return [docs.get(i) for i in ids]


async def batch_rows(repos: Repositories, batch_id: str, status: RowStatus | None, request: PageRequest) -> Listing:
    """The rows of a batch the caller already sees, in row order (optionally of one status)."""
    base: dict[str, Any] = {"batchId": batch_id}
    if status is not None:
        base["status"] = status.value
    page = await repos.batch_rows.page(base, BATCH_ROW_ORDER, request)
    return Listing(page, lambda: repos.batch_rows.count(base))
