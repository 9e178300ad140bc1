"""Demo data: a partner with two sub-partners, templates, customers in every status, subscribers.

Idempotent: ids are derived from fixed names, and nothing is written when the demo partner exists.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta

from domain.catalogue import CATALOGUE
from domain.ids import Kind
from domain.locales import resolve_locale
from domain.models import (
    Address,
    AuthMode,
    Customer,
    CustomerPackage,
    CustomerStatus,
    Location,
    OnboardingTemplate,
    OrgKind,
    PackageStatus,
    Partner,
    ProvisioningError,
    SubPartnerState,
    Subscriber,
    SubscriberStatus,
)
from domain.repositories import Repositories


def demo_id(kind: Kind, name: str) -> str:
    return f"{kind.value}_{hashlib.sha1(f'demo:{name}'.encode()).hexdigest()[:24]}"


DEMO_PARTNER_ID = demo_id(Kind.PARTNER, "Demo Telecom")
DEMO_SUB_PARTNER_IDS = (demo_id(Kind.PARTNER, "Northwind Resellers"), demo_id(Kind.PARTNER, "Contoso Connect"))


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

# Subscriber and package states that go with each customer status.
_SUBSCRIBER_STATE = {
    CustomerStatus.PROVISIONING: SubscriberStatus.PROVISIONING,
    CustomerStatus.PENDING_RPL_REVIEW: SubscriberStatus.PROVISIONING,
    CustomerStatus.PROVISIONED: SubscriberStatus.PROVISIONED,
    CustomerStatus.PROVISIONED_WITH_ERRORS: SubscriberStatus.PROVISIONED,
    CustomerStatus.UPDATING: SubscriberStatus.PROVISIONED,
    CustomerStatus.DELETING: SubscriberStatus.DELETING,
    CustomerStatus.ERROR: SubscriberStatus.ERROR,
}


async def seed_demo(repos: Repositories) -> SeedResult:
    if await repos.partners.get(DEMO_PARTNER_ID) is not None:
        return SeedResult(False, DEMO_PARTNER_ID, DEMO_SUB_PARTNER_IDS)
    rng = random.Random(20261122)
    now = repos.clock.now()
    start = now - timedelta(days=120)

    parent = Partner(id=DEMO_PARTNER_ID, kind=OrgKind.PARTNER, name="Demo Telecom", subscription_id="Sub-DEMO-0001",
                     delayed_billing_enabled=True, created_at=start)
    subs = [
        Partner(id=DEMO_SUB_PARTNER_IDS[0], kind=OrgKind.SUB_PARTNER, name="Northwind Resellers",
                subscription_id=parent.subscription_id, parent_id=parent.id,
                provisioning_state=SubPartnerState.ACTIVE, billing_start_date=(start + timedelta(days=1)).date(),
                delayed_billing_enabled=True, admin_email="admin@northwind.example",
                created_at=start + timedelta(days=1)),
        Partner(id=DEMO_SUB_PARTNER_IDS[1], kind=OrgKind.SUB_PARTNER, name="Contoso Connect",
                subscription_id=parent.subscription_id, parent_id=parent.id,
                provisioning_state=SubPartnerState.SUSPENDED, billing_start_date=(start + timedelta(days=2)).date(),
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
    owners = [(parent, templates[i % 2]) for i in range(20)] + [(subs[0], templates[2])] * 6 + \
             [(subs[1], templates[3])] * 4
    statuses = list(CustomerStatus)

    customers: list[Customer] = []
    locations: list[Location] = []
    subscribers: list[Subscriber] = []
    for i, ((owner, tpl), (company, country, lang)) in enumerate(zip(owners, _COMPANIES, strict=True)):
        status = statuses[i % len(statuses)]
        created = start + timedelta(days=10 + i * 3, hours=rng.randrange(24), minutes=rng.randrange(60))
        changed = created + timedelta(minutes=rng.randrange(5, 600))
        # Shifted each cycle so that package sets and statuses combine differently.
        package_names = _PACKAGE_SETS[(i + i // len(statuses)) % len(_PACKAGE_SETS)]
        packages = [_package(name, status, limit=25 if j == 0 and i % 4 == 0 else None)
                    for j, name in enumerate(package_names)]
        locale = resolve_locale(lang, tpl.country, tpl.language) or tpl.language
        domain_name = _ascii(company.lower().replace(" & ", "-").replace(" ", "-"))
        address = Address(address_line1=f"{10 + i} Demo Street", city=f"{company.split()[0]} City",
                          zip_or_postal_code=f"{10000 + i * 17}", country=country)
        errors = [ProvisioningError(code="RPL_REJECTED", message="restricted-party review rejected")] \
            if status is CustomerStatus.ERROR else []
        customer = Customer(
            id=demo_id(Kind.CUSTOMER, company), owner_org_id=owner.id, root_org_id=owner.root_id, template_id=tpl.id,
            external_id=f"EXT-{1000 + i}",
            org_id=str(uuid.UUID(int=rng.getrandbits(128))) if status not in _UNPROVISIONED else None,
            name=company, primary_email=f"it@{domain_name}.example", language=locale, address=address,
            packages=packages, meetings_timezone=_TIMEZONES.get(country, "Europe/Berlin"), status=status,
            errors=errors, version=1 + i % 4, created_at=created, updated_at=changed, last_status_change=changed,
        )
        customers.append(customer)
        hq = None
        if any(CATALOGUE[p].calling or p == "common_area_calling" for p in package_names):
            hq = Location(id=demo_id(Kind.LOCATION, company), customer_id=customer.id, owner_org_id=owner.id,
                          root_org_id=owner.root_id, name="Headquarters", address=address,
                          timezone=_TIMEZONES.get(country, "Europe/Berlin"), language=locale, is_headquarters=True,
                          created_at=created)
            locations.append(hq)
        user_packages = [p for p in package_names if CATALOGUE[p].assignable_to_users]
        for n in range(4 + (i * 5) % 6):
            first, last = _FIRST[(i + n) % len(_FIRST)], _LAST[(i * 3 + n) % len(_LAST)]
            package = user_packages[n % len(user_packages)]
            calling = CATALOGUE[package].calling
            subscribers.append(Subscriber(
                id=demo_id(Kind.SUBSCRIBER, f"{company}/{n}"), customer_id=customer.id, owner_org_id=owner.id,
                root_org_id=owner.root_id,
                email=_ascii(f"{first}.{last}.{n}@{domain_name}.example".lower()),
                first_name=first, last_name=last, package=package,
                extension=f"{100 + n}" if calling else None,
                primary_phone_number=f"+1555{i:03d}{n:04d}" if calling and n % 2 == 0 else None,
                location_id=hq.id if calling and hq else None, is_admin=n == 0,
                status=_SUBSCRIBER_STATE[status],
                errors=[ProvisioningError(code="RPL_REJECTED", message="the customer was not provisioned")]
                if status is CustomerStatus.ERROR else [],
                version=1, created_at=created + timedelta(minutes=10 + n),
                last_status_change=changed + timedelta(minutes=n),
            ))

    await repos.partners.insert_many([parent.to_doc(), *(s.to_doc() for s in subs)])
    await repos.templates.insert_many([t.to_doc() for t in templates])
    await repos.customers.insert_customers(customers)
    await repos.locations.insert_many([loc.to_doc() for loc in locations])
    await repos.subscribers.insert_many([s.to_doc() for s in subscribers])
    return SeedResult(True, parent.id, tuple(s.id for s in subs))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


_UNPROVISIONED = (CustomerStatus.PROVISIONING, CustomerStatus.PENDING_RPL_REVIEW, CustomerStatus.ERROR)


def _package(name: str, status: CustomerStatus, limit: int | None) -> CustomerPackage:
    package_status = {
        CustomerStatus.PROVISIONING: PackageStatus.PROVISIONING,
        CustomerStatus.PENDING_RPL_REVIEW: PackageStatus.PROVISIONING,
        CustomerStatus.DELETING: PackageStatus.DELETING,
        CustomerStatus.ERROR: PackageStatus.ERROR,
    }.get(status, PackageStatus.PROVISIONED)
    errors = []
    if status is CustomerStatus.PROVISIONED_WITH_ERRORS and CATALOGUE[name].calling:
        package_status = PackageStatus.ERROR
        errors = [ProvisioningError(code="2560", message="Calling is under maintenance; retry later")]
    return CustomerPackage(name=name, status=package_status, limit=limit, errors=errors)
