"""Demo scene: signed webhooks (R-NOT-7…10) of Fjord Cloud Resale (its full_admin's `make run` token reads them with
`webhookEndpoints { edges { node { url state disabledReason deliveries { edges { node { status attempts {
httpStatus error } } } } } } }`):

- "ERP": active, hears the trials' and device shipments' status changes from now on. Its host does not exist,
  so once the running gateway ships a device the deliveries fail and wait 30 s, 1 min, … (R-NOT-9);
- "Old CRM": took one event (204), then answered 410 Gone to the next (a "Staging" endpoint, since deleted):
  disabled, with its event and a WEBHOOK_ENDPOINT_DISABLED email to the partner's admins (R-NOT-10). Re-enable it
  with `setWebhookEndpointState`.

The demo's hosts resolve nowhere, so the scene registers them without a DNS lookup and plays the CRM's answers
itself (as the demo simulates the Webex side).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta

from domain.rules.webhooks import AttemptResult, url_problem
from domain.services import reads, webhooks
from domain.services.webhooks_delivery import deliver
from domain.store.webhooks import AddressGuard
from gateway.demo_scene import DemoScene, acting_as


@dataclasses.dataclass(frozen=True)
class _DemoHosts(AddressGuard):
    async def problem(self, url: str) -> str | None:
        return url_problem(url)


async def scene(s: DemoScene) -> None:
    from gateway.demo import DEMO_RESALE_PARTNER_ID  # the seed imports the scenes

    owner = await s.repos.partners.get(DEMO_RESALE_PARTNER_ID)
    if owner is None:
        return
    repos = dataclasses.replace(s.repos, webhook_guard=_DemoHosts())
    admin = s.caller(owner)
    with acting_as(admin):
        await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(
            "https://erp.fjord-cloud.example/hooks/webex", "ERP: trials and devices",
            reads.EventCriteria(entity_types=["TRIAL", "DEVICE_SHIPMENT"]), reads.Ownership()))
        crm, _ = await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(
            "https://crm.fjord-cloud.example/webhooks", "Old CRM (retired)",
            reads.EventCriteria(entity_types=["WEBHOOK_ENDPOINT"]), reads.Ownership()))
    answers = [204, 410]

    async def crm_answers(url: str, delivery_id: str, keys: Sequence[str], body: str) -> AttemptResult:
        status = answers.pop(0) if answers else 410
        return AttemptResult(status, 42, None if status < 300 else f"HTTP {status}")

    s.clock.advance(timedelta(minutes=1))
    await deliver(repos, crm.id, "demo", crm_answers)  # its own creation: 204
    s.clock.advance(timedelta(minutes=1))
    with acting_as(admin):  # one more endpoint: an event the CRM hears, and answers 410 to
        staging, _ = await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(
            "https://staging.fjord-cloud.example/hooks", "Staging", reads.EventCriteria(), reads.Ownership()))
    await deliver(repos, crm.id, "demo", crm_answers)
    with acting_as(admin):
        await webhooks.delete_endpoint(repos, admin, staging.id)
