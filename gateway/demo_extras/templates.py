"""Demo scene: onboarding templates changed and retired (R-TPL-3…5).

- "Enterprise SSO (Europe)" (the partner's) updated: brand name, service-provider admin and PSTN vendor → version 2,
  an UPDATE event with its field changes;
- "Contoso standard" switched by the parent, for its sub-partner Contoso, to partner SSO over OIDC (an OIDC
  template); Contoso's customers keep the `webex` authentication they were onboarded with (R-TPL-4);
- "Retail pilot (Canada)": one customer (Maple Leaf Bakery) onboarded with it, then the template deleted: it is
  listed nowhere and its provisioningId is refused, while the bakery still shows it as its template (R-TPL-5).

The template lists of the demo's orgs keep their length (the retired one is not listed). Only this scene's own
jobs are run.
"""

from __future__ import annotations

from domain.model.entities import Address, AuthMode
from domain.services import customers, templates
from gateway.demo_scene import DemoScene

RETIRED_NAME = "Retail pilot (Canada)"


async def scene(s: DemoScene) -> None:
    parent, contoso = s.parent, s.subs[1]
    enterprise = next(t for t in s.templates if t.owner_org_id == parent.id and t.auth_mode is AuthMode.PARTNER_SAML)
    contoso_standard = next(t for t in s.templates if t.owner_org_id == contoso.id)

    await templates.update_template(s.repos, s.caller(parent), enterprise.id, templates.TemplateUpdate(
        brand_name="Demo Telecom Enterprise", sp_admin_email="provisioning@demo-telecom.example",
        pstn_vendor="IntelePeer"), None)
    await templates.update_template(s.repos, s.caller(parent), contoso_standard.id, templates.TemplateUpdate(
        auth_mode=AuthMode.PARTNER_OIDC, idp_name="contoso-entra.prod"), contoso.id)

    pilot = await templates.create_template(s.repos, s.caller(parent), templates.NewTemplate(
        name=RETIRED_NAME, country="CA", language="en_CA", brand_name="Demo Telecom",
        sp_admin_email="provisioning@demo-telecom.example"), None)
    bakery = await customers.provision_customer(s.repos, s.caller(parent), customers.NewCustomer(
        provisioning_id=pilot.provisioning_id, external_id="TPL-PILOT-1", packages=["webex_meetings"],
        address=Address(address_line1="12 Queen Street", city="Toronto", state_or_province="ON",
                        zip_or_postal_code="M5H 2N2", country="CA"),
        name="Maple Leaf Bakery", primary_email="it@maple-leaf-bakery.example",
        parameters=customers.Parameters(meetings_timezone="America/Toronto")), None)
    await s.run_jobs_of(bakery.id)
    await templates.delete_template(s.repos, s.caller(parent), pilot.id, None)
