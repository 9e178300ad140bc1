"""Demo scene: resale customer orgs in the directory (§10), for `orgLookup` and `subdomainAvailability`.

Looked up by Fjord Cloud Resale (the demo resale partner):

- Nordlys Design (it@nordlys-design.example, NO): Fjord manages it (FULL_ADMIN), nothing bought: every service is
  trialable; subdomain `nordlys-design` is taken;
- Bergen Bikes (owner@bergen-bikes.example, NO): managed by Lagoon IT Reseller (PROVISIONING_ADMIN), which trials
  CALLING there: Fjord may trial the rest, not CALLING (R-TRI-4);
- Tromsø Analytics (cio@tromso-analytics.example, SE): a paying customer (MESSAGING and MEETINGS bought, site
  `tromso-analytics.webex.com`), managed by nobody: Fjord may trial CALLING and DEVICES;
- any other address: a new org (every service trialable).
"""

from __future__ import annotations

from domain.model.customer_orgs import ResaleService
from domain.model.entities import PartnerAccess
from domain.services import customer_orgs
from domain.services.customer_orgs import NewCustomerOrg
from domain.store.repositories import Tx
from gateway.demo_scene import DemoScene


async def scene(s: DemoScene) -> None:
    from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID  # the seed imports the scenes

    repos = s.repos

    async def write(tx: Tx) -> None:
        await customer_orgs.create_org(repos, tx, NewCustomerOrg(
            name="Nordlys Design", country="NO", admin_email="it@nordlys-design.example",
            partner_id=DEMO_RESALE_PARTNER_ID, subdomain="nordlys-design"))
        bikes = await customer_orgs.create_org(repos, tx, NewCustomerOrg(
            name="Bergen Bikes", country="NO", admin_email="owner@bergen-bikes.example",
            partner_id=DEMO_RESALE_SUB_PARTNER_ID, subdomain="bergen-bikes", access=PartnerAccess.PROVISIONING_ADMIN,
            trial_services=(ResaleService.CALLING,)))
        await customer_orgs.add_user(repos, tx, bikes.id, "mechanic@bergen-bikes.example")
        paid = await customer_orgs.create_org(repos, tx, NewCustomerOrg(
            name="Tromsø Analytics", country="SE", admin_email="cio@tromso-analytics.example",
            partner_id=DEMO_RESALE_PARTNER_ID, subdomain="tromso-analytics", site="tromso-analytics",
            purchased=(ResaleService.MESSAGING, ResaleService.MEETINGS)))
        await customer_orgs.set_partner_access(repos, tx, paid.id, DEMO_RESALE_PARTNER_ID, PartnerAccess.NONE)

    await repos.atomic(write)
