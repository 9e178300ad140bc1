"""`Query.subscriberBatch` (R-BULK-3)."""

from __future__ import annotations

import strawberry

from resolvers.batches.types import SubscriberBatchType, visible_batch_loader
from resolvers.context import Info


@strawberry.type
class BatchQueries:
    @strawberry.field(description="A subscriber batch; null when it does not exist or is not visible (R-ORG-6).")
    async def subscriber_batch(self, info: Info, id: strawberry.ID) -> SubscriberBatchType | None:
        doc = await visible_batch_loader(info.context).load(str(id))
        return SubscriberBatchType.of_doc(doc) if doc else None
