"""Demo scene: existing Webex orgs in the directory, and customers attached to some of them (R-ATT, R-RBP).

- Harbor Cafe: small, attached silently → `provisioned`, partner access PROVISIONING_ADMIN (active licence), its
  subscribers not admins (R-SUB-2 amended); Maya and Noah are the org's own users and join without consent
  (R-ATT-3); restricted mode is off (attached), so its own admin adds Ella in Webex: her events are acted by
  CUSTOMER_ADMIN (R-RBP-2);
- Riverside Architects (verified domain, for the sub-partner Northwind): its admin approved → `provisioned`;
- Summit Health Network (420 users): waiting for its admin → `pending_customer_approval`;
- Granite Manufacturing (claimed domain): its admin declined → `error` ATTACH_APPROVAL_DECLINED;
- Aurora Flex Studios (Flex licences): attached silently, hybrid, enterprise settings restricted;
- still free to try: Lakeside Bakery (silent), Metro Transit Authority (approval), and the ones that are refused:
  Pinewood Trial Co (trial), Keystone Voice (BroadWorks), Oldtown Traders (already Wholesale).

Only this scene's own jobs are run (the core demo's in-flight work is left for the gateway to move on).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.model.entities import Address, AuthMode, OnboardingTemplate, Partner
from domain.rules.attach import DirectoryOrg, OrgUser
from domain.services import attach, customers, subscribers
from domain.services.customer_admin import customer_admin_adds_subscriber
from gateway.demo_scene import DemoScene


def _org(slug: str, name: str, **fields: Any) -> DirectoryOrg:
    return DirectoryOrg(id=f"org_existing_{slug}", name=name, **fields)


DEMO_ORGS = [
    _org("harbor_cafe", "Harbor Cafe", users=12, active_licence=True, org_users=(
        OrgUser("maya.lind@harbor-cafe.example"), OrgUser("noah.price@harbor-cafe.example"),
        OrgUser("owner@harbor-cafe.example", calling=True, number="+14155550142", extension="4100"))),
    _org("riverside_architects", "Riverside Architects", users=40, verified_domains=("riverside-arch.example",),
         active_licence=True),
    _org("summit_health", "Summit Health Network", users=420, active_licence=True, auth_mode=AuthMode.PARTNER_SAML),
    _org("granite_manufacturing", "Granite Manufacturing", users=60, claimed_domains=("granite-mfg.example",)),
    _org("aurora_flex", "Aurora Flex Studios", users=25, flex=True, auth_mode=AuthMode.PARTNER_OIDC),
    _org("lakeside_bakery", "Lakeside Bakery", users=6, org_users=(  # R-ATT-3: try attaching it, then adding them
        OrgUser("baker@lakeside-bakery.example", calling=True, number="+14155550177", extension="100"),
        OrgUser("counter@lakeside-bakery.example"))),
    _org("metro_transit", "Metro Transit Authority", users=1200, verified_domains=("metro-transit.example",),
         active_licence=True),
    _org("pinewood_trial", "Pinewood Trial Co", users=3, trial=True),
    _org("keystone_voice", "Keystone Voice", users=80, broadworks=True),
    _org("oldtown_traders", "Oldtown Traders", users=30, wholesale=True),
]


async def _attach(s: DemoScene, owner: Partner, template: OnboardingTemplate, org: DirectoryOrg, n: int,
                  name: str | None = None) -> str:
    country = template.country
    customer = await customers.provision_customer(s.repos, s.caller(owner), customers.NewCustomer(
        provisioning_id=template.provisioning_id, external_id=f"ATT-{n}", packages=["webex_meetings"],
        address=Address(address_line1=f"{n} Harbour Road", city="Attach City", zip_or_postal_code=f"{20000 + n}",
                        country=country),
        name=name or org.name, primary_email=f"admin@{org.id.removeprefix('org_existing_').replace('_', '-')}.example",
        parameters=customers.Parameters(meetings_timezone="Europe/London" if country == "GB" else "America/New_York"),
        org_id=org.id), None)
    await s.run_jobs_of(customer.id)
    return customer.id


async def scene(s: DemoScene) -> None:
    await s.repos.org_directory.load(DEMO_ORGS)
    orgs = {o.id.removeprefix("org_existing_"): o for o in DEMO_ORGS}
    parent, northwind = s.parent, s.subs[0]
    us, northwind_tpl = s.templates[0], s.templates[2]

    harbor = await _attach(s, parent, us, orgs["harbor_cafe"], 1, name="Harbour Café (as the partner typed it)")
    for k, (first, last) in enumerate((("Maya", "Lind"), ("Noah", "Price"))):
        sub = await subscribers.provision_subscriber(s.repos, s.caller(parent), subscribers.NewSubscriber(
            customer_id=harbor, email=f"{first}.{last}@harbor-cafe.example".lower(), package="webex_meetings",
            first_name=first, last_name=last), None)
        s.clock.advance(timedelta(seconds=20 + k))
        await s.run_jobs_of(sub.id)
    s.clock.advance(timedelta(minutes=1))
    # R-RBP-2: Harbor Cafe's own admin adds a Wholesale user in Webex; it reaches the gateway as CUSTOMER_ADMIN.
    ella = await customer_admin_adds_subscriber(
        s.repos, harbor, "it-admin@harbor-cafe.example", subscribers.NewSubscriber(
            customer_id=harbor, email="ella.stone@harbor-cafe.example", package="webex_meetings", first_name="Ella",
            last_name="Stone"))
    await s.run_jobs_of(ella.id)

    s.clock.advance(timedelta(minutes=2))
    riverside = await _attach(s, northwind, northwind_tpl, orgs["riverside_architects"], 2)
    s.clock.advance(timedelta(minutes=5))
    await attach.record_attach_approval(s.repos, s.platform, riverside, True, "approved by the org's admin (demo)")
    await s.run_jobs_of(riverside)

    s.clock.advance(timedelta(minutes=2))
    granite = await _attach(s, parent, us, orgs["granite_manufacturing"], 3)
    s.clock.advance(timedelta(minutes=4))
    await attach.record_attach_approval(s.repos, s.platform, granite, False, "the org's admin declined (demo)")
    await s.run_jobs_of(granite)

    s.clock.advance(timedelta(minutes=2))
    aurora = await _attach(s, parent, us, orgs["aurora_flex"], 4)
    s.clock.advance(timedelta(minutes=1))
    await attach.update_customer_settings(s.repos, s.caller(parent), aurora,
                                          attach.SettingsUpdate(restrict_enterprise_settings=True), None)

    s.clock.advance(timedelta(minutes=2))
    await _attach(s, parent, us, orgs["summit_health"], 5)  # left waiting for its admin's answer
