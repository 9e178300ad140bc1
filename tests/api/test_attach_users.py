"""An attached org's own users joining as subscribers, through the API (DOMAIN.md §5.7, R-ATT-3): they join without
consent, and a Calling-entitled one keeps its number, extension and location whatever the request gave."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from domain.rules.attach import DirectoryOrg, OrgUser
from tests.api.provisioning import (
    PRECHECK_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import JWT_SECRET, Demo, Gateway

pytestmark = pytest.mark.settled_demo

ANN = OrgUser("ann@users-org.example", calling=True, number="+14155550100", extension="2100")
BOB = OrgUser("bob@users-org.example")  # not Calling-entitled
ORG = DirectoryOrg(id="org-with-users", name="Org With Users", users=5, org_users=(ANN, BOB))
STRANGER = "stranger@free-mail.example"  # a free account, not one of the org's users

FIELDS = """id email primaryPhoneNumber extension status isAdmin location { id isHeadquarters }
  warnings { code message } consent { emailsSent }"""
ADD = f"""
mutation($input: ProvisionSubscriberInput!) {{
  provisionSubscriber(input: $input) {{ subscriber {{ {FIELDS} }} errors {{ code message field }} }}
}}"""
READ = f"query($id: ID!) {{ subscriber(id: $id) {{ {FIELDS} }} }}"


async def _attached(gateway: Gateway, demo: Demo, org: DirectoryOrg = ORG) -> tuple[str, str]:
    """A provisioned customer attached to `org`, whose users all hold free Webex accounts; (token, customer id)."""
    await gateway.repos.org_directory.load([org])
    await gateway.repos.accounts.load([(ANN.email, None), (BOB.email, None), (STRANGER, None)])
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(
        await provisioning_id(gateway, demo.partner), "USERS-1", orgId=org.id))
    await gateway.settle()
    return token, str(customer["id"])


async def _add(gateway: Gateway, token: str, data: dict[str, Any]) -> dict[str, Any]:
    payload = (await gateway.execute(token, ADD, {"input": data}))["provisionSubscriber"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


async def _read(gateway: Gateway, token: str, subscriber_id: str) -> dict[str, Any]:
    subscriber: dict[str, Any] = (await gateway.execute(token, READ, {"id": subscriber_id}))["subscriber"]
    return subscriber


async def test_r_att_3_a_calling_org_user_keeps_its_number_and_joins_without_consent(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _attached(gateway, demo)
    added = await _add(gateway, token, subscriber_input(customer_id, "Ann@Users-Org.example",
                                                        primaryPhoneNumber="+14155550199", extension="2001"))
    # The request's number and extension are ignored: the org user's own are kept, with a warning saying so.
    assert (added["primaryPhoneNumber"], added["extension"], added["isAdmin"]) == ("+14155550100", "2100", False)
    assert [w["code"] for w in added["warnings"]] == ["ORG_USER_SETTINGS_KEPT"]
    assert added["location"]["isHeadquarters"] is True
    await gateway.settle()
    settled = await _read(gateway, token, added["id"])
    # A free account, yet one of the org's users: no consent asked, straight to provisioned.
    assert (settled["status"], settled["consent"]) == ("provisioned", None)


async def test_r_att_3_an_org_user_without_calling_joins_as_asked_without_consent(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _attached(gateway, demo)
    added = await _add(gateway, token, subscriber_input(customer_id, BOB.email, extension="2002"))
    assert (added["extension"], added["warnings"]) == ("2002", [])
    await gateway.settle()
    assert (await _read(gateway, token, added["id"]))["status"] == "provisioned"


async def test_r_att_3_a_free_account_that_is_not_an_org_user_still_needs_consent(
        gateway: Gateway, demo: Demo) -> None:
    """R-ATT-3 against R-SUB-3: only the org's own users skip consent in an attached org."""
    token, customer_id = await _attached(gateway, demo)
    added = await _add(gateway, token, subscriber_input(customer_id, STRANGER, extension="2003"))
    await gateway.settle()
    settled = await _read(gateway, token, added["id"])
    assert settled["status"] == "pending_user_migration" and settled["consent"]["emailsSent"] == 1


async def test_r_att_3_an_org_users_email_in_a_created_customer_is_an_ordinary_free_account(
        gateway: Gateway, demo: Demo) -> None:
    await gateway.repos.org_directory.load([ORG])
    await gateway.repos.accounts.load([(ANN.email, None)])
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "USERS-2"))
    await gateway.settle()
    added = await _add(gateway, token, subscriber_input(customer["id"], ANN.email, extension="2004"))
    assert (added["extension"], added["warnings"]) == ("2004", [])
    await gateway.settle()
    assert (await _read(gateway, token, added["id"]))["status"] == "pending_user_migration"


async def test_r_att_3_precheck_judges_the_org_users_own_settings_not_the_given_ones(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _attached(gateway, demo)
    # A location the customer does not have would be NOT_FOUND; for the org's Calling user it is ignored.
    data = subscriber_input(customer_id, ANN.email, locationId="loc_nowhere")
    result = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": data}))["precheckSubscriberProvisioning"]
    assert (result["ok"], result["errors"]) == (True, [])
    stranger = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": {**data, "email": STRANGER}}))[
        "precheckSubscriberProvisioning"]
    assert [(e["code"], e["field"]) for e in stranger["errors"]] == [("NOT_FOUND", ["input", "locationId"])]


async def test_r_att_3_gateway_orgs_load_reads_the_org_users_from_a_second_csv(
        gateway: Gateway, mongo_uri: str, tmp_path: Path) -> None:
    """`gateway orgs load ORGS.csv --users USERS.csv`: the orgs file as before, the users of its orgs beside it; a
    later load without `--users` keeps them; a bad users file names its line and loads nothing."""
    orgs, users, bad = tmp_path / "orgs.csv", tmp_path / "users.csv", tmp_path / "bad-users.csv"
    orgs.write_text("id,name,users\norg-u1,Users One,3\n")
    users.write_text("org_id,email,calling,number,extension\norg-u1,ann@users-org.example,true,+14155550100,2100\n"
                     "org-u1,bob@users-org.example,,,\n")
    bad.write_text("org_id,email\norg-elsewhere,carl@users-org.example\n")
    db = gateway.runtime.db
    assert db is not None
    env = {**os.environ, "GATEWAY_MONGODB_URI": mongo_uri, "GATEWAY_DATABASE": db.name,
           "GATEWAY_JWT_SECRET": JWT_SECRET, "GATEWAY_DATA_DIR": str(tmp_path)}

    async def load(*args: str) -> tuple[int | None, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "orgs", "load", *args, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(process.communicate(), 120)
        return process.returncode, err.decode()

    for args in ((str(orgs), "--users", str(users)), (str(orgs),)):
        code, err = await load(*args)
        assert code == 0, err
        org = await gateway.repos.org_directory.get("org-u1")
        assert org is not None and org.org_users == (ANN, BOB)
    code, err = await load(str(orgs), "--users", str(bad))
    assert code == 2 and "bad-users.csv: line 2: org org-elsewhere is not in the orgs file" in err


BULK = """mutation($c: ID!, $ops: [BulkSubscriberOperationInput!]!) {
  bulkSubscriberOperations(customerId: $c, operations: $ops) { batch { id status } errors { code } } }"""


async def test_r_att_3_a_bulk_row_for_an_org_user_joins_on_the_same_terms(gateway: Gateway, demo: Demo) -> None:
    """R-BULK-3: a row is judged like its single mutation, the org-user terms included."""
    token, customer_id = await _attached(gateway, demo)
    answer = (await gateway.execute(token, BULK, {"c": customer_id, "ops": [
        {"action": "CREATE", "email": ANN.email, "package": "webex_calling", "firstName": "Ann",
         "lastName": "Org", "extension": "2002"}]}))["bulkSubscriberOperations"]
    assert answer["errors"] == []
    await gateway.settle()
    assert gateway.runtime.db is not None
    [doc] = await gateway.runtime.db.find("subscribers", {"email": ANN.email})
    added = await _read(gateway, token, doc["_id"])
    assert (added["primaryPhoneNumber"], added["extension"], added["status"]) == ("+14155550100", "2100",
                                                                                  "provisioned")
    assert [w["code"] for w in added["warnings"]] == ["ORG_USER_SETTINGS_KEPT"] and added["consent"] is None
