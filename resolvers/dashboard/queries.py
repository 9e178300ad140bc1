"""`Query.dashboardCounts` (DOMAIN.md §17, R-DASH-1)."""

from __future__ import annotations

import strawberry

from domain.rules.dashboard import Part
from domain.services import dashboard
from resolvers.context import Info
from resolvers.dashboard.types import DashboardCounts, DashboardFilter
from resolvers.loaders import selected_names


@strawberry.type
class DashboardQueries:
    @strawberry.field(description="A status dashboard's counts in one database round trip, scoped like the lists "
                                  "(R-ORG-3); each part needs the read scope of its list (R-DASH-1).")
    async def dashboard_counts(self, info: Info, filter: DashboardFilter | None = None) -> DashboardCounts:
        # Only the parts asked for are counted (and need their scope).
        names = selected_names(info.selected_fields[0].selections, ())
        parts = {part for name in names if (part := Part.of_field(name)) is not None}
        given = filter or DashboardFilter()
        wanted = dashboard.DashboardFilter(
            customer_id=str(given.customer_id) if given.customer_id is not None else None,
            sub_partner_org_id=str(given.sub_partner_org_id) if given.sub_partner_org_id is not None else None,
            include_sub_partners=bool(given.include_sub_partners),
        )
        counts = await dashboard.dashboard_counts(info.context.repos, await info.context.caller(), wanted, parts)
        return DashboardCounts.of(counts)
