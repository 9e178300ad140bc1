"""Bulk subscriber operations through the API (DOMAIN.md §15, R-BULK-1…4; R-ORG-6 for other tenants' ids)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

BATCH_FIELDS = """id status source dryRun totalRows processedRows acceptedRows refusedRows skippedRows version
  idempotencyKey createdBy { kind sub orgId } customer { id }
  rows { totalCount edges { node { rowNumber action email status subscriber { id email package status }
                                   errors { code field } } } }"""
BULK = f"""mutation($c: ID!, $ops: [BulkSubscriberOperationInput!]!, $dry: Boolean, $key: String, $for: ID) {{
  bulkSubscriberOperations(customerId: $c, operations: $ops, dryRun: $dry, idempotencyKey: $key,
                           onBehalfOfSubPartnerOrgId: $for) {{
    batch {{ {BATCH_FIELDS} }} errors {{ code field }} }} }}"""
IMPORT = f"""mutation($input: SubscriberImportInput!) {{
  importSubscribers(input: $input) {{ batch {{ {BATCH_FIELDS} }} errors {{ code field message }} }} }}"""
CANCEL = """mutation($id: ID!) { cancelSubscriberBatch(id: $id) { batch { id status skippedRows } errors { code } } }"""
BATCH = f"query($id: ID!) {{ subscriberBatch(id: $id) {{ {BATCH_FIELDS} resultDownloadUrl }} }}"
HEADER = "email,firstName,lastName,location,phoneNumber,extension,webex_calling,webex_meetings\n"


async def _customer(gateway: Gateway, demo: Demo, external_id: str = "BULK-1") -> str:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              external_id))
    await gateway.settle()
    return str(customer["id"])


def _create(email: str, extension: str, **more: Any) -> dict[str, Any]:
    return {"action": "CREATE", "email": email, "package": "webex_calling", "firstName": "Ada", "lastName": "Byron",
            "extension": extension, **more}


async def _bulk(gateway: Gateway, token: str, customer_id: str, ops: list[dict[str, Any]], **more: Any
                ) -> dict[str, Any]:
    data = (await gateway.execute(token, BULK, {"c": customer_id, "ops": ops, **more}))["bulkSubscriberOperations"]
    assert data["errors"] == [], data
    batch: dict[str, Any] = data["batch"]
    return batch


async def _batch(gateway: Gateway, token: str, batch_id: str) -> dict[str, Any]:
    batch: dict[str, Any] = (await gateway.execute(token, BATCH, {"id": batch_id}))["subscriberBatch"]
    return batch


async def test_r_bulk_3_rows_apply_in_order_each_judged_like_its_single_mutation(gateway: Gateway, demo: Demo
                                                                                 ) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    queued = await _bulk(gateway, token, customer_id, [
        _create("one@bulk.example", "3001"), _create("two@bulk.example", "3001"),  # the same extension: refused
        {"action": "DELETE", "email": "nobody@bulk.example"}, _create("bad-email", "3003")])
    assert (queued["status"], queued["totalRows"], queued["processedRows"]) == ("queued", 4, 0)
    assert queued["createdBy"]["kind"] == "USER" and queued["createdBy"]["orgId"] == demo.partner
    assert {r["node"]["status"] for r in queued["rows"]["edges"]} == {"pending"}
    await gateway.settle()
    batch = await _batch(gateway, token, queued["id"])
    assert (batch["status"], batch["acceptedRows"], batch["refusedRows"]) == ("completed_with_errors", 1, 3)
    rows = [r["node"] for r in batch["rows"]["edges"]]
    assert [(r["rowNumber"], r["action"], r["status"]) for r in rows] == [
        (1, "CREATE", "accepted"), (2, "CREATE", "refused"), (3, "DELETE", "refused"), (4, "CREATE", "refused")]
    assert rows[0]["subscriber"]["email"] == "one@bulk.example"
    assert [(e["code"], e["field"]) for e in rows[1]["errors"]] == [("NUMBER_IN_USE", ["extension"])]
    assert [e["code"] for e in rows[2]["errors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in rows[3]["errors"]] == ["INVALID_EMAIL"]
    assert batch["resultDownloadUrl"]
    link = batch["resultDownloadUrl"].removeprefix("http://gateway.test")
    assert link.startswith(f"/subscriber-batches/{queued['id']}.csv?expires=")  # R-BULK-4: its own signed link
    assert (await gateway.http.get(link.replace("signature=", "signature=0"))).status_code == 404
    result = await gateway.http.get(link)
    assert result.status_code == 200
    assert result.text.splitlines()[0] == "rowNumber,action,email,status,subscriberId,errors"
    assert len(result.text.splitlines()) == 5


async def test_r_bulk_4_events_batch_status_progress_and_rows_with_the_creator(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    batch = await _bulk(gateway, token, customer_id, [_create("ev@bulk.example", "3101")])
    await gateway.settle()
    own = await gateway.events(entityId=batch["id"], action={"$in": ["STATUS_CHANGE", "PROGRESS"]})
    assert [(e["fromStatus"], e["toStatus"], e["action"]) for e in own] == [
        (None, "queued", "STATUS_CHANGE"), ("queued", "running", "STATUS_CHANGE"),
        ("running", "running", "PROGRESS"), ("running", "completed", "STATUS_CHANGE")]
    assert all(e["entityType"] == "SUBSCRIBER_BATCH" for e in own)
    rows = await gateway.events(entityType="SUBSCRIBER", **{"details.batchId": batch["id"]})
    assert rows and rows[0]["toStatus"] == "provisioning"
    assert rows[0]["actor"]["kind"] == "USER" and rows[0]["actor"]["orgId"] == demo.partner


async def test_r_bulk_1_too_many_none_or_a_repeated_email_is_refused_and_writes_nothing(gateway: Gateway,
                                                                                        demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    too_many = [_create(f"u{i}@bulk.example", str(4000 + i)) for i in range(26)]
    for ops, expected in ((too_many, [("TOO_LONG", ["operations"])]), ([], [("TOO_LONG", ["operations"])]),
                          ([_create("a@bulk.example", "4001"), {"action": "DELETE", "email": "A@bulk.example"}],
                           [("DUPLICATE_IN_BATCH", ["operations", "1", "email"])])):
        errors = await refused(gateway, token, BULK, {"c": customer_id, "ops": ops})
        assert [(e["code"], e["field"]) for e in errors] == expected


async def test_r_org_6_another_tenants_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    customer_id = await _customer(gateway, demo)
    errors = await refused(gateway, gateway.token(demo.sub_a, "full_admin"), BULK,
                           {"c": customer_id, "ops": [_create("x@bulk.example", "4101")]})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["customerId"])]


async def test_r_bulk_4_the_same_request_under_a_key_is_the_same_batch_another_is_refused(gateway: Gateway,
                                                                                          demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    ops = [_create("idem@bulk.example", "4201")]
    first = await _bulk(gateway, token, customer_id, ops, key="import-2026-12.a")
    async with gateway.writes_nothing("a repeated request"):
        again = await _bulk(gateway, token, customer_id, ops, key="import-2026-12.a")
    assert again["id"] == first["id"]
    errors = await refused(gateway, token, BULK, {"c": customer_id, "ops": ops, "dry": True,
                                                  "key": "import-2026-12.a"})
    assert [(e["code"], e["field"]) for e in errors] == [("IDEMPOTENCY_KEY_REUSED", ["idempotencyKey"])]


async def test_r_bulk_3_dry_run_only_prechecks(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    batch = await _bulk(gateway, token, customer_id, [_create("dry@bulk.example", "4301"),
                                                      _create("dry2@bulk.example", "12345678901")], dry=True)
    await gateway.settle()
    done = await _batch(gateway, token, batch["id"])
    assert (done["dryRun"], done["status"], done["acceptedRows"], done["refusedRows"]) == (
        True, "completed_with_errors", 1, 1)
    assert await gateway.events(entityType="SUBSCRIBER", **{"details.batchId": batch["id"]}) == []


async def test_r_bulk_2_an_import_creates_updates_deletes_and_refuses_another_customers_email(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    other_id = await _customer(gateway, demo, "BULK-2")
    for cid, email, ext in ((customer_id, "keep@bulk.example", "5001"), (customer_id, "gone@bulk.example", "5002"),
                            (other_id, "theirs@bulk.example", "5003")):
        answer = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(cid, email,
                                                                                               extension=ext)})
        assert answer["provisionSubscriber"]["errors"] == []
    await gateway.settle()
    csv = (HEADER + "new@bulk.example,Nia,Obi,HQ,,5004,TRUE,\n"
           "keep@bulk.example,,,,,5005,,\n"
           "gone@bulk.example,,,,,,FALSE,FALSE\n"
           "theirs@bulk.example,T,H,,,5006,TRUE,\n")
    data = (await gateway.execute(token, IMPORT, {"input": {"customerId": customer_id, "csv": csv}}))
    batch = data["importSubscribers"]["batch"]
    assert batch["source"] == "CSV" and batch["totalRows"] == 4
    await gateway.settle()
    rows = [r["node"] for r in (await _batch(gateway, token, batch["id"]))["rows"]["edges"]]
    assert [(r["action"], r["status"]) for r in rows] == [
        ("CREATE", "accepted"), ("UPDATE", "accepted"), ("DELETE", "accepted"), ("CREATE", "refused")]
    assert [e["code"] for e in rows[3]["errors"]] == ["EMAIL_IN_USE"]
    assert rows[2]["subscriber"] is None  # deleted


async def test_r_bulk_1_a_bad_csv_is_csv_invalid_and_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    errors = await refused(gateway, token, IMPORT, {"input": {"customerId": customer_id,
                                                              "csv": "email,name\na@b.example,x\n"}})
    assert [(e["code"], e["field"]) for e in errors] == [("CSV_INVALID", ["input", "csv"])]


async def test_r_bulk_3_cancel_skips_the_rows_not_applied(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    batch = await _bulk(gateway, token, customer_id, [_create("c1@bulk.example", "6001"),
                                                      _create("c2@bulk.example", "6002")])
    cancelled = (await gateway.execute(token, CANCEL, {"id": batch["id"]}))["cancelSubscriberBatch"]
    assert cancelled["batch"] == {"id": batch["id"], "status": "cancelled", "skippedRows": 2}
    await gateway.settle()
    done = await _batch(gateway, token, batch["id"])
    assert {r["node"]["status"] for r in done["rows"]["edges"]} == {"skipped"}
    errors = await refused(gateway, token, CANCEL, {"id": batch["id"]})
    assert [e["code"] for e in errors] == ["INVALID_STATE"]


async def test_r_bulk_3_one_batch_per_customer_at_a_time_oldest_first(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    first = await _bulk(gateway, token, customer_id, [_create("o1@bulk.example", "7001")])
    second = await _bulk(gateway, token, customer_id, [_create("o2@bulk.example", "7001")])  # same extension
    await gateway.settle()
    assert (await _batch(gateway, token, first["id"]))["status"] == "completed"
    assert (await _batch(gateway, token, second["id"]))["status"] == "completed_with_errors"


async def test_r_bulk_1_an_upload_is_used_once_by_the_org_that_sent_it(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    body = (HEADER + "up@bulk.example,U,P,,,8001,TRUE,\n").encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "text/csv"}
    assert (await gateway.http.post("/uploads", content=body)).status_code == 401
    assert (await gateway.http.post("/uploads", content=body, headers={**headers, "content-type": "text/plain"})
            ).status_code == 415
    answer = await gateway.http.post("/uploads", content=body, headers=headers)
    assert answer.status_code == 201
    upload_id = answer.json()["uploadId"]
    stranger = gateway.token(demo.sub_a, "full_admin")
    errors = await refused(gateway, stranger, IMPORT, {"input": {"customerId": customer_id, "uploadId": upload_id}})
    assert errors[0]["code"] == "NOT_FOUND"
    data = await gateway.execute(token, IMPORT, {"input": {"customerId": customer_id, "uploadId": upload_id}})
    assert data["importSubscribers"]["batch"]["totalRows"] == 1
    errors = await refused(gateway, token, IMPORT, {"input": {"customerId": customer_id, "uploadId": upload_id}})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["input", "uploadId"])]

