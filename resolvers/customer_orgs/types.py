"""Resale customer orgs as the API shows them (DOMAIN.md §10, §12): `CustomerOrg`, `OrgLookup` (R-TRI-4) and
`SubdomainAvailability` (R-ORD-6).

Other areas show an org with `CustomerOrgType.of(org, viewer_org_id)`: `partnerAccess` is the viewer's org's.
"""

from __future__ import annotations

import strawberry

from domain.model.customer_orgs import CustomerOrg, OrgLookup
from domain.services.customer_orgs import Availability
from resolvers.common import Node
from resolvers.enums import ErrorCode, PartnerAccess, ResaleService


@strawberry.type(name="CustomerOrg", description="A resale customer's Webex org (§10).")
class CustomerOrgType(Node):
    id: strawberry.ID
    name: str
    country: str
    data_region: str = strawberry.field(description="Where the org's data lives, from its country (R-TRI-3).")
    subdomain: str | None
    meetings_site_url: str | None
    purchased_services: list[ResaleService]
    partner_access: PartnerAccess = strawberry.field(description="The caller's org's access to this org.")

    @classmethod
    def of(cls, org: CustomerOrg, viewer_org_id: str | None) -> CustomerOrgType:
        return cls(id=strawberry.ID(org.id), name=org.name, country=org.country, data_region=org.data_region,
                   subdomain=org.subdomain, meetings_site_url=org.meetings_site_url,
                   purchased_services=list(org.purchased_services), partner_access=org.access_of(viewer_org_id))


@strawberry.type(name="OrgLookup", description="The org an admin email belongs to; exact match only (R-TRI-4).")
class OrgLookupType:
    org: CustomerOrgType | None = strawberry.field(description="null: the address belongs to no org (a new one).")
    managed_by: list[str] = strawberry.field(description="The names of the partners managing the org.")
    trialable: list[ResaleService] = strawberry.field(
        description="Services the caller may trial there: not bought, not trialled by another partner.")

    @classmethod
    def of(cls, found: OrgLookup, viewer_org_id: str | None) -> OrgLookupType:
        return cls(org=CustomerOrgType.of(found.org, viewer_org_id) if found.org is not None else None,
                   managed_by=list(found.managed_by), trialable=list(found.trialable))


@strawberry.type(name="SubdomainAvailability")
class SubdomainAvailabilityType:
    subdomain: str = strawberry.field(description="The name as it would be stored (lower-cased).")
    available: bool
    reason: ErrorCode | None = strawberry.field(
        description="SUBDOMAIN_INVALID, SUBDOMAIN_TAKEN or SITE_URL_TAKEN when not available (R-ORD-6).")

    @classmethod
    def of(cls, a: Availability) -> SubdomainAvailabilityType:
        return cls(subdomain=a.subdomain, available=a.available, reason=a.reason)
