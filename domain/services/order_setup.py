"""The setup wizard's completion and the provisioning of an order (DOMAIN.md §12, R-ORD-5…7), over the customer-org
directory of the orgs slice (domain/services/customer_orgs.py): the org an admin's email belongs to, the names
(subdomain, Meetings site) claimed through a unique index, and the simulated Webex side that creates orgs."""

from __future__ import annotations

from typing import Any

from domain.model.changes import EntityType
from domain.model.customer_orgs import ResaleService as OrgService
from domain.model.customer_orgs import SubdomainKind
from domain.model.entities import ProvisioningError
from domain.model.errors import DomainError, ErrorCode
from domain.model.notifications import Notification, NotificationAudience, NotificationKind
from domain.model.orders import Order, OrderSetup, OrderStatus, ResaleOffer
from domain.model.trials import ResaleService
from domain.rules.customers import CallingLocation
from domain.rules.orders import ExistingOrg, SetupData, SetupFacts, setup_problems
from domain.rules.resale import check_company_name, check_subdomain, region_of_country, site_name_of_url, taken_code
from domain.rules.validation import Problems
from domain.services import customer_orgs
from domain.store.repositories import Repositories, Tx


async def _name_problem(repos: Repositories, tx: Tx, value: str | None, kind: SubdomainKind, holder: str
                        ) -> ErrorCode | None:
    """R-ORD-6: invalid, reserved, or held by another (a stored org or a set-up order) -> its code."""
    if value is None or not value.strip():
        return None
    problems = Problems()
    given = value if kind is SubdomainKind.ENTERPRISE else site_name_of_url(value)
    name = check_subdomain(problems, given, kind, "name")
    if name is None:
        return problems.items[0].code if problems.items else ErrorCode.SUBDOMAIN_INVALID
    current = await repos.name_claims.holder(kind, name, session=tx.session)
    return None if current in (None, holder) else taken_code(kind)


async def check_setup(repos: Repositories, tx: Tx, order: Order, data: SetupData, by: str) -> OrderSetup:
    """R-ORD-5: every problem of the wizard's steps at once (raised), else what the completion stores."""
    owner = await repos.partners.get(order.owner_org_id)
    email = data.customer_admin_email.strip().lower()
    existing: ExistingOrg | None = None
    conversion_admins: frozenset[str] | None = None
    if order.trial_id is not None and order.org_id is not None:  # R-TRI-10: the trial's org is kept
        org = await customer_orgs.get(repos, order.org_id, session=tx.session)
        conversion_admins = frozenset(a.email for a in org.admins) if org else frozenset()
        existing = ExistingOrg(order.org_id)
    elif "@" in email:
        found = await customer_orgs.lookup(repos, owner, email, session=tx.session)
        if found.org is not None:
            existing = ExistingOrg(found.org.id, wholesale=found.wholesale, purging=found.purging)
    new_org = Problems()
    if existing is None and data.new_org_given:
        check_company_name(new_org, data.new_org_name or "", "input", "newOrg", "name")
        region_of_country(new_org, data.new_org_country or "", "input", "newOrg", "country")
    wizard_site = data.meetings_site_url if ResaleService.MEETINGS in order.services and \
        order.meetings_site_url is None else None
    facts = SetupFacts(
        existing_org=existing, new_org_problems=tuple(new_org.items), conversion_admins=conversion_admins,
        subdomain_problem=await _name_problem(repos, tx, data.subdomain, SubdomainKind.ENTERPRISE, order.id)
        if existing is None else None,
        site_problem=await _name_problem(repos, tx, wizard_site, SubdomainKind.MEETINGS_SITE, order.id))
    setup_problems(order, data, facts).raise_if_any()
    location = data.calling_location if ResaleService.CALLING in order.services else None
    return OrderSetup(
        customer_admin_email=email, existing_org_id=existing.id if existing else None,
        new_org_name=data.new_org_name.strip() if existing is None and data.new_org_name else None,
        new_org_country=data.new_org_country.strip().upper() if existing is None and data.new_org_country else None,
        subdomain=data.subdomain.strip().lower() if existing is None and data.subdomain else None,
        meetings_site_url=f"{site_name_of_url(wizard_site)}.webex.com" if wizard_site else None,
        meetings_timezone=data.meetings_timezone.strip() if wizard_site and data.meetings_timezone else None,
        calling_location=_location_doc(location) if location else None, completed_by=by)


def _location_doc(location: CallingLocation) -> dict[str, Any]:
    return {"name": location.name, "address": location.address.model_dump(by_alias=True),
            "timezone": location.timezone, "language": location.language,
            "emergencyLocationIdentifier": location.emergency_location_identifier}


async def claim_names(repos: Repositories, tx: Tx, order: Order, setup: OrderSetup) -> None:
    """R-ORD-6: hold the new org's subdomain and the wizard's site for the order (one racing wizard wins)."""
    if setup.subdomain:
        await customer_orgs.claim_subdomain(repos, tx, setup.subdomain, order.id)
    if setup.meetings_site_url:
        try:
            await customer_orgs.claim_site(repos, tx, setup.meetings_site_url, order.id)
        except DomainError as e:
            raise DomainError.single(e.errors[0].code, e.errors[0].message, "input", "meetings", "siteUrl") from None


async def provision(repos: Repositories, tx: Tx, order: Order) -> Order:
    """R-ORD-7 on the simulated Webex side: create or update the org, enable every ordered service, the owner's
    access (NONE after a CUSTOMER handover), the first admin's welcome -> `active`, billing started for all."""
    assert order.setup is not None
    owner = await repos.partners.get(order.owner_org_id)
    services = tuple(OrgService(s.value) for s in order.services)
    setup = order.setup
    if order.org_id is not None:
        org_id = order.org_id
        await customer_orgs.transfer_claims(repos, tx, order.id, org_id)
        await customer_orgs.add_services(repos, tx, org_id, order.owner_org_id, services, purchased=True)
        await customer_orgs.set_partner_access(repos, tx, org_id, order.owner_org_id, order.partner_access)
        # A new site: chosen in the wizard, or named by an A_WX conversion (an A_SPK one keeps the trial site).
        new_site = setup.meetings_site_url or (order.meetings_site_url if order.offer is ResaleOffer.A_WX else None)
        if new_site:
            await customer_orgs.set_meetings_site(repos, tx, org_id, site_name_of_url(new_site))
        if order.trial_id is not None:  # R-TRI-10: unordered trial services end now
            await customer_orgs.remove_trial_services(repos, tx, org_id, order.owner_org_id, tuple(OrgService))
    else:
        site = order.site_url
        org = await customer_orgs.create_org(repos, tx, customer_orgs.NewCustomerOrg(
            name=setup.new_org_name or setup.customer_admin_email, country=setup.new_org_country or "",
            admin_email=setup.customer_admin_email, partner_id=order.owner_org_id, subdomain=setup.subdomain,
            site=site_name_of_url(site) if site else None, claim_holder=order.id, purchased=services,
            access=order.partner_access))
        org_id = org.id
        await tx.notify(Notification(
            kind=NotificationKind.CUSTOMER_ADMIN_WELCOME, audience=NotificationAudience.CUSTOMER_ADMINS,
            to=(setup.customer_admin_email,), occasion="org-created", owner_org_id=order.owner_org_id,
            root_org_id=order.root_org_id, entity_type=EntityType.ORDER, entity_id=order.id,
            created_by=order.created_by,
            facts={"orgName": org.name, "partnerName": owner.name if owner else "your partner"}))
    moved, change = order.move(OrderStatus.ACTIVE, tx.now, reason="provisioned; billing started", org_id=org_id,
                               billing_started_at=tx.now)
    tx.record(change)
    return moved


async def fail(repos: Repositories, tx: Tx, order: Order, error: ProvisioningError) -> Order:
    """R-ORD-7: `provisioning` -> `error`, nothing billed; the order's names are released."""
    moved, change = order.move(OrderStatus.ERROR, tx.now, reason="provisioning failed", errors=(error,))
    if order.setup is not None and order.setup.subdomain:
        await customer_orgs.release_subdomain(repos, tx, order.setup.subdomain, order.id)
    if order.site_url:  # the wizard's site, or the new one an A_WX conversion claimed (only if the order holds it)
        await customer_orgs.release_site(repos, tx, order.site_url, order.id)
    tx.record(change)
    return moved
