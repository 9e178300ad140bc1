"""`Query.orgLookup` (R-TRI-4) and `Query.subdomainAvailability` (R-ORD-6)."""

from __future__ import annotations

import strawberry

from domain.model.customer_orgs import SubdomainKind
from domain.services import customer_orgs
from resolvers.context import Info
from resolvers.customer_orgs.types import OrgLookupType, SubdomainAvailabilityType


@strawberry.type
class CustomerOrgQueries:
    @strawberry.field(description="The org whose member `adminEmail` is, its managing partners and what the caller "
                                  "may trial there (R-TRI-4; trials_write or a setup link).")
    async def org_lookup(self, info: Info, admin_email: str) -> OrgLookupType:
        caller = await info.context.caller()
        found = await customer_orgs.org_lookup(info.context.repos, caller, admin_email)
        link = caller.principal.link
        viewer = caller.org.id if caller.org is not None else (link.owner_org_id if link is not None else None)
        return OrgLookupType.of(found, viewer)

    @strawberry.field(description="Whether a subdomain or Meetings site name is free (R-ORD-6); reserves nothing.")
    async def subdomain_availability(self, info: Info, subdomain: str,
                                     kind: SubdomainKind | None = SubdomainKind.ENTERPRISE
                                     ) -> SubdomainAvailabilityType:
        caller = await info.context.caller()
        return SubdomainAvailabilityType.of(await customer_orgs.subdomain_availability(
            info.context.repos, caller, subdomain, kind or SubdomainKind.ENTERPRISE))
