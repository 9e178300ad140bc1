"""Attaching Wholesale to an existing Webex org through the API (DOMAIN.md §5.7: R-ATT-1…3, R-SUB-2 amended):
provisioning and precheck with `orgId`, the org admin's approval and its 10-day timer, and the directory CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.model.entities import AuthMode
from domain.rules.attach import DirectoryOrg
from domain.rules.rpl import RplEntry
from tests.api.provisioning import (
    CUSTOMER_FIELDS,
    DECIDE,
    DELETE,
    PRECHECK,
    PROVISION,
    PROVISION_SUBSCRIBER,
    SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import JWT_SECRET, NOW, Demo, Gateway

pytestmark = pytest.mark.settled_demo

ATTACH_FIELDS = f"""{CUSTOMER_FIELDS} authMode hybrid restrictedByPartnerMode restrictEnterpriseSettings
  attach {{ approvalState requestedAt deadline decidedAt partnerAccess }}"""
CUSTOMER = f"query($id: ID!) {{ customer(id: $id) {{ {ATTACH_FIELDS} }} }}"
PRECHECK_ATTACH = PRECHECK.replace("ok info", "ok attachApprovalRequired info")
APPROVE = f"""
mutation($id: ID!, $approved: Boolean!, $note: String) {{
  recordAttachApproval(customerId: $id, approved: $approved, note: $note) {{
    customer {{ {ATTACH_FIELDS} }} errors {{ code message field }}
  }}
}}"""
ORG_ID = ["input", "orgId"]

SMALL = DirectoryOrg(id="org-small", name="Small Existing Org", users=8, auth_mode=AuthMode.PARTNER_OIDC)
BIG = DirectoryOrg(id="org-big", name="Big Existing Org", users=150, active_licence=True)
FLEX = DirectoryOrg(id="org-flex", name="Flex Existing Org", users=3, flex=True, active_licence=True)
TRIAL = DirectoryOrg(id="org-trial", name="Trial Org", trial=True)
BROADWORKS = DirectoryOrg(id="org-bw", name="BroadWorks Org", broadworks=True)
ELSEWHERE = DirectoryOrg(id="org-wholesale", name="Wholesale Elsewhere", wholesale=True)


async def _directory(gateway: Gateway) -> None:
    await gateway.repos.org_directory.load([SMALL, BIG, FLEX, TRIAL, BROADWORKS, ELSEWHERE])


async def _attach_input(gateway: Gateway, owner: str, org_id: str, external_id: str = "ATTACH-T1"
                        ) -> dict[str, Any]:
    return customer_input(await provisioning_id(gateway, owner), external_id, orgId=org_id)


async def _customer(gateway: Gateway, token: str, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = (await gateway.execute(token, CUSTOMER, {"id": customer_id}))["customer"]
    return customer


async def _waiting_for_approval(gateway: Gateway, demo: Demo, org: DirectoryOrg = BIG) -> dict[str, Any]:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, await _attach_input(gateway, demo.partner, org.id))
    await gateway.settle()
    return await _customer(gateway, token, customer["id"])


async def test_r_att_1_a_small_org_is_attached_silently_and_keeps_its_name_and_auth(
        gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    token = partner_token(gateway, demo)
    answered = await provision(gateway, token, await _attach_input(gateway, demo.partner, SMALL.id))
    assert (answered["orgId"], answered["name"], answered["status"]) == (SMALL.id, SMALL.name, "provisioning")
    assert [w["code"] for w in answered["warnings"]] == ["ORG_NAME_KEPT"]
    await gateway.settle()
    customer = await _customer(gateway, token, answered["id"])
    assert customer["status"] == "provisioned" and customer["orgId"] == SMALL.id
    # R-ATT-3: the org's own auth (the demo template's is webex), restricted mode off, full admin (no licence).
    assert (customer["authMode"], customer["restrictedByPartnerMode"], customer["hybrid"]) == (
        "partner_oidc", False, False)
    assert customer["attach"] == {"approvalState": "not_required", "requestedAt": None, "deadline": None,
                                  "decidedAt": None, "partnerAccess": "FULL_ADMIN"}


async def test_r_att_1_created_orgs_have_no_attach_and_stay_restricted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    created = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    customer = await _customer(gateway, token, created["id"])
    assert (customer["attach"], customer["restrictedByPartnerMode"], customer["authMode"]) == (None, True, "webex")


@pytest.mark.parametrize(("org_id", "code"), [
    ("org-nowhere", "NOT_FOUND"), (ELSEWHERE.id, "ORG_ALREADY_WHOLESALE"), (TRIAL.id, "ORG_NOT_ATTACHABLE"),
    (BROADWORKS.id, "ORG_NOT_ATTACHABLE")])
async def test_r_att_1_unattachable_orgs_are_refused_and_nothing_is_written(
        gateway: Gateway, demo: Demo, org_id: str, code: str) -> None:
    await _directory(gateway)
    data = await _attach_input(gateway, demo.partner, org_id)
    errors = await refused(gateway, partner_token(gateway, demo), PROVISION, {"input": data})
    assert [(e["code"], e["field"]) for e in errors] == [(code, ORG_ID)]


async def test_r_att_1_an_org_attached_by_anyone_is_already_wholesale(gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    await provision(gateway, partner_token(gateway, demo), await _attach_input(gateway, demo.partner, SMALL.id))
    data = await _attach_input(gateway, demo.sub_a, SMALL.id, "ATTACH-T2")
    errors = await refused(gateway, gateway.token(demo.sub_a), PROVISION, {"input": data})
    assert [(e["code"], e["field"]) for e in errors] == [("ORG_ALREADY_WHOLESALE", ORG_ID)]


async def test_r_att_1_on_behalf_of_a_sub_partner_the_sub_partner_owns_the_attached_customer(
        gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    data = await _attach_input(gateway, demo.sub_a, SMALL.id)
    customer = await provision(gateway, partner_token(gateway, demo), data, on_behalf=demo.sub_a)
    assert customer["owner"] == {"id": demo.sub_a} and customer["orgId"] == SMALL.id


@pytest.mark.read_only
async def test_r_att_1_precheck_without_org_id_says_nothing_about_approval(gateway: Gateway, demo: Demo) -> None:
    data = customer_input(await provisioning_id(gateway, demo.partner))
    result = (await gateway.execute(partner_token(gateway, demo), PRECHECK_ATTACH, {"input": data}))[
        "precheckCustomerProvisioning"]
    assert result["ok"] is True and result["attachApprovalRequired"] is None


async def test_r_att_2_precheck_tells_whether_the_org_admin_must_approve(gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    token = partner_token(gateway, demo)
    for org, required in ((BIG, True), (SMALL, False)):
        data = await _attach_input(gateway, demo.partner, org.id)
        async with gateway.writes_nothing():
            result = (await gateway.execute(token, PRECHECK_ATTACH, {"input": data}))["precheckCustomerProvisioning"]
        assert (result["ok"], result["attachApprovalRequired"]) == (True, required)
    unknown = (await gateway.execute(token, PRECHECK_ATTACH, {"input": await _attach_input(
        gateway, demo.partner, "org-nowhere")}))["precheckCustomerProvisioning"]
    assert unknown["ok"] is False and unknown["attachApprovalRequired"] is None
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", ORG_ID)]


async def test_r_att_2_a_big_org_waits_for_its_admin_and_its_subscribers_wait_too(
        gateway: Gateway, demo: Demo) -> None:
    """R-ATT-2, R-RPL-5 and R-SUB-2 (amended): the first subscriber of an attached org does not become admin."""
    await _directory(gateway)
    token = partner_token(gateway, demo)
    customer = await _waiting_for_approval(gateway, demo)
    assert customer["status"] == "pending_customer_approval"
    assert customer["attach"]["approvalState"] == "pending"
    assert customer["attach"]["partnerAccess"] == "PROVISIONING_ADMIN"
    assert customer["attach"]["deadline"] is not None and customer["attach"]["requestedAt"] is not None
    added = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "first@big-existing.example", package="webex_meetings", extension=None)}))
    subscriber = added["provisionSubscriber"]["subscriber"]
    assert subscriber["isAdmin"] is False
    await gateway.settle()
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["id"]}))["subscriber"]["status"] == \
        "provisioning"

    approved = (await gateway.execute(gateway.token(None, "platform_admin"), APPROVE, {
        "id": customer["id"], "approved": True, "note": "ok"}))["recordAttachApproval"]
    assert approved["errors"] == [] and approved["customer"]["status"] == "provisioning"
    await gateway.settle()
    done = await _customer(gateway, token, customer["id"])
    assert done["status"] == "provisioned"
    assert (done["attach"]["approvalState"], done["attach"]["partnerAccess"]) == ("approved", "FULL_ADMIN")
    sub = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["id"]}))["subscriber"]
    assert (sub["status"], sub["isAdmin"]) == ("provisioned", False)
    moves = [(e["fromStatus"], e["toStatus"]) for e in await gateway.events(entityId=customer["id"])]
    assert moves == [(None, "provisioning"), ("provisioning", "pending_customer_approval"),
                     ("pending_customer_approval", "provisioning"), ("provisioning", "provisioned")]


async def test_r_att_2_a_screened_org_is_reviewed_first_then_its_admin_is_asked(gateway: Gateway, demo: Demo) -> None:
    """R-ATT-1 / R-ATT-2: RPL screening applies to the org's name; approval is asked once the review approved it."""
    await _directory(gateway)
    await gateway.repos.rpl.load([RplEntry.create("Attach test list", BIG.name)])
    customer = await _waiting_for_approval(gateway, demo)
    assert customer["status"] == "pending_rpl_review" and customer["attach"]["requestedAt"] is None
    decided = (await gateway.execute(gateway.token(None, "compliance_reviewer"), DECIDE, {
        "id": customer["id"], "decision": "APPROVE"}))["decideRplReview"]
    assert decided["errors"] == []
    await gateway.settle()
    asked = await _customer(gateway, partner_token(gateway, demo), customer["id"])
    assert asked["status"] == "pending_customer_approval" and asked["attach"]["requestedAt"] is not None


async def test_r_att_2_a_declined_attach_ends_in_error_with_its_subscribers(gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    token = partner_token(gateway, demo)
    customer = await _waiting_for_approval(gateway, demo)
    subscriber = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "first@big-existing.example", package="webex_meetings", extension=None)}))[
        "provisionSubscriber"]["subscriber"]
    declined = (await gateway.execute(gateway.token(None, "platform_admin"), APPROVE, {
        "id": customer["id"], "approved": False}))["recordAttachApproval"]
    assert declined["customer"]["status"] == "error"
    assert [e["code"] for e in declined["customer"]["errors"]] == ["ATTACH_APPROVAL_DECLINED"]
    assert declined["customer"]["attach"]["approvalState"] == "declined"
    await gateway.settle()
    sub = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["id"]}))["subscriber"]
    assert sub["status"] == "error" and [e["code"] for e in sub["errors"]] == ["ATTACH_APPROVAL_DECLINED"]


async def test_r_att_2_ten_days_unanswered_ends_in_error_by_a_durable_timer(gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    token = partner_token(gateway, demo)
    customer = await _waiting_for_approval(gateway, demo)
    gateway.clock.set(NOW + timedelta(days=10) - timedelta(minutes=1))
    await gateway.settle()
    assert (await _customer(gateway, token, customer["id"]))["status"] == "pending_customer_approval"
    gateway.clock.set(NOW + timedelta(days=10, minutes=1))
    await gateway.settle()
    timed_out = await _customer(gateway, token, customer["id"])
    assert timed_out["status"] == "error" and timed_out["attach"]["approvalState"] == "timed_out"
    assert [e["code"] for e in timed_out["errors"]] == ["ATTACH_APPROVAL_TIMEOUT"]
    event = (await gateway.events(entityId=customer["id"]))[-1]
    assert event["toStatus"] == "error" and event["actor"]["system"] == "attach_approval_timeout"


async def test_r_att_2_approval_needed_with_a_template_restricting_invites_is_not_attachable(
        gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    db = gateway.runtime.db
    assert db is not None
    provisioning = await provisioning_id(gateway, demo.partner)
    await db.collection("templates").update_one({"provisioningId": provisioning},
                                                {"$set": {"restrictAdminInviteEmailsOnAttach": True}})
    token = partner_token(gateway, demo)
    errors = await refused(gateway, token, PROVISION, {"input": customer_input(provisioning, orgId=BIG.id)})
    assert [(e["code"], e["field"]) for e in errors] == [("ORG_NOT_ATTACHABLE", ORG_ID)]
    await provision(gateway, token, customer_input(provisioning, orgId=SMALL.id))  # silent: no invite needed


async def test_r_att_2_only_a_platform_admin_records_the_answer_and_only_while_it_is_awaited(
        gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    customer = await _waiting_for_approval(gateway, demo)
    for token in (partner_token(gateway, demo), gateway.token(None, "compliance_reviewer")):
        async with gateway.writes_nothing():
            errors = await gateway.errors(token, APPROVE, {"id": customer["id"], "approved": True})
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
    platform = gateway.token(None, "platform_admin")
    errors = await refused(gateway, platform, APPROVE, {"id": "cus_nowhere", "approved": True})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["customerId"])]
    created = await provision(gateway, partner_token(gateway, demo),
                              customer_input(await provisioning_id(gateway, demo.partner), "NOT-ATTACHED"))
    errors = await refused(gateway, platform, APPROVE, {"id": created["id"], "approved": True})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ["customerId"])]


async def test_r_att_3_deleting_an_attached_customer_lets_the_org_be_attached_again(
        gateway: Gateway, demo: Demo) -> None:
    await _directory(gateway)
    token = partner_token(gateway, demo)
    first = await provision(gateway, token, await _attach_input(gateway, demo.partner, SMALL.id))
    await gateway.settle()
    assert (await gateway.execute(token, DELETE, {"id": first["id"]}))["deleteCustomer"]["errors"] == []
    data = await _attach_input(gateway, demo.partner, SMALL.id, "ATT-AGAIN")
    errors = await refused(gateway, token, PROVISION, {"input": data})  # still held while it is being deleted
    assert [e["code"] for e in errors] == ["ORG_ALREADY_WHOLESALE"]
    await gateway.settle()
    again = await provision(gateway, token, data)
    assert again["orgId"] == SMALL.id


async def test_r_att_1_gateway_orgs_load_reads_the_directory_csv(
        gateway: Gateway, mongo_uri: str, tmp_path: Path) -> None:
    """The CLI loads the org directory, idempotently by org id; a bad file names its line and loads nothing."""
    csv = tmp_path / "orgs.csv"
    csv.write_text("id,name,users,verified_domains,claimed_domains,active_licence,trial,broadworks,flex,auth_mode\n"
                   "org-a,Alpha Org,150,alpha.example,,true,false,false,false,partner_saml\n"
                   'org-b,"Beta, Inc.",4,,,no,no,no,yes,\n')
    db = gateway.runtime.db
    assert db is not None
    env = {**os.environ, "GATEWAY_MONGODB_URI": mongo_uri, "GATEWAY_DATABASE": db.name,
           "GATEWAY_JWT_SECRET": JWT_SECRET, "GATEWAY_DATA_DIR": str(tmp_path)}

    async def load(path: Path) -> tuple[int | None, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "orgs", "load", str(path), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 120)
        return process.returncode, out.decode(), err.decode()

    for _ in range(2):
        code, out, err = await load(csv)
        assert code == 0, err
        assert "loaded 2 orgs" in out and "(2 in the directory now)" in out
    alpha, beta = await gateway.repos.org_directory.get("org-a"), await gateway.repos.org_directory.get("org-b")
    assert alpha == DirectoryOrg(id="org-a", name="Alpha Org", users=150, verified_domains=("alpha.example",),
                                 active_licence=True, auth_mode=AuthMode.PARTNER_SAML)
    assert beta is not None and (beta.name, beta.flex, beta.approval_required) == ("Beta, Inc.", True, False)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,users\norg-c,Gamma,many\n")
    code, _, err = await load(bad)
    assert code == 2 and "line 2" in err and "users" in err
    assert await gateway.repos.org_directory.get("org-c") is None
