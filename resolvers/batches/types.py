"""Subscriber batches (DOMAIN.md §15, R-BULK) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.model.batches import FINISHED, BatchSource, BatchStatus, RowAction, RowStatus, SubscriberBatch
from domain.model.principal import Scope
from domain.rules.bulk import error_of
from domain.rules.pagination import PageRequest
from domain.services import batches, reads
from domain.store.driver import Document
from resolvers.audit import ActorType
from resolvers.batches.loaders import BatchPageKey
from resolvers.common import Connection, Node, UserError, connection_of, listing_connection
from resolvers.context import Context, Info

if TYPE_CHECKING:
    from resolvers.customers.types import CustomerType
    from resolvers.subscribers.types import SubscriberType

strawberry.enum(BatchStatus, name="SubscriberBatchStatus", graphql_name_from="value")
strawberry.enum(RowStatus, name="BatchRowStatus", graphql_name_from="value")
strawberry.enum(RowAction, name="BatchRowAction")
strawberry.enum(BatchSource, name="BatchSource")

_LOADER = "_visible_batch_loader"


def visible_batch_loader(context: Context) -> DataLoader[str, Document | None]:
    """Batches by id as the caller may see them, one `$in` query per request for all of them."""
    loader: DataLoader[str, Document | None] | None = context.__dict__.get(_LOADER)
    if loader is None:
        async def load(ids: list[str]) -> list[Document | None]:
            return await batches.visible_batches(context.repos, await context.caller(), ids)

        loader = DataLoader(load)
        context.__dict__[_LOADER] = loader
    return loader


@strawberry.type(name="SubscriberBatchRow")
class SubscriberBatchRowType:
    doc: strawberry.Private[Document]
    row_number: int
    action: RowAction | None
    email: str | None
    status: RowStatus
    errors: list[UserError]

    @classmethod
    def of_doc(cls, doc: Document) -> SubscriberBatchRowType:
        return cls(doc=doc, row_number=doc["rowNumber"], action=RowAction(doc["action"]) if doc.get("action") else None,
                   email=doc.get("email"), status=RowStatus(doc["status"]),
                   errors=[UserError.of(error_of(e)) for e in doc.get("errors") or ()])

    @strawberry.field(description="The subscriber the row created, changed or deleted; null if gone or not visible.")
    async def subscriber(
        self, info: Info
    ) -> Annotated[SubscriberType, strawberry.lazy("resolvers.subscribers.types")] | None:
        from resolvers.subscribers.types import SubscriberType

        subscriber_id = self.doc.get("subscriberId")
        if not subscriber_id:
            return None
        doc = await info.context.loaders.visible_subscriber.load(subscriber_id)
        return SubscriberType.of_doc(doc) if doc else None


@strawberry.type
class SubscriberBatchRowConnection(Connection[SubscriberBatchRowType]):
    pass


@strawberry.type(name="SubscriberBatch", description="Many subscriber changes of one customer, applied in order by "
                                                     "one background job (R-BULK-3).")
class SubscriberBatchType(Node):
    model: strawberry.Private[SubscriberBatch]
    id: strawberry.ID
    source: BatchSource
    dry_run: bool
    status: BatchStatus
    total_rows: int
    processed_rows: int
    accepted_rows: int
    refused_rows: int
    skipped_rows: int
    idempotency_key: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    version: int

    @classmethod
    def of_doc(cls, doc: Document) -> SubscriberBatchType:
        return cls.of(SubscriberBatch.from_doc(doc))

    @classmethod
    def of(cls, b: SubscriberBatch) -> SubscriberBatchType:
        return cls(model=b, id=strawberry.ID(b.id), source=b.source, dry_run=b.dry_run, status=b.status,
                   total_rows=b.total_rows, processed_rows=b.processed_rows, accepted_rows=b.accepted_rows,
                   refused_rows=b.refused_rows, skipped_rows=b.skipped_rows, idempotency_key=b.idempotency_key,
                   created_at=b.created_at, started_at=b.started_at, finished_at=b.finished_at, version=b.version)

    @strawberry.field
    async def customer(self, info: Info) -> Annotated[CustomerType, strawberry.lazy("resolvers.customers.types")]:
        from resolvers.customers.types import CustomerType

        doc = await info.context.loaders.visible_customer.load(self.model.customer_id)
        if doc is None:  # the batch is visible, so its customer is too, unless it was removed meanwhile
            doc = await info.context.repos.customers.find_doc(self.model.customer_id)
        assert doc is not None, "a batch outlived its customer"
        return CustomerType.of_doc(doc)

    @strawberry.field(description="Who asked for it (R-AUD-1), as the viewer may see them.")
    async def created_by(self, info: Info) -> ActorType:
        return ActorType.of_doc(self.model.created_by, await info.context.caller())

    @strawberry.field(description="Its rows in order; `status` picks the rows of one status.")
    async def rows(self, info: Info, status: RowStatus | None = None, first: int | None = 100,
                   after: str | None = None) -> SubscriberBatchRowConnection:
        listing = await batches.batch_rows(info.context.repos, self.model.id, status, PageRequest.of(first, after))
        return listing_connection(SubscriberBatchRowConnection, listing, SubscriberBatchRowType.of_doc)

    @strawberry.field(description="The rows and their results as CSV: a signed link valid 30 minutes from this "
                                  "read (no token needed); null until the batch finished (R-BULK-4).")
    def result_download_url(self, info: Info) -> str | None:
        if self.model.status not in FINISHED or info.context.batch_result_url is None:
            return None
        return info.context.batch_result_url(self.model.id)


@strawberry.type
class SubscriberBatchConnection(Connection[SubscriberBatchType]):
    pass


async def customer_batches(info: Info, customer_id: str, first: int | None, after: str | None
                           ) -> SubscriberBatchConnection:
    """A visible customer's batches, newest first."""
    reads.require_scope(await info.context.caller(), Scope.SUBSCRIBERS_READ)
    request = PageRequest.of(first, after)
    loaders = info.context.loaders.batches  # batched across every customer of a page
    page = await loaders.page.load(BatchPageKey(customer_id, request))

    async def count() -> int:
        return await loaders.count.load(customer_id)

    return connection_of(SubscriberBatchConnection, page, [SubscriberBatchType.of_doc(d) for d in page.docs], count)
