"""`dashboardCounts` (DOMAIN.md §17, R-DASH-1): a dashboard's counts, scoped like the lists, in one round trip."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.model.errors import Forbidden
from domain.rules.dashboard import Counts, Part, dashboard_owner, missing_scope, shape, tallies
from domain.rules.tenancy import Caller
from domain.store import dashboard_pipeline
from domain.store.repositories import Repositories


@dataclass(frozen=True)
class DashboardFilter:
    customer_id: str | None = None
    sub_partner_org_id: str | None = None
    include_sub_partners: bool = False


async def dashboard_counts(repos: Repositories, caller: Caller, filter: DashboardFilter, parts: Iterable[Part]
                           ) -> Counts:
    """The counts of the asked-for `parts` (the others are zeros); only those are computed.

    Refused (Forbidden) as a whole, with the message the matching list gives, when a part needs a read scope the
    caller lacks, or when the lists refuse the ownership asked for (sub-partners without full_admin). Entities of
    orgs or customers the caller cannot see count as missing ones: zeros (R-ORG-6), as the lists show none.
    """
    wanted = tallies(parts)
    if (scope := missing_scope(caller, wanted)) is not None:
        raise Forbidden(f"this needs the {scope.value} scope")
    owner = dashboard_owner(caller, filter.sub_partner_org_id, filter.include_sub_partners)
    if owner is None:
        return shape({})
    return shape(await dashboard_pipeline.count(repos, owner, filter.customer_id, wanted))
