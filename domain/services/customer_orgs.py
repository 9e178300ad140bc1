"""The directory of resale customer orgs (DOMAIN.md §10, §12): looking an org up by an admin's email (R-TRI-4),
whether a subdomain or site name is free and claiming it (R-ORD-6), and the simulated Webex side that trials and
orders change orgs through (R-TRI-6, R-TRI-9, R-TRI-11, R-ORD-7).

Every function that takes a `Tx` writes inside the caller's transaction (a trial's or an order's job), so the org
changes together with the trial or order that caused it. See domain/model/customer_orgs.py for the usage summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.customer_orgs import (
    CustomerOrg,
    CustomerOrgStatus,
    ManagingPartner,
    OrgAdmin,
    OrgLookup,
    ResaleService,
    SubdomainKind,
)
from domain.model.entities import Customer, Partner, PartnerAccess
from domain.model.errors import DomainError, ErrorCode, Forbidden, InvalidArgument
from domain.model.ids import Kind, new_id
from domain.model.principal import LinkPurpose, Role, Scope
from domain.rules.countries import REGION_OF
from domain.rules.organisations import route_problem
from domain.rules.resale import DATA_REGION_OF, check_subdomain, site_name_of_url, site_url, taken_code, trialable
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx

# ---------------------------------------------------------------------------------------------------- reads


async def get(repos: Repositories, org_id: str, *, session: Any = None) -> CustomerOrg | None:
    return await repos.customer_orgs.get(org_id, session=session)


async def find_by_admin_email(repos: Repositories, email: str, *, session: Any = None
                              ) -> CustomerOrg | None:
    """The resale org whose admin `email` is (exact match, case-insensitive), or None."""
    org = await repos.customer_orgs.with_member(email.strip().lower(), session=session)
    return org if org is not None and any(a.email == email.strip().lower() for a in org.admins) else None


async def _wholesale_org(repos: Repositories, email: str, session: Any) -> CustomerOrg | None:
    """A read-only view of the wholesale side's org this address belongs to: a wholesale customer's admin or
    subscriber, or a user of an org in the R-ATT directory."""
    doc = await repos.customer_orgs.wholesale_customer_of(email, session=session)
    if doc is not None:
        customer = Customer.from_doc(doc)
        country = customer.address.country.upper()
        return CustomerOrg(id=customer.org_id or customer.id, name=customer.name, country=country,
                           data_region=DATA_REGION_OF.get(country) or REGION_OF.get(country, ""),
                           admins=(OrgAdmin(email=customer.primary_email.lower()),),
                           created_at=customer.created_at, updated_at=customer.updated_at)
    entry = await repos.customer_orgs.directory_org_of(email, session=session)
    if entry is not None:
        return CustomerOrg(id=entry["_id"], name=entry["name"], country="", data_region="",
                           created_at=repos.clock.now(), updated_at=repos.clock.now())
    return None


async def partner_names(repos: Repositories, partner_ids: Sequence[str]) -> tuple[str, ...]:
    docs = await repos.partners.by_ids(partner_ids)
    return tuple(docs[p]["name"] for p in partner_ids if p in docs)


async def lookup(repos: Repositories, partner: Partner | None, email: str, *, session: Any = None
                 ) -> OrgLookup:
    """R-TRI-4: the org `email` belongs to, as the facts trials and orders decide on.

    Exact, case-insensitive match of a member's address. Resale orgs first; then the wholesale side (read-only,
    `wholesale`, no trialable service).
    """
    folded = email.strip().lower()
    org = await repos.customer_orgs.with_member(folded, session=session)
    partner_id = partner.id if partner is not None else None
    if org is None:
        wholesale = await _wholesale_org(repos, folded, session)
        if wholesale is not None:
            return OrgLookup(org=wholesale, wholesale=True,
                             email_is_full_admin=wholesale.is_full_admin(folded))
        return OrgLookup(org=None, trialable=trialable(None, partner_id))
    purging = org.status is CustomerOrgStatus.PURGING
    return OrgLookup(org=org, managed_by=await partner_names(repos, org.managing_partner_ids),
                     trialable=() if purging else trialable(org, partner_id), purging=purging,
                     email_is_full_admin=org.is_full_admin(folded), partner_access=org.access_of(partner_id))


def _require_resale(caller: Caller, *scopes: Scope) -> None:
    """A partner with one of `scopes`, on the RESALE route (R-TRI-1; a query refuses with FORBIDDEN)."""
    if caller.org is None or not any(caller.principal.can(s) for s in scopes):
        raise Forbidden(f"this needs the {' or '.join(s.value for s in scopes)} scope of a partner")
    if (mismatch := route_problem(caller.org, scopes[0])) is not None:
        raise Forbidden(mismatch)


async def org_lookup(repos: Repositories, caller: Caller, email: str) -> OrgLookup:
    """`orgLookup` (R-TRI-4): partners holding `trials_write`, and order setup-link holders (for the org of the
    link's order owner). It is a seed-shown exception to R-ORG-6: it names orgs the caller may not manage."""
    link = caller.principal.link
    if link is not None and link.purpose is LinkPurpose.ORDER_SETUP:
        owner = await repos.partners.get(link.owner_org_id)
        return await lookup(repos, owner, email)
    _require_resale(caller, Scope.TRIALS_WRITE)
    problems = Problems()
    problems.email(email, "adminEmail")
    if problems.items:
        raise InvalidArgument(problems.items[0].message, "adminEmail")
    return await lookup(repos, caller.org, email)


async def visible_org(repos: Repositories, caller: Caller, org_id: str) -> CustomerOrg | None:
    """`node(id)`: a partner sees a customer org only while its access is not NONE (R-TRI-4, R-ORG-6); the platform
    sees every org that is not purged."""
    org = await repos.customer_orgs.get(org_id)
    if org is None or org.status is CustomerOrgStatus.PURGED:
        return None
    if caller.org is None:
        return org if caller.principal.has(Role.PLATFORM_ADMIN) else None
    return org if org.access_of(caller.org.id) is not PartnerAccess.NONE else None


# ---------------------------------------------------------------------------------------------------- names


@dataclass(frozen=True)
class Availability:
    subdomain: str  # as normalised (or as given when invalid)
    available: bool
    reason: ErrorCode | None = None


async def subdomain_availability(repos: Repositories, caller: Caller, value: str,
                                 kind: SubdomainKind) -> Availability:
    """`subdomainAvailability` (R-ORD-6): reserves nothing. Partners with trials or orders scopes, and link holders."""
    if caller.principal.link is None:
        _require_resale(caller, Scope.TRIALS_WRITE, Scope.ORDERS_WRITE)
    problems = Problems()
    name = check_subdomain(problems, value if kind is SubdomainKind.ENTERPRISE else site_name_of_url(value), kind,
                           "subdomain")
    if name is None:
        return Availability(value.strip().lower(), False, problems.items[0].code)
    if await repos.name_claims.holder(kind, name) is not None:
        return Availability(name, False, taken_code(kind))
    return Availability(name, True)


async def _claim(repos: Repositories, tx: Tx, kind: SubdomainKind, value: str, holder: str, field: str) -> str:
    problems = Problems()
    given = value if kind is SubdomainKind.ENTERPRISE else site_name_of_url(value)
    name = check_subdomain(problems, given, kind, "input", field)
    problems.raise_if_any()
    assert name is not None
    current = await repos.name_claims.holder(kind, name, session=tx.session)
    if current == holder:
        return name
    taken = DomainError.single(taken_code(kind), f"`{field}` {name!r} is taken", "input", field)
    if current is not None:
        raise taken
    try:
        await repos.name_claims.claim(kind, name, holder, tx.now, session=tx.session)
    except DuplicateKey:
        raise taken from None
    return name


async def claim_subdomain(repos: Repositories, tx: Tx, value: str, holder: str, *, field: str = "subdomain") -> str:
    """R-ORD-6: hold an enterprise subdomain for `holder` (an order, a trial or an org) in the caller's transaction.
    Returns the normalised name; raises SUBDOMAIN_INVALID / SUBDOMAIN_TAKEN at ("input", field)."""
    return await _claim(repos, tx, SubdomainKind.ENTERPRISE, value, holder, field)


async def claim_site(repos: Repositories, tx: Tx, value: str, holder: str, *, field: str = "siteUrl") -> str:
    """R-ORD-6 / R-TRI-3: hold a Meetings site name (`acme` or `acme.webex.com`); returns the bare name; raises
    SUBDOMAIN_INVALID / SITE_URL_TAKEN at ("input", field)."""
    return await _claim(repos, tx, SubdomainKind.MEETINGS_SITE, value, holder, field)


async def release_subdomain(repos: Repositories, tx: Tx, name: str, holder: str | None = None) -> None:
    await repos.name_claims.release(SubdomainKind.ENTERPRISE, name.strip().lower(), holder, session=tx.session)


async def release_site(repos: Repositories, tx: Tx, name: str, holder: str | None = None) -> None:
    await repos.name_claims.release(SubdomainKind.MEETINGS_SITE, site_name_of_url(name), holder, session=tx.session)


async def transfer_claims(repos: Repositories, tx: Tx, from_holder: str, to_holder: str) -> None:
    """The names an order (or trial) held become its org's."""
    await repos.name_claims.transfer(from_holder, to_holder, session=tx.session)


# ---------------------------------------------------------------------------------- the simulated Webex side


@dataclass(frozen=True)
class NewCustomerOrg:
    """An org the Webex side creates for a trial (R-TRI-6) or an order (R-ORD-7)."""

    name: str
    country: str  # a served one (R-TRI-3)
    admin_email: str  # the first full admin
    partner_id: str  # the owner: FULL_ADMIN (or `access`)
    subdomain: str | None = None  # claimed already by `claim_holder`, or claimed now
    site: str | None = None  # a Meetings site name, likewise
    claim_holder: str | None = None  # the order/trial whose claims become the org's
    purchased: tuple[ResaleService, ...] = ()
    trial_services: tuple[ResaleService, ...] = ()
    trial_id: str | None = None  # the trial that creates it (R-TRI-11)
    access: PartnerAccess = PartnerAccess.FULL_ADMIN


def _email_in_use(email: str) -> DomainError:
    return DomainError.single(ErrorCode.EMAIL_IN_USE, f"{email} already belongs to another org", "input",
                              "adminEmail")


async def create_org(repos: Repositories, tx: Tx, new: NewCustomerOrg) -> CustomerOrg:
    """Create an org with its first full admin and the owner's access; its names are claimed for it (R-TRI-6,
    R-ORD-7). Raises EMAIL_IN_USE when the admin belongs to an org already (002 step 6)."""
    org_id = new_id(Kind.CUSTOMER_ORG)
    admin = new.admin_email.strip().lower()
    if await repos.org_members.org_of(admin, session=tx.session) is not None:
        raise _email_in_use(admin)  # before anything is written; the unique member id settles a race
    if new.claim_holder is not None:
        await transfer_claims(repos, tx, new.claim_holder, org_id)
    subdomain = await claim_subdomain(repos, tx, new.subdomain, org_id) if new.subdomain else None
    site = await claim_site(repos, tx, new.site, org_id) if new.site else None
    country = new.country.strip().upper()
    org = CustomerOrg(
        id=org_id, name=new.name.strip(), country=country, data_region=DATA_REGION_OF.get(country, ""),
        subdomain=subdomain, meetings_site_url=site_url(site) if site else None,
        admins=(OrgAdmin(email=admin, full_admin=True),), purchased_services=tuple(dict.fromkeys(new.purchased)),
        partners=(ManagingPartner(partner_id=new.partner_id, access=new.access,
                                  trial_services=tuple(dict.fromkeys(new.trial_services)),
                                  via_trial=new.trial_id is not None),),
        created_by_trial_id=new.trial_id, created_at=tx.now, updated_at=tx.now)
    try:
        await repos.org_members.join(admin, org_id, tx.now, session=tx.session)
    except DuplicateKey:
        raise _email_in_use(admin) from None
    await repos.customer_orgs.add(org, session=tx.session)
    return org


async def _change(repos: Repositories, tx: Tx, org_id: str, edit: Callable[[CustomerOrg], dict[str, Any]]
                  ) -> CustomerOrg:
    """Apply `edit` (the fields to change) to the org, version bumped; NOT_FOUND when there is none."""
    current = await repos.customer_orgs.get(org_id, session=tx.session)
    if current is None or current.status is CustomerOrgStatus.PURGED:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer org has this id", "orgId")
    changed = current.model_copy(update={**edit(current), "version": current.version + 1, "updated_at": tx.now})
    if not await repos.customer_orgs.replace(changed, expected_version=current.version, session=tx.session):
        raise DomainError.single(ErrorCode.INVALID_STATE, "the org changed meanwhile; retry", "orgId")
    return changed


def _with_partner(org: CustomerOrg, partner_id: str, **fields: Any) -> tuple[ManagingPartner, ...]:
    entry = org.partner(partner_id) or ManagingPartner(partner_id=partner_id, access=PartnerAccess.NONE)
    updated = entry.model_copy(update=fields)
    return (*(p for p in org.partners if p.partner_id != partner_id), updated)


def _union(a: Iterable[ResaleService], b: Iterable[ResaleService]) -> tuple[ResaleService, ...]:
    return tuple(dict.fromkeys([*a, *b]))


async def add_services(repos: Repositories, tx: Tx, org_id: str, partner_id: str,
                       services: Iterable[ResaleService], *, purchased: bool) -> CustomerOrg:
    """Enable services: bought ones (an order, R-ORD-7) or the partner's trial ones (R-TRI-6, R-TRI-9)."""
    wanted = tuple(services)

    def edit(org: CustomerOrg) -> dict[str, Any]:
        if purchased:
            return {"purchased_services": _union(org.purchased_services, wanted)}
        entry = org.partner(partner_id)
        return dict(partners=_with_partner(org, partner_id, trial_services=_union(
            entry.trial_services if entry else (), wanted)))

    return await _change(repos, tx, org_id, edit)


async def remove_trial_services(repos: Repositories, tx: Tx, org_id: str, partner_id: str,
                                services: Iterable[ResaleService]) -> CustomerOrg:
    """R-TRI-9 / R-TRI-10: the partner's trial of these services ends (its site is not touched here)."""
    gone = set(services)

    def edit(org: CustomerOrg) -> dict[str, Any]:
        entry = org.partner(partner_id)
        kept = tuple(s for s in (entry.trial_services if entry else ()) if s not in gone)
        return dict(partners=_with_partner(org, partner_id, trial_services=kept))

    return await _change(repos, tx, org_id, edit)


async def set_partner_access(repos: Repositories, tx: Tx, org_id: str, partner_id: str, access: PartnerAccess,
                             *, via_trial: bool = False) -> CustomerOrg:
    """R-TRI-5/6, R-ORD-4/7: the partner's access to the org. `via_trial`: it ends with the trial (R-TRI-11)."""
    return await _change(repos, tx, org_id, lambda org: dict(partners=_with_partner(
        org, partner_id, access=access, via_trial=via_trial)))


async def add_user(repos: Repositories, tx: Tx, org_id: str, email: str, *, admin: bool = False,
                   full_admin: bool = False) -> CustomerOrg:
    """A user (or admin) joins the org; EMAIL_IN_USE when the address belongs to an org already (002 step 6)."""
    folded = email.strip().lower()
    if await repos.org_members.org_of(folded, session=tx.session) != org_id:
        try:
            await repos.org_members.join(folded, org_id, tx.now, session=tx.session)
        except DuplicateKey:
            raise _email_in_use(folded) from None

    def edit(org: CustomerOrg) -> dict[str, Any]:
        if admin:
            admins = (*(a for a in org.admins if a.email != folded), OrgAdmin(email=folded, full_admin=full_admin))
            return dict(admins=admins, users=tuple(u for u in org.users if u != folded))
        return dict(users=org.users if folded in org.member_emails else (*org.users, folded))

    return await _change(repos, tx, org_id, edit)


async def set_meetings_site(repos: Repositories, tx: Tx, org_id: str, site: str) -> CustomerOrg:
    """The org's Meetings site (R-TRI-3, R-ORD-5); the name is claimed for the org (SITE_URL_TAKEN)."""
    name = await claim_site(repos, tx, site, org_id)
    return await _change(repos, tx, org_id, lambda org: {"meetings_site_url": site_url(name)})


async def delete_trial_site(repos: Repositories, tx: Tx, org_id: str) -> CustomerOrg:
    """R-TRI-9 / R-TRI-11: the trial site is deleted and its name freed (conflict (e): held until then)."""
    org = await repos.customer_orgs.get(org_id, session=tx.session)
    if org is not None and org.site_name is not None:
        await repos.name_claims.release(SubdomainKind.MEETINGS_SITE, org.site_name, session=tx.session)
    return await _change(repos, tx, org_id, lambda org: {"meetings_site_url": None})


async def mark_purging(repos: Repositories, tx: Tx, org_id: str) -> CustomerOrg:
    """R-TRI-4: from now the org takes no trial or order (ORG_NOT_ELIGIBLE), until `end_trial` purges it."""
    return await _change(repos, tx, org_id, lambda org: {"status": CustomerOrgStatus.PURGING})


async def end_trial(repos: Repositories, tx: Tx, org_id: str, partner_id: str, trial_id: str) -> CustomerOrg:
    """R-TRI-11 at `graceEndsAt` (or `deleteTrial`): irreversible.

    An org the trial created with nothing bought is purged: its names are freed, its admins and users leave it
    (they may join another org), every partner loses access. In any other org only the partner's trial services
    end, and the access the trial gave it.
    """
    org = await repos.customer_orgs.get(org_id, session=tx.session)
    if org is None or org.status is CustomerOrgStatus.PURGED:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer org has this id", "orgId")
    if org.created_by_trial_id == trial_id and not org.purchased_services:
        await repos.name_claims.delete({"holder": org_id}, session=tx.session)
        await repos.org_members.leave_all(org_id, session=tx.session)
        return await _change(repos, tx, org_id, lambda o: dict(
            status=CustomerOrgStatus.PURGED, admins=(), users=(), partners=(), subdomain=None,
            meetings_site_url=None))

    def edit(o: CustomerOrg) -> dict[str, Any]:
        entry = o.partner(partner_id)
        if entry is None:
            return {}
        if entry.via_trial:
            return dict(partners=tuple(p for p in o.partners if p.partner_id != partner_id))
        return dict(partners=_with_partner(o, partner_id, trial_services=()))

    return await _change(repos, tx, org_id, edit)
