"""Bulk subscriber mutations (DOMAIN.md §15, R-BULK-1…4)."""

from __future__ import annotations

import strawberry

from domain.model.batches import RowAction, SubscriberBatch
from domain.rules.bulk import RowOp, normal_email
from domain.services import batches
from resolvers.batches.types import SubscriberBatchType
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.enums import PackageName, SubscriberPackage


@strawberry.input
class BulkSubscriberOperationInput:
    action: RowAction
    email: str
    package: SubscriberPackage | None = None
    add_ons: list[PackageName] | None = None
    first_name: str | None = None
    last_name: str | None = None
    primary_phone_number: str | None = None
    extension: str | None = None
    location_id: strawberry.ID | None = None

    def to_domain(self, row_number: int) -> RowOp:
        return RowOp(
            row_number=row_number, email=normal_email(self.email), action=self.action,
            package=self.package.value if self.package else None,
            add_ons=tuple(a.value for a in self.add_ons) if self.add_ons is not None else None,
            first_name=self.first_name, last_name=self.last_name, phone=self.primary_phone_number,
            extension=self.extension, location_id=str(self.location_id) if self.location_id else None)


@strawberry.input(description="Exactly one of `csv` / `uploadId` (from POST /uploads, text/csv, at most 5 MiB).")
class SubscriberImportInput:
    customer_id: strawberry.ID
    csv: str | None = None
    upload_id: strawberry.ID | None = None
    dry_run: bool | None = False
    idempotency_key: str | None = None


@strawberry.type
class SubscriberBatchPayload:
    batch: SubscriberBatchType | None
    errors: list[UserError]


def _payload(batch: SubscriberBatch) -> SubscriberBatchPayload:
    return SubscriberBatchPayload(batch=SubscriberBatchType.of(batch), errors=[])


@strawberry.type
class BatchMutations:
    @strawberry.mutation(description="1 to 25 subscriber changes of one customer as a batch, applied in order in the "
                                     "background; each row is judged like its single mutation (R-BULK-1).")
    @refused_as(SubscriberBatchPayload)
    async def bulk_subscriber_operations(
        self, info: Info, customer_id: strawberry.ID, operations: list[BulkSubscriberOperationInput],
        dry_run: bool | None = False, idempotency_key: str | None = None,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberBatchPayload:
        ops = [op.to_domain(i + 1) for i, op in enumerate(operations)]
        batch = await batches.submit_operations(
            info.context.repos, await info.context.caller(), str(customer_id), ops, bool(dry_run), idempotency_key,
            on_behalf_of_sub_partner_org_id)
        return _payload(batch)

    @strawberry.mutation(description="A CSV of up to 10,000 subscribers as a batch (R-BULK-2): a new email with one "
                                     "base package TRUE is created, this customer's is updated (blank = unchanged), "
                                     "a row of all FALSE is deleted.")
    @refused_as(SubscriberBatchPayload)
    async def import_subscribers(
        self, info: Info, input: SubscriberImportInput, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberBatchPayload:
        batch = await batches.submit_import(
            info.context.repos, await info.context.caller(), str(input.customer_id), input.csv,
            str(input.upload_id) if input.upload_id else None, bool(input.dry_run), input.idempotency_key,
            on_behalf_of_sub_partner_org_id)
        return _payload(batch)

    @strawberry.mutation(description="Stops a batch: the rows not applied yet become `skipped` (R-BULK-3).")
    @refused_as(SubscriberBatchPayload)
    async def cancel_subscriber_batch(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> SubscriberBatchPayload:
        batch = await batches.cancel_batch(info.context.repos, await info.context.caller(), str(id),
                                           on_behalf_of_sub_partner_org_id)
        return _payload(batch)
