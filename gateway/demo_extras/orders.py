"""Demo scene: orders of Fjord Cloud Resale at every step of §12 (R-ORD-STATE), and one it placed for its tier-2
reseller Lagoon IT Reseller (R-ORD-1):

- Aurora Café: `placed`, starting in 10 days (its setup email goes out then);
- the alias order: `awaiting_setup`, setup email sent to orders@fjord-cloud.example;
- Skagen Surf: `awaiting_setup`, handed over to a colleague (PARTNER_COLLEAGUE);
- Hurtigruten Hotels: `awaiting_setup`, handed over to the customer (the partner gets NONE access);
- Fjellet Sport: `set_up` (subdomain `fjellet-sport` held);
- Lofoten Fisk: `active`, a new org, billing started;
- Kiruna Mining: `error` (its admin joined another org before provisioning);
- for Lagoon IT Reseller: `awaiting_setup`.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.entities import Address, Partner
from domain.model.orders import Order, ResaleOffer, SetupResponsibility
from domain.model.trials import ResaleService
from domain.rules.customers import CallingLocation
from domain.services import customer_orgs, orders
from domain.services.customer_orgs import NewCustomerOrg
from domain.services.orders import NewOrder, SetupData
from domain.store.repositories import Tx
from gateway.demo_scene import DemoScene, acting_as

S = ResaleService


def _order(s: DemoScene, contact: str, *lines: tuple[ResaleService, int], days: int = 0) -> NewOrder:
    return NewOrder(ResaleOffer.A_WX, tuple(lines), s.clock.now().date() + timedelta(days=days), contact)


def _setup(admin: str, name: str, subdomain: str) -> SetupData:
    return SetupData(True, admin, new_org_name=name, new_org_country="NO", new_org_given=True, subdomain=subdomain,
                     calling_location=CallingLocation(
                         "Head office", Address(address_line1="Strandgata 1", city="Tromsø", country="NO"),
                         "Europe/Oslo", "nb_NO"))


async def scene(s: DemoScene) -> None:
    from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID  # the seed imports the scenes

    repos = s.repos
    fjord = await repos.partners.get(DEMO_RESALE_PARTNER_ID)
    assert isinstance(fjord, Partner)
    caller = s.caller(fjord)
    s.clock.set(s.now - timedelta(minutes=30))
    made: list[Order] = []
    with acting_as(caller):
        async def place(contact: str, *lines: tuple[ResaleService, int], days: int = 0,
                        for_sub: str | None = None) -> Order:
            order = await orders.create_order(repos, caller, _order(s, contact, *lines, days=days), for_sub)
            made.append(order)
            return order

        await place("orders@aurora-cafe.example", (S.MESSAGING, 15), days=10)
        await place("orders@fjord-cloud.example", (S.MEETINGS, 40), (S.MESSAGING, 40))
        surf = await place("orders@fjord-cloud.example", (S.MESSAGING, 8))
        await orders.hand_over_setup(repos, caller, surf.id, SetupResponsibility.PARTNER_COLLEAGUE,
                                     "kari@fjord-cloud.example")
        hotels = await place("orders@fjord-cloud.example", (S.CALLING, 120))
        await orders.hand_over_setup(repos, caller, hotels.id, SetupResponsibility.CUSTOMER,
                                     "it@hurtigruten-hotels.example")
        sport = await place("orders@fjord-cloud.example", (S.CALLING, 25), (S.MESSAGING, 25))
        await orders.complete_order_setup(repos, caller, sport.id,
                                          _setup("it@fjellet-sport.example", "Fjellet Sport", "fjellet-sport"))
        fisk = await place("orders@fjord-cloud.example", (S.CALLING, 60), (S.MESSAGING, 60))
        await orders.complete_order_setup(repos, caller, fisk.id,
                                          _setup("it@lofoten-fisk.example", "Lofoten Fisk", "lofoten-fisk"))
        await orders.provision_order(repos, caller, fisk.id)
        mining = await place("orders@fjord-cloud.example", (S.CALLING, 300))
        await orders.complete_order_setup(repos, caller, mining.id,
                                          _setup("it@kiruna-mining.example", "Kiruna Mining", "kiruna-mining"))
        await orders.provision_order(repos, caller, mining.id)
        await place("orders@lagoon-it.example", (S.MESSAGING, 5), for_sub=DEMO_RESALE_SUB_PARTNER_ID)

    async def elsewhere(tx: Tx) -> None:  # the admin joins another org meanwhile: provisioning fails (R-ORD-7)
        await customer_orgs.create_org(repos, tx, NewCustomerOrg(
            name="Kiruna Mining (own)", country="SE", admin_email="it@kiruna-mining.example",
            partner_id=DEMO_RESALE_SUB_PARTNER_ID))

    await repos.atomic(elsewhere)
    await s.run_jobs_of(*(o.id for o in made))
