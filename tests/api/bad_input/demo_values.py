"""The tokens and demo ids the bad-input tables refer to (`Ref` names), looked up once per group."""

from __future__ import annotations

from typing import Any

from tests.api.bad_input.matrix import Ctx
from tests.conftest import Demo, Gateway

# Demo customers by external id (gateway/demo.py); each owner's are unique.
_CUSTOMERS = {
    "p.customer": ("partner", "EXT-1009"),  # provisioned: webex_voice + cisco_calling_plan, a location
    "p.customer.other": ("partner", "EXT-1002"),  # provisioned: webex_calling_standard, a location
    "p.meetings": ("partner", "EXT-1016"),  # provisioned: webex_meetings only, no location
    "p.deleting": ("partner", "EXT-1019"),
    "p.pending": ("partner", "EXT-1015"),  # waiting for a restricted-party decision
    "a.customer": ("sub_a", "EXT-1023"),  # provisioned
    "b.customer": ("sub_b", "EXT-1027"),  # error (sub_b is suspended)
}
_FIRST_ITEM = {
    "customers": "customers(first: 1) { pageInfo { endCursor } }",
    "subscribers": "subscribers(first: 1) { pageInfo { endCursor } }",
    "events": "provisioningEvents(first: 1) { pageInfo { endCursor } }",
}


async def _end_cursor(gateway: Gateway, token: str, list_name: str) -> str:
    data = await gateway.execute(token, f"{{ {_FIRST_ITEM[list_name]} }}")
    cursor: str = next(iter(data.values()))["pageInfo"]["endCursor"]
    return cursor


async def demo_context(gateway: Gateway, demo: Demo) -> Ctx:
    orgs = {"partner": demo.partner, "sub_a": demo.sub_a, "sub_b": demo.sub_b}
    ctx = Ctx(tokens={
        "partner": gateway.token(demo.partner, "full_admin"),
        "reader": gateway.token(demo.partner, "read_only_admin"),
        "sub_a": gateway.token(demo.sub_a, "full_admin"),
        "sub_b": gateway.token(demo.sub_b, "full_admin"),
        "reviewer": gateway.token(None, "compliance_reviewer"),
        "platform": gateway.token(None, "platform_admin"),
    }, values=dict(orgs))
    db = gateway.runtime.db
    assert db is not None
    customers = {(d["ownerOrgId"], d["externalId"]): d for d in await db.find("customers", {})}
    for name, (org, external_id) in _CUSTOMERS.items():
        ctx.values[name] = customers[(orgs[org], external_id)]["_id"]
        ctx.values[f"{name}.externalId"] = external_id
    for short, org in (("p", "partner"), ("a", "sub_a"), ("b", "sub_b")):
        template = (await db.find("templates", {"ownerOrgId": orgs[org]}, sort=[("createdAt", 1)]))[0]
        ctx.values[f"{short}.template"] = template["provisioningId"]
        ctx.values[f"{short}.template.id"] = template["_id"]
        subscribers: list[dict[str, Any]] = await db.find(
            "subscribers", {"customerId": ctx.values[f"{short}.customer"]}, sort=[("createdAt", 1)])
        admin = next(s for s in subscribers if s["isAdmin"])
        other = next(s for s in subscribers if not s["isAdmin"] and s.get("extension"))
        ctx.values[f"{short}.admin"] = admin["_id"]
        ctx.values[f"{short}.subscriber"] = other["_id"]
        ctx.values[f"{short}.subscriber.email"] = other["email"]
        ctx.values[f"{short}.subscriber.email.shouted"] = f"  {other['email'].upper()}  "
        ctx.values[f"{short}.admin.extension"] = admin.get("extension") or ""
        ctx.values[f"{short}.subscriber.extension"] = other["extension"]
        ctx.values[f"{short}.admin.phone"] = admin.get("primaryPhoneNumber") or ""
        location = await db.find("locations", {"customerId": ctx.values[f"{short}.customer"]})
        ctx.values[f"{short}.location"] = location[0]["_id"]
    # Workspaces (gateway/demo_extras/workspaces.py): the partner's and sub-partner A's, provisioned, oldest first.
    for short, org in (("p", "partner"), ("a", "sub_a")):
        placed = await db.find("workspaces", {"ownerOrgId": orgs[org], "status": "provisioned"},
                               sort=[("createdAt", 1), ("_id", 1)])
        numbered = next(d for d in placed if d.get("primaryPhoneNumber"))  # the reception phone
        other = next(d for d in placed if d["customerId"] == numbered["customerId"] and d["_id"] != numbered["_id"])
        for suffix, doc in (("", numbered), (".other", other)):
            ctx.values[f"{short}.workspace{suffix}"] = doc["_id"]
            ctx.values[f"{short}.workspace{suffix}.name"] = doc["name"]
            ctx.values[f"{short}.workspace{suffix}.extension"] = doc.get("extension") or ""
            ctx.values[f"{short}.workspace{suffix}.phone"] = doc.get("primaryPhoneNumber") or ""
        ctx.values[f"{short}.workspace.customer"] = numbered["customerId"]
    other_location = await db.find("locations", {"customerId": ctx.values["p.customer.other"]})
    ctx.values["p.location.other"] = other_location[0]["_id"]
    for short, who in (("p", "partner"), ("a", "sub_a"), ("b", "sub_b")):
        for list_name in _FIRST_ITEM:
            ctx.values[f"{short}.{list_name}.cursor"] = await _end_cursor(gateway, ctx.tokens[who], list_name)
    return ctx
