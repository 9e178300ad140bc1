"""Demo data: a partner with two sub-partners, templates, customers in every status, subscribers.

Written through the real provisioning workflows, so the demo's customers and subscribers carry their
events. Idempotent: nothing is written when the demo partner exists (its id is derived from its name).
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.clock import FixedClock
from domain.model.entities import (
    Address,
    AuthMode,
    CustomerStatus,
    OnboardingTemplate,
    OrgKind,
    Partner,
    RouteToMarket,
    SubPartnerState,
)
from domain.model.ids import Kind
from domain.model.principal import ROLE_SCOPES, Principal, Role
from domain.rules.catalogue import CATALOGUE
from domain.rules.customers import needs_location
from domain.rules.phones import example_numbers
from domain.rules.rpl import RplEntry
from domain.rules.tenancy import Caller
from domain.services import compliance, customers, organisations, subscribers
from domain.store.engine import Engine, Fault, FaultRule
from domain.store.jobs import JobQueue, Worker
from domain.store.repositories import Repositories
from domain.workflows import Workflows
from gateway.demo_extras import SCENES
from gateway.demo_scene import DemoCustomer, DemoScene, acting_as


def demo_id(kind: Kind, name: str) -> str:
    return f"{kind.value}_{hashlib.sha1(f'demo:{name}'.encode()).hexdigest()[:24]}"


DEMO_PARTNER_ID = demo_id(Kind.PARTNER, "Demo Telecom")
DEMO_SUB_PARTNER_IDS = (demo_id(Kind.PARTNER, "Northwind Resellers"), demo_id(Kind.PARTNER, "Contoso Connect"))
# R-TRI-1: a resale partner (trials and orders, §10 and §12) and its tier-2 reseller, beside the Wholesale ones.
DEMO_RESALE_PARTNER_ID = demo_id(Kind.PARTNER, "Fjord Cloud Resale")
DEMO_RESALE_SUB_PARTNER_ID = demo_id(Kind.PARTNER, "Lagoon IT Reseller")


@dataclass(frozen=True)
class SeedResult:
    created: bool
    partner_id: str
    sub_partner_ids: tuple[str, ...]


_COMPANIES = [
    ("Acme Dental", "US", "en"), ("Blue Harbor Logistics", "US", "en_US"), ("Cedar & Pine Law", "CA", "fr"),
    ("Delta Bakeries", "GB", "en"), ("Edelweiss Treuhand", "DE", "de"), ("Fjord Analytics", "NO", "nb_NO"),
    ("Girasole Arredamenti", "IT", "it"), ("Hanami Clinic", "JP", "ja"), ("Iberia Tapas Group", "ES", "es"),
    ("Jacaranda Schools", "AU", "en_AU"), ("Kiwi Outdoor", "NZ", "en"), ("Lisboa Seguros", "PT", "pt"),
    ("Maple Ridge Dental", "CA", "en_CA"), ("Nordlys Energi", "DK", "da"), ("Orchid Spa", "SG", "en"),
    ("Pampas Vinos", "AR", "es"), ("Quetzal Travel", "MX", "es_MX"), ("Rosa Floristik", "AT", "de"),
    ("Sakura Sushi Bar", "JP", "ja_JP"), ("Tulip Mobility", "NL", "nl"), ("Uppsala Bygg", "SE", "sv"),
    ("Vistula Logistyka", "PL", "pl"), ("Warsaw Web Studio", "PL", "pl_PL"), ("Xochimilco Imports", "MX", "es"),
    ("Yarra Coffee Roasters", "AU", "en"), ("Zephyr Wind Farms", "GB", "en_GB"), ("Bogotá Diseño", "CO", "es_CO"),
    ("Jakarta Batik House", "ID", "id"), ("Praha Pivovar", "CZ", "cs"), ("Budapest Bistro", "HU", "hu"),
]
_FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eun", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kai", "Lena", "Mateo",
          "Nia", "Omar", "Priya", "Quinn", "Rui", "Sofia", "Tomás"]
_LAST = ["Silva", "Müller", "Rossi", "Tanaka", "Kowalski", "Dubois", "Nguyen", "García", "Smith", "Jensen"]
_PACKAGE_SETS = [
    ["webex_calling", "webex_meetings"], ["webex_suite", "attendant_console"], ["webex_calling_standard"],
    ["webex_voice", "cisco_calling_plan"], ["webex_meetings"], ["cx_essentials", "webex_calling"],
    ["common_area_calling", "webex_calling", "cisco_calling_plan"],
]
_TIMEZONES = {"US": "America/New_York", "CA": "America/Toronto", "GB": "Europe/London", "DE": "Europe/Berlin",
              "JP": "Asia/Tokyo", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland", "SG": "Asia/Singapore",
              "MX": "America/Mexico_City", "AR": "America/Argentina/Buenos_Aires", "CO": "America/Bogota",
              "ID": "Asia/Jakarta"}

# Synthetic restricted-party entries (R-RPL-4): near-copies of some demo names, so that screening stops them.
DEMO_LIST = "Demo Restricted Parties (synthetic)"
_RPL_NAMES = {
    # rejected by the reviewer → error (RPL_REJECTED)
    "Girasole Arredamenti": ("Girasole Arredamenti S.p.A.", "IT"),
    "Nordlys Energi": ("Nordlys Energi A/S", None),
    "Uppsala Bygg": ("Uppsala Bygg AB", "SE"),
    "Jakarta Batik House": ("Batik House Jakarta", None),
    # waiting for a decision → pending_rpl_review
    "Blue Harbor Logistics": ("Blue Harbour Logistics Ltd", "US"),
    "Iberia Tapas Group": ("Iberia Tapas Group S.L.", None),
    "Pampas Vinos": ("Pampas Vinos S.A.", "AR"),
    "Warsaw Web Studio": ("Warsaw Web Studio Sp. z o.o.", "PL"),
    "Budapest Bistro": ("Budapest Bistro Kft", None),
}
_RPL_EXTRA = [("Volga Heavy Machinery Export", "RU"), ("Golden Crescent Trading FZE", "AE"),
              ("Northern Lights Shipping Co", None)]
# Free Webex accounts that must consent before they join an org (R-SUB-3).
_FREE_ACCOUNTS = ["ana.silva.0@acme-dental.example", "ben.muller.1@acme-dental.example"]


def demo_rpl_entries() -> list[RplEntry]:
    entries = [RplEntry.create(DEMO_LIST, name, country=country) for name, country in _RPL_NAMES.values()]
    return entries + [RplEntry.create(DEMO_LIST, name, country=country) for name, country in _RPL_EXTRA]


@dataclass
class _Plan:
    index: int
    owner: Partner
    template: OnboardingTemplate
    company: str
    country: str
    language: str
    target: CustomerStatus
    created: datetime
    packages: list[str]
    customer_id: str = ""


async def seed_demo(repos: Repositories) -> SeedResult:
    """Create the demo through the real workflows, so every customer and subscriber has its events.

    Partners and templates are written directly (they have no workflow). Customers are provisioned,
    reviewed, updated and deleted through the same services the API uses, with a job worker run
    in-process; those left `provisioning`, `updating` or `deleting` still have their job queued, so a
    gateway started afterwards visibly moves them on.
    """
    if await repos.partners.get(DEMO_PARTNER_ID) is not None:
        return SeedResult(False, DEMO_PARTNER_ID, DEMO_SUB_PARTNER_IDS)
    rng = random.Random(20261122)
    now = repos.clock.now()
    start = now - timedelta(days=120)
    clock = FixedClock(start)  # the seed walks forward through the demo's 120 days of history
    seed = Repositories.over(repos.db, clock)
    engine = Engine(0.0)
    queue = JobQueue(repos.db, clock, owner="demo-seed")
    workflows = Workflows(seed, queue, engine)
    worker = Worker(queue, workflows.handlers(), give_ups=workflows.give_ups())

    parent = Partner(id=DEMO_PARTNER_ID, kind=OrgKind.PARTNER, name="Demo Telecom", subscription_id="Sub-DEMO-0001",
                     delayed_billing_enabled=True, created_at=start)
    subs = [
        Partner(id=DEMO_SUB_PARTNER_IDS[0], kind=OrgKind.SUB_PARTNER, name="Northwind Resellers",
                subscription_id=parent.subscription_id, parent_id=parent.id,
                provisioning_state=SubPartnerState.ACTIVE, billing_start_date=(start + timedelta(days=1)).date(),
                delayed_billing_enabled=True, admin_email="admin@northwind.example",
                created_at=start + timedelta(days=1)),
        # Suspended at the end of the seed, once its customers exist (R-ORG-5).
        Partner(id=DEMO_SUB_PARTNER_IDS[1], kind=OrgKind.SUB_PARTNER, name="Contoso Connect",
                subscription_id=parent.subscription_id, parent_id=parent.id,
                provisioning_state=SubPartnerState.ACTIVE, billing_start_date=(start + timedelta(days=2)).date(),
                delayed_billing_enabled=True, admin_email="admin@contoso.example",
                created_at=start + timedelta(days=2)),
    ]

    def template(owner: Partner, name: str, country: str, language: str, mode: AuthMode, day: int
                 ) -> OnboardingTemplate:
        return OnboardingTemplate(
            id=demo_id(Kind.TEMPLATE, f"{owner.name}/{name}"), owner_org_id=owner.id, root_org_id=owner.root_id,
            provisioning_id=str(uuid.UUID(hashlib.md5(f"demo:{owner.name}/{name}".encode()).hexdigest())),
            name=name, country=country, language=language, auth_mode=mode,
            idp_entity_id="https://idp.demo-telecom.example/saml" if mode is AuthMode.PARTNER_SAML else None,
            brand_name=owner.name, restrict_admin_invite_emails_on_attach=False, disable_webex_calling_1to1=False,
            created_at=start + timedelta(days=day))

    templates = [
        template(parent, "Small business (Americas)", "US", "en_US", AuthMode.WEBEX, 3),
        template(parent, "Enterprise SSO (Europe)", "DE", "de_DE", AuthMode.PARTNER_SAML, 4),
        template(subs[0], "Northwind standard", "GB", "en_GB", AuthMode.WEBEX, 5),
        template(subs[1], "Contoso standard", "US", "en_US", AuthMode.WEBEX, 6),
    ]
    resale = Partner(id=DEMO_RESALE_PARTNER_ID, kind=OrgKind.PARTNER, name="Fjord Cloud Resale",
                     subscription_id="Sub-DEMO-0002", route_to_market=RouteToMarket.RESALE,
                     notification_emails=("sales-desk@fjord-cloud.example",), created_at=start)
    resale_sub = Partner(id=DEMO_RESALE_SUB_PARTNER_ID, kind=OrgKind.SUB_PARTNER, name="Lagoon IT Reseller",
                         subscription_id=resale.subscription_id, parent_id=resale.id,
                         provisioning_state=SubPartnerState.ACTIVE, billing_start_date=start.date(),
                         admin_email="admin@lagoon-it.example", route_to_market=RouteToMarket.RESALE,
                         notification_emails=("admin@lagoon-it.example",), created_at=start + timedelta(days=1))
    await repos.partners.insert_many([parent.to_doc(), *(s.to_doc() for s in subs), resale.to_doc(),
                                      resale_sub.to_doc()])
    await repos.templates.insert_many([t.to_doc() for t in templates])
    await repos.rpl.load(demo_rpl_entries())
    await repos.accounts.load([(email, now + timedelta(minutes=2)) for email in _FREE_ACCOUNTS])

    owners = [(parent, templates[i % 2]) for i in range(20)] + [(subs[0], templates[2])] * 6 + \
             [(subs[1], templates[3])] * 4
    # pending_customer_approval needs an attached org: the attach scene (gateway/demo_extras/attach.py) seeds it.
    statuses = [s for s in CustomerStatus if s is not CustomerStatus.PENDING_CUSTOMER_APPROVAL]
    plans: list[_Plan] = []
    for i, ((owner, tpl), (company, country, lang)) in enumerate(zip(owners, _COMPANIES, strict=True)):
        target = statuses[i % len(statuses)]
        created = start + timedelta(days=10 + i * 3, hours=rng.randrange(24), minutes=rng.randrange(60))
        if target is CustomerStatus.PENDING_RPL_REVIEW:
            created = now - timedelta(hours=40 - i)  # recent enough that its 72-hour review is still open
        # Shifted each cycle so that package sets and statuses combine differently.
        packages = _PACKAGE_SETS[(i + i // len(statuses)) % len(_PACKAGE_SETS)]
        plans.append(_Plan(i, owner, tpl, company, country, lang, target, created, packages))
        if target is CustomerStatus.PROVISIONED_WITH_ERRORS:
            engine.rules.append(FaultRule(Fault.CALLING_MAINTENANCE, f"EXT-{1000 + i}"))

    def caller(owner: Partner) -> Caller:
        principal = Principal(f"admin@{owner.id}", owner.id, frozenset({Role.FULL_ADMIN}), ROLE_SCOPES[Role.FULL_ADMIN])
        return Caller(principal, owner)

    async def onboard(plan: _Plan, *, settle: bool = True) -> None:
        clock.set(plan.created)
        with acting_as(caller(plan.owner)):
            customer = await customers.provision_customer(seed, caller(plan.owner), _request(plan), None)
        plan.customer_id = customer.id
        domain_name = _domain(plan.company)
        user_packages = [p for p in plan.packages if CATALOGUE[p].assignable_to_users]
        numbers = example_numbers(plan.country, 10)  # R-SUB-1: real numbers of the location's country
        for n in range(4 + (plan.index * 5) % 6):
            clock.set(plan.created + timedelta(minutes=10 + n))
            first, last = _FIRST[(plan.index + n) % len(_FIRST)], _LAST[(plan.index * 3 + n) % len(_LAST)]
            package = user_packages[n % len(user_packages)]
            calling = CATALOGUE[package].calling
            with acting_as(caller(plan.owner)):
                await subscribers.provision_subscriber(seed, caller(plan.owner), subscribers.NewSubscriber(
                    customer_id=customer.id, email=_ascii(f"{first}.{last}.{n}@{domain_name}.example".lower()),
                    package=package, first_name=first, last_name=last,
                    extension=f"{100 + n}" if calling else None,
                    primary_phone_number=numbers[n] if calling and n % 2 == 0 and n < len(numbers) else None), None)
        if settle:
            clock.set(plan.created + timedelta(minutes=20 + rng.randrange(400)))
            await worker.run_until_idle()

    reviewer = Caller(Principal("reviewer@operator.example", None, frozenset({Role.COMPLIANCE_REVIEWER}),
                                frozenset()), None)
    # 1. Everything that settles, onboarded in the order of its creation; the compliance team rejects
    #    the customers meant to end in error within a few hours of their screening.
    for plan in sorted((p for p in plans if p.target is not CustomerStatus.PROVISIONING), key=lambda p: p.created):
        await onboard(plan)
        if plan.target is CustomerStatus.ERROR:
            clock.advance(timedelta(hours=3))
            with acting_as(reviewer):
                await compliance.decide(seed, reviewer, plan.customer_id, compliance.Decision.REJECT,
                                        "synthetic list match confirmed (demo)")
            await worker.run_until_idle()
    # 2. Work still in flight when the demo starts: new customers, an update, a deletion.
    clock.set(now - timedelta(hours=2))
    for plan in plans:
        clock.advance(timedelta(seconds=30))
        with acting_as(caller(plan.owner)):
            if plan.target is CustomerStatus.UPDATING:
                await customers.update_customer(seed, caller(plan.owner), plan.customer_id,
                                                customers.CustomerUpdate(packages=plan.packages), None)
            elif plan.target is CustomerStatus.DELETING:
                await customers.delete_customer(seed, caller(plan.owner), plan.customer_id, None)
    arriving = [p for p in plans if p.target is CustomerStatus.PROVISIONING]
    for k, plan in enumerate(arriving):
        # Spread over the last 90 minutes; every write stays in the past, so the jobs are due at once.
        plan.created = now - timedelta(minutes=90 - k * 60 // max(len(arriving), 1))
        await onboard(plan, settle=False)  # its subscribers wait for it (R-RPL-5)
    assert all(p.customer_id for p in plans)
    # 3. The feature scenes (gateway/demo_extras), each in the last hour before now.
    scene = DemoScene(seed, clock, worker, now, parent, subs, templates,
                      [DemoCustomer(p.customer_id, p.target, p.owner, p.country, p.packages) for p in plans])
    for play in SCENES:
        clock.set(now - timedelta(minutes=45))
        await play(scene)
    clock.set(now - timedelta(minutes=1))
    platform = Caller(Principal("ops@operator.example", None, frozenset({Role.PLATFORM_ADMIN}), frozenset()), None)
    with acting_as(platform):
        await organisations.set_sub_partner_state(seed, platform, subs[1].id, SubPartnerState.SUSPENDED)
    return SeedResult(True, parent.id, tuple(s.id for s in subs))


def _domain(company: str) -> str:
    return _ascii(company.lower().replace(" & ", "-").replace(" ", "-"))


def _request(plan: _Plan) -> customers.NewCustomer:
    i = plan.index
    address = Address(address_line1=f"{10 + i} Demo Street", city=f"{plan.company.split()[0]} City",
                      zip_or_postal_code=f"{10000 + i * 17}", country=plan.country)
    timezone = _TIMEZONES.get(plan.country, "Europe/Berlin")
    location = None
    if needs_location(plan.packages):
        location = customers.CallingLocation(name="Headquarters", address=address, timezone=timezone,
                                             language=plan.language)
    limits = [(plan.packages[0], 25)] if i % 4 == 0 else None
    return customers.NewCustomer(
        provisioning_id=plan.template.provisioning_id, external_id=f"EXT-{1000 + i}", packages=plan.packages,
        address=address, name=plan.company, primary_email=f"it@{_domain(plan.company)}.example", language=plan.language,
        parameters=customers.Parameters(calling_location=location, meetings_timezone=timezone, limits=limits))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
