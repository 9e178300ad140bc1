"""Demo scene: workspaces (R-WS-1/2), common-area phones of settled customers, billed from when they were provisioned.

- "Pier Point Offices" (the partner's) and "Market Street Grocers" (a sub-partner's), new customers holding
  `common_area_calling` and `cisco_calling_plan`, get a reception phone (with a phone number of their headquarters'
  country, so the calling plan bills it too), a door phone and a break-room phone (extensions only); the first
  one's door phone was renamed afterwards (an UPDATE event);
- one workspace ends in `error`: placed at a customer whose `common_area_calling` failed on the Webex side (calling
  maintenance, 2560) when there is one, else one whose provisioning kept failing until the worker gave it up.

Writes go through the services as the API makes them; only this scene's own jobs are run.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.entities import Address, Customer, PackageStatus, Partner
from domain.model.errors import DomainError
from domain.model.jobs import JobKind
from domain.model.status import CustomerStatus
from domain.model.workspaces import WORKSPACE_PACKAGE, Workspace
from domain.rules.phones import example_numbers
from domain.services import customers, workspaces
from gateway.demo_scene import DemoCustomer, DemoScene, acting_as

SETTLED = (CustomerStatus.PROVISIONED, CustomerStatus.PROVISIONED_WITH_ERRORS)


async def _stored(s: DemoScene, demo: DemoCustomer) -> Customer | None:
    doc = await s.repos.customers.find_doc(demo.id)
    return Customer.from_doc(doc) if doc is not None else None


async def _free_number(s: DemoScene, customer: Customer) -> str | None:
    """A number of the headquarters' country that no subscriber or workspace of the customer has yet."""
    locations = (await s.repos.locations.by_customers([customer.id])).get(customer.id, [])
    country = str(locations[0]["address"]["country"]) if locations else customer.address.country
    for number in example_numbers(country, 40)[20:]:
        phone_taken, _ = await workspaces.numbers_taken(s.repos, customer.id, number, None, None)
        if not phone_taken:
            return number
    return None


async def _place(s: DemoScene, demo: DemoCustomer, customer: Customer, name: str, extension: str,
                 phone: str | None = None) -> Workspace | None:
    owner = s.caller(demo.owner)
    s.clock.advance(timedelta(seconds=40))
    try:
        with acting_as(owner):
            made = await workspaces.provision_workspace(s.repos, owner, workspaces.NewWorkspace(
                customer_id=customer.id, name=name, extension=extension, primary_phone_number=phone), None)
    except DomainError:
        return None  # the demo's own subscribers hold this extension: this customer goes without it
    await s.run_jobs_of(made.id)
    return made


async def _office(s: DemoScene, owner: Partner, external_id: str, name: str, address: Address,
                  timezone: str) -> tuple[DemoCustomer, Customer] | None:
    """A customer of `owner` holding common_area_calling (and the calling plan), provisioned within the scene."""
    template = next((t for t in s.templates if t.owner_org_id == owner.id), None)
    if template is None:
        return None
    caller = s.caller(owner)
    packages = ["webex_calling", WORKSPACE_PACKAGE, "cisco_calling_plan"]
    with acting_as(caller):
        created = await customers.provision_customer(s.repos, caller, customers.NewCustomer(
            provisioning_id=template.provisioning_id, external_id=external_id, packages=packages, address=address,
            name=name, primary_email=f"it@{external_id.lower()}.example", parameters=customers.Parameters(
                calling_location=customers.CallingLocation(name="Headquarters", address=address, timezone=timezone,
                                                           language="en_US"),
                limits=[(WORKSPACE_PACKAGE, 10)])), None)
    for _ in range(5):  # screening, then the Webex side
        await s.run_jobs_of(created.id)
    customer = await _stored(s, DemoCustomer(created.id, CustomerStatus.PROVISIONED, owner, address.country, packages))
    if customer is None or customer.status not in SETTLED:
        return None
    return DemoCustomer(customer.id, customer.status, owner, address.country, packages), customer


async def _provisioned(s: DemoScene) -> None:
    offices = [
        (s.parent, "WS-PIER-1", "Pier Point Offices", Address(
            address_line1="200 Pier Avenue", city="Boston", state_or_province="MA", zip_or_postal_code="02110",
            country="US"), "America/New_York"),
    ]
    if s.subs:
        offices.append((s.subs[0], "WS-MARKET-1", "Market Street Grocers", Address(
            address_line1="12 Market Street", city="Denver", state_or_province="CO", zip_or_postal_code="80202",
            country="US"), "America/Denver"))
    for n, (owner, external_id, name, address, timezone) in enumerate(offices):
        s.clock.advance(timedelta(minutes=2))
        made = await _office(s, owner, external_id, name, address, timezone)
        if made is None:
            continue
        demo, customer = made
        s.clock.advance(timedelta(minutes=2))
        await _place(s, demo, customer, "Reception phone", f"88{n}1", await _free_number(s, customer))
        door = await _place(s, demo, customer, "Door phone", f"88{n}2")
        await _place(s, demo, customer, "Break room phone", f"88{n}3")
        if n == 0 and door is not None:
            s.clock.advance(timedelta(minutes=3))
            caller = s.caller(owner)
            with acting_as(caller):
                await workspaces.update_workspace(s.repos, caller, door.id, workspaces.WorkspaceUpdate(
                    name="Loading dock door"), None)
            await s.run_jobs_of(door.id)


async def _failed(s: DemoScene) -> None:
    """A workspace in `error`: at a customer whose common_area_calling failed, else after its job gave up."""
    for demo in s.customers:
        customer = await _stored(s, demo)
        if customer is None or customer.status is not CustomerStatus.PROVISIONED_WITH_ERRORS:
            continue
        package = next((p for p in customer.packages if p.name == WORKSPACE_PACKAGE), None)
        if package is not None and package.status is PackageStatus.ERROR:
            s.clock.advance(timedelta(minutes=2))
            if await _place(s, demo, customer, "Hallway phone", "8891") is not None:
                return
    for demo in s.customers:
        customer = await _stored(s, demo)
        if customer is None or customer.status is not CustomerStatus.PROVISIONED or not any(
                p.name == WORKSPACE_PACKAGE and p.status is PackageStatus.PROVISIONED for p in customer.packages):
            continue
        owner = s.caller(demo.owner)
        try:
            with acting_as(owner):
                made = await workspaces.provision_workspace(s.repos, owner, workspaces.NewWorkspace(
                    customer_id=customer.id, name="Hallway phone", extension="8891"), None)
        except DomainError:
            continue
        # Its assignment kept failing on the Webex side until the worker gave up (what `max_attempts` failures do).
        for doc in (await s.repos.jobs.of_entities([made.id])).get(made.id, []):
            if (job := await s.worker.queue.claim(doc)) is not None:
                with acting_as(owner):
                    await s.worker.give_ups[JobKind.SETTLE_WORKSPACE](job, "the Webex side answered 500 eight times")
        return


async def scene(s: DemoScene) -> None:
    await _provisioned(s)
    await _failed(s)
