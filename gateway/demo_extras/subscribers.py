"""Demo scene: user add-ons (R-ADD-1), consent of free accounts (R-CONS-1/2) and visible background work (R-DASH-2).

- "Grand Lobby Hotels", a new calling customer of the partner holding `attendant_console` (limit 5), has two
  receptionists with the attendant console beside their base package (one provisioned with it, one given it by an
  update: an UPDATE event);
- two free Webex accounts join that customer: one waits for its consent with two consent emails sent (the automatic
  one, and one sent again ten minutes later), the other declined (→ `error`, USER_MIGRATION_DECLINED);
- "Retry Robotics", a new customer whose provisioning met a Webex outage twice: its job is retried a few minutes
  after the demo starts, so `backgroundWork` shows its attempts, last error and next attempt until then.

Writes go through the services as the API makes them; only this scene's own jobs are run.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.entities import Address, Customer
from domain.rules.catalogue import CATALOGUE
from domain.services import consent, customers, subscribers
from domain.store.driver import Document
from gateway.demo_scene import DemoScene, acting_as

ADD_ON = "attendant_console"
WAITING = "grace.hopper@free-mail.example"
DECLINED = "alan.turing@free-mail.example"
OUTAGE = "the Webex side answered 503; retrying"


async def _run_jobs_of(s: DemoScene, entity_id: str) -> None:
    """Run the due jobs of one entity, a minute later (every change of the scene has a time of its own)."""
    s.clock.advance(timedelta(minutes=1))
    await s.run_jobs_of(entity_id)


async def _hotel(s: DemoScene) -> Customer:
    """A calling customer holding the attendant console, provisioned within the scene."""
    owner = s.caller(s.parent)
    template = next(t for t in s.templates if t.owner_org_id == s.parent.id)
    address = Address(address_line1="1 Lobby Plaza", city="Chicago", state_or_province="IL",
                      zip_or_postal_code="60601", country="US")
    with acting_as(owner):
        created = await customers.provision_customer(s.repos, owner, customers.NewCustomer(
            provisioning_id=template.provisioning_id, external_id="ADDON-HOTEL-1",
            packages=["webex_calling", "webex_meetings", ADD_ON], address=address, name="Grand Lobby Hotels",
            primary_email="it@grand-lobby-hotels.example", parameters=customers.Parameters(
                calling_location=customers.CallingLocation(name="Headquarters", address=address,
                                                           timezone="America/Chicago", language="en_US"),
                meetings_timezone="America/Chicago", limits=[(ADD_ON, 5)])), None)
    await _run_jobs_of(s, created.id)
    doc = await s.repos.customers.find_doc(created.id)
    assert doc is not None
    return Customer.from_doc(doc)


async def _add_ons(s: DemoScene, customer: Customer) -> None:
    owner = s.caller(s.parent)
    base = next(p.name for p in customer.packages if p.name in CATALOGUE[ADD_ON].requires_any_of)
    with acting_as(owner):
        first = await subscribers.provision_subscriber(s.repos, owner, subscribers.NewSubscriber(
            customer_id=customer.id, email="front.desk@reception.example", package=base, first_name="Front",
            last_name="Desk", extension="7001", add_ons=(ADD_ON,)), None)
        s.clock.advance(timedelta(minutes=1))
        second = await subscribers.provision_subscriber(s.repos, owner, subscribers.NewSubscriber(
            customer_id=customer.id, email="night.desk@reception.example", package=base, first_name="Night",
            last_name="Desk", extension="7002"), None)
    await _run_jobs_of(s, first.id)
    await _run_jobs_of(s, second.id)
    s.clock.advance(timedelta(minutes=3))
    with acting_as(owner):
        await subscribers.update_subscriber(s.repos, owner, second.id, subscribers.SubscriberUpdate(
            package=base, extension="7002", add_ons=(ADD_ON,)), None)
    await _run_jobs_of(s, second.id)


async def _free_accounts(s: DemoScene, customer: Customer) -> None:
    owner = s.caller(s.parent)
    base = next(p.name for p in customer.packages if p.name in CATALOGUE[ADD_ON].requires_any_of)
    await s.repos.accounts.load([(WAITING, None), (DECLINED, None)])  # their owners answer nothing by themselves
    pending = []
    for n, (email, first, last) in enumerate(((WAITING, "Grace", "Hopper"), (DECLINED, "Alan", "Turing"))):
        with acting_as(owner):
            pending.append(await subscribers.provision_subscriber(s.repos, owner, subscribers.NewSubscriber(
                customer_id=customer.id, email=email, package=base, first_name=first, last_name=last,
                extension=f"710{n}"), None))
        await _run_jobs_of(s, pending[-1].id)
    s.clock.advance(timedelta(minutes=10))
    with acting_as(owner):
        await consent.send_consent_email(s.repos, owner, pending[0].id, None)
    s.clock.advance(timedelta(minutes=5))
    with acting_as(s.platform):
        await consent.record_consent(s.repos, s.platform, pending[1].id, False)


async def _retrying(s: DemoScene) -> None:
    owner = s.caller(s.parent)
    template = next(t for t in s.templates if t.owner_org_id == s.parent.id)
    with acting_as(owner):
        customer = await customers.provision_customer(s.repos, owner, customers.NewCustomer(
            provisioning_id=template.provisioning_id, external_id="DASH-RETRY-1", packages=["webex_meetings"],
            address=Address(address_line1="5 Servo Lane", city="Pittsburgh", state_or_province="PA",
                            zip_or_postal_code="15213", country="US"),
            name="Retry Robotics", primary_email="it@retry-robotics.example",
            parameters=customers.Parameters(meetings_timezone="America/New_York")), None)
    # Two attempts met a Webex outage (what the worker stores when a step raises a temporary failure); the next
    # one is due a few minutes after the demo starts.
    for delay in (timedelta(0), s.now - s.clock.now() + timedelta(minutes=5)):
        docs: list[Document] = (await s.repos.jobs.of_entities([customer.id])).get(customer.id, [])
        job = await s.worker.queue.claim(docs[0])
        assert job is not None
        await s.worker.queue.reschedule(job, delay, OUTAGE)


async def scene(s: DemoScene) -> None:
    customer = await _hotel(s)
    await _add_ons(s, customer)
    await _free_accounts(s, customer)
    await _retrying(s)

