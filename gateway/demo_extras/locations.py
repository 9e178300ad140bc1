"""Demo scene: branch locations (R-LOCN-1/2) and Setup Assist requests in each state (R-SA-1/2).

- The first provisioned calling customer of the partner gets two branches ("Branch Downtown" with an emergency
  location id, "Branch Airport", whose time zone is then changed: an UPDATE event), and a short-lived "Pop-up
  Store" branch that is deleted again (→ `deleted`).
- Setup Assist: that customer's headquarters has a completed request (billed on the day it was completed),
  Branch Downtown a submitted one and Branch Airport a cancelled one; the next calling customer's headquarters
  has one in progress.

Writes go through the services, as the API would make them; no job is involved (both are synchronous).
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.entities import Address, Customer
from domain.model.status import SetupAssistStatus
from domain.rules.locations import holds_calling
from domain.rules.setup_assist import earliest_target
from domain.services import locations, setup_assist
from gateway.demo_scene import DemoScene

_TIMEZONES = {"US": ("America/Chicago", "America/Denver"), "CA": ("America/Toronto", "America/Vancouver")}


async def _calling_customers(s: DemoScene) -> list[Customer]:
    found = []
    for demo in s.settled(s.parent):
        doc = await s.repos.customers.find_doc(demo.id)
        if doc is not None and holds_calling(customer := Customer.from_doc(doc)):
            found.append(customer)
    return found


async def _headquarters(s: DemoScene, customer: Customer) -> str:
    docs = (await s.repos.locations.by_customers([customer.id])).get(customer.id, [])
    return str(next(d["_id"] for d in docs if d.get("isHeadquarters")))


async def scene(s: DemoScene) -> None:
    owner = s.caller(s.parent)
    customers = await _calling_customers(s)
    if not customers:
        return
    first = customers[0]
    hq = await _headquarters(s, first)
    country = first.address.country
    zones = _TIMEZONES.get(country, ("Europe/Berlin", "Europe/Berlin"))
    downtown = await locations.add_location(s.repos, owner, first.id, locations.CallingLocation(
        name="Branch Downtown", address=Address(address_line1="200 Market Street", city=first.address.city,
                                                zip_or_postal_code=first.address.zip_or_postal_code,
                                                country=country),
        timezone=zones[0], language=first.language, emergency_location_identifier="ELIN-DOWNTOWN-200"), None)
    s.clock.advance(timedelta(minutes=2))
    airport = await locations.add_location(s.repos, owner, first.id, locations.CallingLocation(
        name="Branch Airport", address=Address(address_line1="1 Terminal Road", city=first.address.city,
                                               country=country),
        timezone=zones[0], language=first.language), None)
    s.clock.advance(timedelta(minutes=2))
    await locations.update_location(s.repos, owner, airport.id, locations.LocationUpdate(timezone=zones[1]), None)
    s.clock.advance(timedelta(minutes=2))
    popup = await locations.add_location(s.repos, owner, first.id, locations.CallingLocation(
        name="Pop-up Store", address=Address(address_line1="5 Fair Lane", city=first.address.city, country=country),
        timezone=zones[0], language=first.language), None)
    s.clock.advance(timedelta(minutes=3))
    await locations.delete_location(s.repos, owner, popup.id, None)

    target = earliest_target(s.clock.now().date()) + timedelta(days=7)

    async def request(location: str, contact: str) -> str:
        s.clock.advance(timedelta(minutes=1))
        made = await setup_assist.request_setup_assist(s.repos, owner, setup_assist.NewSetupAssist(
            location_id=location, contact_name=contact, contact_email=f"{contact.split()[0].lower()}@customer.example",
            target_date=target), None)
        return made.id

    async def move(request_id: str, *statuses: SetupAssistStatus) -> None:
        for status in statuses:
            s.clock.advance(timedelta(minutes=1))
            await setup_assist.set_setup_assist_status(s.repos, s.platform, request_id, status)

    await move(await request(hq, "Dana Whitfield"), SetupAssistStatus.IN_PROGRESS, SetupAssistStatus.COMPLETED)
    await request(downtown.id, "Luis Ortega")
    if len(customers) > 1:
        await move(await request(await _headquarters(s, customers[1]), "Mei Tanaka"), SetupAssistStatus.IN_PROGRESS)
    cancelled = await request(airport.id, "Omar Haddad")
    s.clock.advance(timedelta(minutes=1))
    await setup_assist.cancel_setup_assist(s.repos, owner, cancelled, None)
