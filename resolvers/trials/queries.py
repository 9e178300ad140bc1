"""`Query.trial` and `Query.trials` (DOMAIN.md §10, R-TRI-2 visibility, R-TRI-11 expiring soon)."""

from __future__ import annotations

import strawberry

from domain.rules.pagination import PageRequest
from domain.services import reads, trial_reads
from resolvers.common import listing_connection
from resolvers.context import Info
from resolvers.enums import TrialOrder, TrialStatus
from resolvers.trials.types import TrialConnection, TrialType


@strawberry.input
class TrialFilter:
    status: list[TrialStatus] | None = strawberry.field(default=None, description="Default: the non-terminal states.")
    expiring_within_days: int | None = strawberry.field(
        default=None, description="Active trials ending within this many days (R-TRI-11).")
    extension_pending: bool | None = None
    company_name_contains: str | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False


@strawberry.type
class TrialQueries:
    @strawberry.field(description="One trial; null when it does not exist or the caller may not see it.")
    async def trial(self, info: Info, id: strawberry.ID) -> TrialType | None:
        found = await trial_reads.trial(info.context.repos, await info.context.caller(), id)
        return TrialType.of(found) if found else None

    @strawberry.field(description="Trials the caller may see (a sales_admin: those it created), soonest end first.")
    async def trials(self, info: Info, filter: TrialFilter | None = None, first: int | None = 50,
                     after: str | None = None, order_by: TrialOrder | None = TrialOrder["ENDS_AT_ASC"]
                     ) -> TrialConnection:
        criteria = trial_reads.TrialCriteria(
            statuses=list(filter.status) if filter and filter.status is not None else None,
            expiring_within_days=filter.expiring_within_days if filter else None,
            extension_pending=filter.extension_pending if filter else None,
            company_name_contains=filter.company_name_contains if filter else None)
        ownership = reads.Ownership(sub_partner_org_id=filter.sub_partner_org_id if filter else None,
                                    include_sub_partners=bool(filter and filter.include_sub_partners))
        listing = await trial_reads.trials(info.context.repos, await info.context.caller(), criteria, ownership,
                                           (order_by or TrialOrder["ENDS_AT_ASC"]).value,
                                           PageRequest.of(first, after))
        return listing_connection(TrialConnection, listing, TrialType.of_doc)
