"""Resale customer orgs (DOMAIN.md §10, §12): the Webex orgs trials and orders make or use.

Usage for the trials and orders slices (everything below runs inside the caller's `repos.atomic` transaction):

- read: `domain.services.customer_orgs.lookup(repos, caller_org, email)` → `OrgLookup` (R-TRI-4 facts: the org or
  None, managing partner names, trialable services, `wholesale`, `purging`, whether the email is a full admin);
  `find_by_admin_email(repos, email)` → `CustomerOrg | None`; `get(repos, org_id)`.
- names (R-ORD-6): `claim_subdomain(repos, tx, name, holder_id)` / `claim_site(repos, tx, name, holder_id)` raise
  `DomainError` SUBDOMAIN_TAKEN / SITE_URL_TAKEN (syntax problems: SUBDOMAIN_INVALID) and are idempotent for the same
  holder; `release_subdomain` / `release_site`; `transfer_claims(tx, from_holder, to_holder)` (an order's claim
  becomes its org's). A claim is held until released: orders release theirs when they end in `error`.
- the simulated Webex side: `create_org`, `add_services`, `remove_trial_services`, `set_partner_access`,
  `add_user`, `delete_trial_site`, `mark_purging`, `end_trial` (R-TRI-11 effects) in domain/services/customer_orgs.py.
- pure checks in domain/rules/resale.py: `check_company_name`, `check_industry`, `region_of_country`,
  `check_subdomain`, `normalise_name`, `check_device_type`, `check_timezone`, `site_url`, `site_name_of_url`.

The R-ATT org directory (`gateway orgs load`) is the wholesale side: orgs there, and wholesale customers'
orgs, are found by `lookup` read-only (`OrgLookup.wholesale`) and never changed by this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from domain.model.entities import PartnerAccess, _Entity


class ResaleService(str, Enum):
    """What a resale partner trials or orders (§10)."""

    MESSAGING = "MESSAGING"
    MEETINGS = "MEETINGS"
    CALLING = "CALLING"
    DEVICES = "DEVICES"


class SubdomainKind(str, Enum):
    """The two namespaces of R-ORD-6: an org's enterprise subdomain and Meetings site names."""

    ENTERPRISE = "ENTERPRISE"
    MEETINGS_SITE = "MEETINGS_SITE"


class CustomerOrgStatus(str, Enum):
    ACTIVE = "active"
    PURGING = "purging"  # R-TRI-4: being purged, not eligible for a trial or an order
    PURGED = "purged"  # R-TRI-11: gone; its names and users are free again


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class OrgAdmin(_Value):
    email: str  # lower-cased
    full_admin: bool = Field(default=True, alias="fullAdmin")


class ManagingPartner(_Value):
    """A partner's relationship with an org: its access, and the services it trials there (R-TRI-4)."""

    partner_id: str = Field(alias="partnerId")
    access: PartnerAccess
    trial_services: tuple[ResaleService, ...] = Field(default=(), alias="trialServices")
    # The access came with a trial (R-TRI-5/6): it ends with the trial (R-TRI-11).
    via_trial: bool = Field(default=False, alias="viaTrial")


class CustomerOrg(_Entity):
    name: str
    country: str
    data_region: str = Field(alias="dataRegion")
    subdomain: str | None = None
    meetings_site_url: str | None = Field(default=None, alias="meetingsSiteUrl")  # "<name>.webex.com"
    admins: tuple[OrgAdmin, ...] = ()
    users: tuple[str, ...] = ()  # lower-cased emails; a user belongs to one org only (002 step 6)
    purchased_services: tuple[ResaleService, ...] = Field(default=(), alias="purchasedServices")
    partners: tuple[ManagingPartner, ...] = ()
    # The trial that created the org (R-TRI-11: such an org with nothing bought is purged at grace end).
    created_by_trial_id: str | None = Field(default=None, alias="createdByTrialId")
    status: CustomerOrgStatus = CustomerOrgStatus.ACTIVE
    version: int = 1
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")

    def access_of(self, partner_id: str | None) -> PartnerAccess:
        """The partner's access to this org (`NONE` when it does not manage it)."""
        entry = self.partner(partner_id)
        return entry.access if entry is not None else PartnerAccess.NONE

    def partner(self, partner_id: str | None) -> ManagingPartner | None:
        return next((p for p in self.partners if p.partner_id == partner_id), None)

    @property
    def managing_partner_ids(self) -> tuple[str, ...]:
        """Partners whose access is not NONE (R-TRI-4: "managed by")."""
        return tuple(p.partner_id for p in self.partners if p.access is not PartnerAccess.NONE)

    @property
    def full_admin_emails(self) -> tuple[str, ...]:
        """R-NOT-3: the customer admins."""
        return tuple(a.email for a in self.admins if a.full_admin)

    def is_full_admin(self, email: str) -> bool:
        return email.strip().lower() in self.full_admin_emails

    @property
    def member_emails(self) -> tuple[str, ...]:
        """Every address that belongs to this org (admins and users)."""
        return tuple(dict.fromkeys([*(a.email for a in self.admins), *self.users]))

    def trialled_by_others(self, partner_id: str | None) -> frozenset[ResaleService]:
        return frozenset(s for p in self.partners if p.partner_id != partner_id for s in p.trial_services)

    @property
    def site_name(self) -> str | None:
        return self.meetings_site_url.split(".", 1)[0] if self.meetings_site_url else None


@dataclass(frozen=True)
class OrgLookup:
    """What `orgLookup(adminEmail)` tells a resale partner (R-TRI-4), and the facts trials and orders decide on."""

    org: CustomerOrg | None  # None: the address belongs to no org (a new one will be made)
    managed_by: tuple[str, ...] = ()  # partner names
    trialable: tuple[ResaleService, ...] = ()
    wholesale: bool = False  # a wholesale customer's (or the R-ATT directory's) org: read-only, ORG_NOT_ELIGIBLE
    purging: bool = False  # ORG_NOT_ELIGIBLE
    email_is_full_admin: bool = False  # R-TRI-5: consent also goes to the org's full admins otherwise
    partner_access: PartnerAccess = PartnerAccess.NONE  # the asking partner's access to the org

    @property
    def is_new(self) -> bool:
        return self.org is None and not self.wholesale

    @property
    def eligible(self) -> bool:
        """R-TRI-4 / R-ORD-5: a wholesale org, or one being purged, takes no trial or order."""
        return not self.wholesale and not self.purging
