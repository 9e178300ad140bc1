"""Demo scene: trial device shipments in every state (R-TRI-7), on two device trials of Fjord Cloud Resale started by
its sales admin (sales@fjord-cloud.example, whose `make run` token sees them):

- Hanseatic Hotels (started 20 days ago; DEVICES removed 17 days ago): headsets returned in time, room kits returned
  late (after being overdue), desk phones still `return_overdue` (a DEVICE_RETURN_OVERDUE email);
- Kvarteret Café (started 3 days ago): desk pros `delivered`, headsets `shipped` yesterday (on their way), and desk
  phones asked for minutes ago: still `requested` — the running gateway ships them within seconds (DEVICE_SHIPPED).

Look one up with `deviceShipment(trackingNumber:)` (tracking numbers are on the trial's `shipments`).
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.customer_orgs import ResaleService
from domain.model.entities import Address
from domain.model.principal import ROLE_SCOPES, Principal, Role
from domain.model.shipments import DeviceShipment
from domain.model.trials import Trial
from domain.rules.shipments import DELIVERY_TIME, SHIP_AFTER, ShipmentRequest
from domain.rules.tenancy import Caller
from domain.rules.trials import NewTrial
from domain.services import shipments, trials
from gateway.demo_scene import DemoScene, acting_as

SALES = "sales@fjord-cloud.example"
M, D = ResaleService.MESSAGING, ResaleService.DEVICES


async def scene(s: DemoScene) -> None:
    from gateway.demo import DEMO_RESALE_PARTNER_ID  # the seed imports the scenes

    owner = await s.repos.partners.get(DEMO_RESALE_PARTNER_ID)
    assert owner is not None
    sales = Caller(Principal(SALES, owner.id, frozenset({Role.SALES_ADMIN}), ROLE_SCOPES[Role.SALES_ADMIN]), owner)
    back_then = s.clock.now()

    def to(*types: tuple[str, int]) -> list[ShipmentRequest]:
        return [ShipmentRequest(t, n, Address(address_line1="Bryggen 7", city="Bergen", zip_or_postal_code="5003",
                                              country="NO")) for t, n in types]

    async def start(company: str, email: str, *types: tuple[str, int]) -> Trial:
        with acting_as(sales):
            trial = await trials.start_trial(s.repos, sales, trials.StartTrial(
                NewTrial(company, email, "Retail", "NO", (M, D), shipments=len(types)), to(*types)), None)
        await s.run_jobs_of(trial.id)  # the simulated Webex side: pending_provisioning_details → active
        return trial

    async def logistics(trial: Trial, wait: timedelta) -> list[DeviceShipment]:
        s.clock.advance(wait)
        found = await s.repos.shipments.of_trial(trial.id)
        await s.run_jobs_of(*(d["_id"] for d in found))
        return [DeviceShipment.from_doc(d) for d in await s.repos.shipments.of_trial(trial.id)]

    async def returned(shipment: DeviceShipment) -> None:
        with acting_as(s.platform):
            await shipments.record_device_return(s.repos, s.platform, shipment.id, shipment.serial_numbers)

    # Hanseatic Hotels: the whole way round.
    s.clock.set(back_then - timedelta(days=20))
    hotels = await start("Hanseatic Hotels", "it@hanseatic-hotels.example", ("headset", 4), ("room_kit", 1),
                         ("desk_phone", 2))
    await logistics(hotels, SHIP_AFTER)
    await logistics(hotels, DELIVERY_TIME)
    s.clock.advance(timedelta(days=1))
    with acting_as(sales):  # DEVICES removed: the returns start (due in 14 days)
        await trials.update_services(s.repos, sales, hotels.id, trials.TrialServices((M,)), None)
    out = {shipment.device_type: shipment for shipment in await logistics(hotels, timedelta(days=6))}
    await returned(out["headset"])
    await logistics(hotels, timedelta(days=9))  # the other two are overdue now
    s.clock.advance(timedelta(days=1))
    await returned(out["room_kit"])

    # Kvarteret Café: out and on the way.
    s.clock.set(back_then - timedelta(days=3, minutes=1))
    cafe = await start("Kvarteret Café", "kafe@kvarteret.example", ("desk_pro", 1))
    await logistics(cafe, SHIP_AFTER)
    await logistics(cafe, DELIVERY_TIME)
    s.clock.set(back_then - timedelta(days=1))
    with acting_as(sales):
        await trials.update_services(s.repos, sales, cafe.id, trials.TrialServices((M, D), shipments=to(
            ("headset", 2))), None)
    await logistics(cafe, SHIP_AFTER)
    s.clock.set(back_then)
    with acting_as(sales):  # left for the running gateway's worker to ship
        await trials.update_services(s.repos, sales, cafe.id, trials.TrialServices((M, D), shipments=to(
            ("desk_phone", 3))), None)
