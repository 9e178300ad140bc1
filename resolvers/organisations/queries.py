from __future__ import annotations

import strawberry

from domain.model.errors import Forbidden
from domain.rules.pagination import PageRequest
from domain.services import reads
from resolvers.context import Info
from resolvers.enums import SubPartnerState
from resolvers.organisations.types import PartnerConnection, PartnerType, Viewer, partner_connection


@strawberry.type
class OrganisationQueries:
    @strawberry.field(description="The caller: its org, roles and scopes.")
    async def viewer(self, info: Info) -> Viewer:
        caller = await info.context.caller()
        if caller.org is None:
            raise Forbidden("platform roles have no org; use `partners` to browse partner orgs")
        principal = caller.principal
        return Viewer(
            org_id=strawberry.ID(caller.org.id), org_kind=caller.org.kind,
            roles=sorted(r.value for r in principal.roles), scopes=sorted(s.value for s in principal.scopes),
            partner=PartnerType.of(caller.org),
        )

    @strawberry.field(description="The caller's sub-partners (empty for a sub-partner: R-ORG-1).")
    async def sub_partners(
        self, info: Info, provisioning_state: SubPartnerState | None = None, first: int | None = 50,
        after: str | None = None,
    ) -> PartnerConnection:
        caller = await info.context.caller()
        listing = await reads.sub_partners(
            info.context.repos, caller, None, provisioning_state, PageRequest.of(first, after),
        )
        return partner_connection(listing)

    @strawberry.field(description="Every top-level partner (platform_admin only).")
    async def partners(self, info: Info, first: int | None = 50, after: str | None = None) -> PartnerConnection:
        listing = await reads.partners(info.context.repos, await info.context.caller(), PageRequest.of(first, after))
        return partner_connection(listing)
