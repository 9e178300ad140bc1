"""Shared requests and helpers of the provisioning tests (not a test module itself)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Demo, Gateway

CUSTOMER_FIELDS = """
  id externalId orgId name status version language primaryEmail
  packages { name status limit assigned errors { code message } }
  errors { code message } warnings { code message }
  compliance { state screenedAt reviewDeadline decidedAt note nonCompliantSince
               matches { listName entryName country score } contactAttempts { reached note } }
  owner { id } locations { id name isHeadquarters timezone language }
"""
PROVISION = f"""
mutation($input: ProvisionCustomerInput!, $for: ID) {{
  provisionCustomer(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    customer {{ {CUSTOMER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
PRECHECK = """
mutation($input: ProvisionCustomerInput!, $for: ID) {
  precheckCustomerProvisioning(input: $input, onBehalfOfSubPartnerOrgId: $for) {
    ok info { code description } errors { code message field }
  }
}"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateCustomerInput!, $for: ID) {{
  updateCustomer(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    customer {{ {CUSTOMER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
DELETE = f"""
mutation($id: ID!, $for: ID) {{
  deleteCustomer(id: $id, onBehalfOfSubPartnerOrgId: $for) {{
    customer {{ {CUSTOMER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
CUSTOMER = f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}"
DECIDE = f"""
mutation($id: ID!, $decision: RplDecision!, $note: String) {{
  decideRplReview(customerId: $id, decision: $decision, note: $note) {{
    customer {{ {CUSTOMER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
CONTACT = f"""
mutation($id: ID!, $reached: Boolean!, $note: String) {{
  recordComplianceContactAttempt(customerId: $id, reached: $reached, note: $note) {{
    customer {{ {CUSTOMER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
SUBSCRIBER_FIELDS = """
  id email firstName lastName package primaryPhoneNumber extension isAdmin status version
  errors { code message } location { id } customer { id status }
"""
PROVISION_SUBSCRIBER = f"""
mutation($input: ProvisionSubscriberInput!, $for: ID) {{
  provisionSubscriber(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    subscriber {{ {SUBSCRIBER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
PRECHECK_SUBSCRIBER = """
mutation($input: ProvisionSubscriberInput!, $for: ID) {
  precheckSubscriberProvisioning(input: $input, onBehalfOfSubPartnerOrgId: $for) {
    ok info { code description } errors { code message field }
  }
}"""
UPDATE_SUBSCRIBER = f"""
mutation($id: ID!, $input: UpdateSubscriberInput!, $for: ID) {{
  updateSubscriber(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    subscriber {{ {SUBSCRIBER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
DELETE_SUBSCRIBER = """
mutation($id: ID!, $for: ID) {
  deleteSubscriber(id: $id, onBehalfOfSubPartnerOrgId: $for) { deletedId errors { code message field } }
}"""
SUBSCRIBER = f"query($id: ID!) {{ subscriber(id: $id) {{ {SUBSCRIBER_FIELDS} }} }}"


async def provisioning_id(gateway: Gateway, owner: str) -> str:
    """The provisioningId of one of `owner`'s templates (the demo has one or two per org)."""
    db = gateway.runtime.db
    assert db is not None
    docs = await db.find("templates", {"ownerOrgId": owner}, sort=[("createdAt", 1)])
    assert docs, f"no template owned by {owner}"
    return str(docs[0]["provisioningId"])


def customer_input(provisioning: str, external_id: str = "NEW-1", **overrides: Any) -> dict[str, Any]:
    """A valid request: calling and meetings packages, with a calling location in the US."""
    address = {"addressLine1": "1 Main Street", "city": "Springfield", "stateOrProvince": "IL",
               "zipOrPostalCode": "62701", "country": "US"}
    data: dict[str, Any] = {
        "provisioningId": provisioning,
        "externalId": external_id,
        "packages": ["webex_calling", "webex_meetings"],
        "address": address,
        "customerInfo": {"name": f"Springfield Plumbing {external_id}", "primaryEmail": "it@springfield.example",
                         "language": "en"},
        "provisioningParameters": {
            "callingLocation": {"name": "HQ", "address": address, "timezone": "America/Chicago", "language": "en_US"},
            "meetingsTimezone": "America/Chicago",
        },
    }
    data.update(overrides)
    return data


async def provision(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None
                    ) -> dict[str, Any]:
    """Provision a customer that must be accepted; returns the customer as answered."""
    result = (await gateway.execute(token, PROVISION, {"input": data, "for": on_behalf}))["provisionCustomer"]
    assert result["errors"] == [], result
    customer: dict[str, Any] = result["customer"]
    return customer


async def refused(gateway: Gateway, token: str, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a mutation that must be refused with payload errors and must write nothing; returns the errors."""
    async with gateway.writes_nothing():
        data = await gateway.execute(token, query, variables)
    payload = next(iter(data.values()))
    assert payload["errors"], payload
    assert all(v is None for k, v in payload.items() if k != "errors"), payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


async def current(gateway: Gateway, token: str, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = (await gateway.execute(token, CUSTOMER, {"id": customer_id}))["customer"]
    return customer


def partner_token(gateway: Gateway, demo: Demo) -> str:
    return gateway.token(demo.partner, "full_admin")


def reviewer_token(gateway: Gateway) -> str:
    return gateway.token(None, "compliance_reviewer")


def subscriber_input(customer_id: str, email: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"customerId": customer_id, "email": email, "package": "webex_calling",
                            "firstName": "Ada", "lastName": "Lovelace", "extension": "2001"}
    data.update(overrides)
    return data
