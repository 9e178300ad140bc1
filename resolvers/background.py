"""`BackgroundWork` (DOMAIN.md §17, R-DASH-2): what a customer, subscriber or workspace is waiting for while its
status says `provisioning`, `updating`, `pending_*`. Any entity type adds the field with `background_work_of`."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from domain.rules import background as rules
from resolvers.common import ProvisioningError
from resolvers.context import Info
from resolvers.loaders import now_or_later


@strawberry.type(description="An entity's background work now (R-DASH-2); the field is null when it is idle.")
class BackgroundWork:
    kind: str = strawberry.field(description="The job, e.g. `customer.settle`, `subscriber.settle`, "
                                             "`rpl.timeout`; `waiting` when only an answer is awaited.")
    attempts: int = strawberry.field(description="Failed attempts so far.")
    last_error: ProvisioningError | None = strawberry.field(
        description="The last failure; unexpected faults are shown as INTERNAL.")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next (null: under way now, "
                                                                    "or waiting for an answer).")
    waiting_for: str | None = strawberry.field(
        description="customer | rpl_review | customer_approval | user_consent")

    @classmethod
    def of(cls, work: rules.BackgroundWork | None) -> BackgroundWork | None:
        if work is None:
            return None
        return cls(kind=work.kind, attempts=work.attempts,
                   last_error=ProvisioningError.of(work.last_error) if work.last_error else None,
                   next_attempt_at=work.next_attempt_at, waiting_for=work.waiting_for)


def background_work_of(info: Info, entity_id: str,
                       status: str) -> BackgroundWork | Awaitable[BackgroundWork | None] | None:
    """The field's value for an entity the caller sees: batched with every other entity of the response."""
    return now_or_later(info.context.loaders.background_work, (entity_id, status), BackgroundWork.of)
