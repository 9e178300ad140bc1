"""Subscriber batches (DOMAIN.md §15, R-BULK-3): many subscriber changes of one customer, applied by one job.

A batch owns its rows; each row is one CREATE / UPDATE / DELETE by email, judged like the single mutation it
stands for. The batch moves `queued` → `running` → `completed` | `completed_with_errors` | `failed` |
`cancelled`; its rows `pending` → `accepted` | `refused` | `skipped`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.model.audit import EventAction
from domain.model.changes import Change, EntityType
from domain.model.status import require_move


class BatchStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RowStatus(str, Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SKIPPED = "skipped"


class RowAction(str, Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class BatchSource(str, Enum):
    MUTATION = "MUTATION"
    CSV = "CSV"


_B = BatchStatus
BATCH: Mapping[BatchStatus, frozenset[BatchStatus]] = {
    _B.QUEUED: frozenset({_B.RUNNING, _B.CANCELLED, _B.FAILED}),
    _B.RUNNING: frozenset({_B.COMPLETED, _B.COMPLETED_WITH_ERRORS, _B.FAILED, _B.CANCELLED}),
    _B.COMPLETED: frozenset(),
    _B.COMPLETED_WITH_ERRORS: frozenset(),
    _B.FAILED: frozenset(),
    _B.CANCELLED: frozenset(),
}
FINISHED = frozenset(s for s, nexts in BATCH.items() if not nexts)


class SubscriberBatch(BaseModel):
    """A batch as stored; its rows are documents of their own (one per row)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    id: str = Field(alias="_id")
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    source: BatchSource
    dry_run: bool = Field(alias="dryRun")
    status: BatchStatus
    total_rows: int = Field(alias="totalRows")
    processed_rows: int = Field(default=0, alias="processedRows")  # also the next row to apply (rows are 1-based)
    accepted_rows: int = Field(default=0, alias="acceptedRows")
    refused_rows: int = Field(default=0, alias="refusedRows")
    skipped_rows: int = Field(default=0, alias="skippedRows")
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey")
    fingerprint: str | None = None  # the request an idempotency key stands for
    # Its place among the customer's unfinished batches (R-BULK-3: oldest first); creation times may be equal.
    queue_seq: int = Field(default=0, alias="queueSeq")
    created_by: dict[str, Any] = Field(alias="createdBy")  # Actor.to_doc() of who asked for it
    version: int
    created_at: datetime = Field(alias="createdAt")
    started_at: datetime | None = Field(default=None, alias="startedAt")
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    last_status_change: datetime = Field(alias="lastStatusChange")
    expire_at: datetime = Field(alias="expireAt")  # R-BULK-4: kept 90 days

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SubscriberBatch:
        return cls.model_validate(dict(doc))

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="python")

    def move(self, to: BatchStatus, at: datetime, **fields: Any) -> tuple[SubscriberBatch, Change]:
        require_move(BATCH, self.status, to, "subscriber batch")
        moved = self.model_copy(update={**fields, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status)

    def counted(self, accepted: int, refused: int, skipped: int = 0) -> SubscriberBatch:
        """The batch after `accepted + refused + skipped` more rows were processed (a new version)."""
        return self.model_copy(update={
            "processed_rows": self.processed_rows + accepted + refused + skipped,
            "accepted_rows": self.accepted_rows + accepted, "refused_rows": self.refused_rows + refused,
            "skipped_rows": self.skipped_rows + skipped, "version": self.version + 1})

    def _details(self) -> dict[str, Any]:
        return {"batchId": self.id, "processedRows": self.processed_rows, "acceptedRows": self.accepted_rows,
                "refusedRows": self.refused_rows, "skippedRows": self.skipped_rows, "totalRows": self.total_rows}

    def change(self, from_status: BatchStatus | None) -> Change:
        return Change(EntityType.SUBSCRIBER_BATCH, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      customer_id=self.customer_id, details=self._details())

    def progress(self) -> Change:
        """R-BULK-4: the event of one committed chunk (the status stays as it is)."""
        return Change(EntityType.SUBSCRIBER_BATCH, self.id, self.owner_org_id, self.root_org_id, self.status.value,
                      self.status.value, self.version, customer_id=self.customer_id, details=self._details(),
                      action=EventAction.PROGRESS)
