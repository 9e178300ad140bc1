"""Demo scene: trials in every state for Fjord Cloud Resale and its sub-partner Lagoon IT Reseller (§10).

Fjord's sales admin (sales@fjord-cloud.example, the token `make run` prints) started these:

- Nordlys Bakeri: active, 30 days left (MESSAGING, MEETINGS on `nordlys-bakeri.webex.com`);
- Hardanger Hotels: active, 3 days left (CALLING): its 7-day notice went out, it shows under "expiring soon";
- Sogn Seafood: expired 5 days ago, in its 30-day grace (conversion still possible);
- Vesteraal Shipping: purged (its grace ended yesterday), its CALLING numbers held 15 more days;
- Tromsø Analytics (a paying customer, managed by nobody): a CALLING trial cancelled (the consent never came in 10
  days), then a DEVICES trial waiting for the customer's consent;
- Lofoten Lodge: deleted by the partner; Geiranger Gardens: provisioning (the gateway's worker finishes it);
- Dovre Dairy: active.

Lagoon's full admin started Fjell Tech (DEVICES with desk phones, an extension waiting for Cisco's trial team) and
Dovre Dairy for the same admin as Fjord's, whose org could not be made once Fjord's was: `error`.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.customer_orgs import ResaleService
from domain.model.entities import Address, Partner
from domain.model.principal import ROLE_SCOPES, Principal, Role
from domain.model.trials import TRIAL_LENGTH, Trial
from domain.rules.shipments import ShipmentRequest
from domain.rules.tenancy import Caller
from domain.rules.trials import MeetingsSettings, NewTrial, dates_for
from domain.services import trials
from domain.services.customer_orgs import find_by_admin_email
from domain.store.repositories import Tx
from gateway.demo_scene import DemoScene, acting_as

S = ResaleService


async def _partner(s: DemoScene, partner_id: str) -> Partner:
    found = await s.repos.partners.get(partner_id)
    assert found is not None, partner_id
    return found


def _trial(company: str, email: str, *services: ResaleService, org: str | None = None,
           meetings: MeetingsSettings | None = None) -> trials.StartTrial:
    return trials.StartTrial(NewTrial(company_name=company, admin_email=email, industry="Retail", country="NO",
                                      services=services or (S.MESSAGING,), confirm_existing_org_id=org,
                                      meetings=meetings))


async def _backdate(s: DemoScene, trial_id: str, days: int) -> None:
    """Make an active trial look `days` old (its dates and timers; the jobs then due run next)."""
    async def write(tx: Tx) -> None:
        doc = await s.repos.trials.find_doc(trial_id, session=tx.session)
        assert doc is not None
        current = Trial.from_doc(doc)
        started = tx.now - timedelta(days=days)
        aged = current.model_copy(update={"started_at": started, "created_at": started,
                                          **dates_for(started + TRIAL_LENGTH, current.services)})
        await trials.store(s.repos, tx, current, aged)

    await s.repos.atomic(write)
    await s.run_jobs_of(trial_id)


async def _lapse_consent(s: DemoScene, trial_id: str) -> None:
    async def write(tx: Tx) -> None:
        doc = await s.repos.trials.find_doc(trial_id, session=tx.session)
        assert doc is not None
        current = Trial.from_doc(doc)
        await trials.store(s.repos, tx, current, current.model_copy(update={"consent_deadline": tx.now}))

    await s.repos.atomic(write)
    await s.run_jobs_of(trial_id)


async def scene(s: DemoScene) -> None:
    from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID  # the seed imports the scenes

    repos = s.repos
    fjord, lagoon = await _partner(s, DEMO_RESALE_PARTNER_ID), await _partner(s, DEMO_RESALE_SUB_PARTNER_ID)
    sales = Caller(Principal("sales@fjord-cloud.example", fjord.id, frozenset({Role.SALES_ADMIN}),
                             ROLE_SCOPES[Role.SALES_ADMIN]), fjord)
    lagoon_admin = s.caller(lagoon)
    with acting_as(sales):
        nordlys = await trials.start_trial(repos, sales, _trial(
            "Nordlys Bakeri", "ola@nordlys-bakeri.example", S.MESSAGING, S.MEETINGS,
            meetings=MeetingsSettings("nordlys-bakeri", "Europe/Oslo")), None)
        aged = {days: await trials.start_trial(repos, sales, _trial(company, email, S.CALLING), None)
                for days, company, email in ((27, "Hardanger Hotels", "it@hardanger-hotels.example"),
                                             (35, "Sogn Seafood", "ops@sogn-seafood.example"),
                                             (61, "Vesteraal Shipping", "it@vesteraal.example"))}
        deleted = await trials.start_trial(repos, sales, _trial("Lofoten Lodge", "desk@lofoten.example"), None)
        dovre = await trials.start_trial(repos, sales, _trial("Dovre Dairy", "boss@dovre.example"), None)
        tromso = await find_by_admin_email(repos, "cio@tromso-analytics.example")
        assert tromso is not None
        cancelled = await trials.start_trial(repos, sales, _trial(
            "Tromsø Analytics", "cio@tromso-analytics.example", S.CALLING, org=tromso.id), None)
        await trials.start_trial(repos, sales, _trial("Geiranger Gardens", "post@geiranger.example"), None)
    with acting_as(lagoon_admin):
        address = Address(address_line1="Storgata 5", city="Lillehammer", country="NO")
        fjell = await trials.start_trial(repos, lagoon_admin, trials.StartTrial(
            _trial("Fjell Tech", "it@fjell-tech.example", S.MESSAGING, S.DEVICES).trial,
            [ShipmentRequest("desk_phone", 3, address)]), None)
        failing = await trials.start_trial(repos, lagoon_admin, _trial("Dovre Dairy", "boss@dovre.example"), None)
    await s.run_jobs_of(nordlys.id, *(t.id for t in aged.values()), deleted.id, dovre.id, fjell.id)
    await s.run_jobs_of(failing.id)  # its admin belongs to Fjord's Dovre org now: the trial ends in `error`
    for days, trial in aged.items():
        await _backdate(s, trial.id, days)
    await _backdate(s, fjell.id, 10)
    await _lapse_consent(s, cancelled.id)
    with acting_as(sales):  # asked again, for another service: waiting for the customer's consent
        await trials.start_trial(repos, sales, _trial("Tromsø Analytics", "cio@tromso-analytics.example", S.DEVICES,
                                                      org=tromso.id), None)
    with acting_as(sales):
        await trials.delete_trial(repos, sales, deleted.id, None)
    with acting_as(lagoon_admin):
        await trials.extend_trial(repos, lagoon_admin, fjell.id, None)
