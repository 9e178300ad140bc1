"""Trusted documents (GATEWAY_TRUSTED_DOCUMENTS, gateway.persisted): only the manifest's operations run, named by
hash or sent as text, over HTTP and websockets; anything else is PERSISTED_QUERY_NOT_ALLOWED before it runs; a bad
manifest, or a listed document that does not validate, stops the start with a message naming the variable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from gateway.persisted import sha256_hex
from gateway.runtime import Runtime
from gateway.settings import SettingsError, load_settings
from tests.api.provisioning import partner_token
from tests.api.raw_ws import LEGACY, TRANSPORT, initialised, receive, served_checked
from tests.conftest import JWT_SECRET, Demo, Gateway

MANIFEST = Path(__file__).with_name("trusted_documents.json")
pytestmark = [pytest.mark.read_only, pytest.mark.settings(trusted_documents=str(MANIFEST))]

NEW = "application/graphql-response+json"
LISTED = {op["name"]: op["body"] for op in json.loads(MANIFEST.read_text())["operations"]}
VIEWER = LISTED["Viewer"]
UNLISTED = "{ viewer { orgId } }"  # the same operation, but not the listed text


async def _post(gateway: Gateway, token: str, body: dict[str, Any], accept: str = NEW) -> httpx.Response:
    return await gateway.http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}",
                                                                   "accept": accept})


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_a_listed_operation_runs_by_hash_by_document_id_and_by_its_text(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    expected = {"viewer": {"orgId": demo.partner}}
    by_apq = await _post(gateway, token, {"extensions": {"persistedQuery": {"version": 1,
                                                                            "sha256Hash": sha256_hex(VIEWER)}}})
    assert by_apq.status_code == 200 and by_apq.json()["data"] == expected
    by_text = await _post(gateway, token, {"query": VIEWER})
    assert by_text.json()["data"] == expected
    customers = LISTED["Customers"]
    by_id_over_get = await gateway.http.get("/graphql", headers={"authorization": f"Bearer {token}"}, params={
        "documentId": f"sha256:{sha256_hex(customers)}", "variables": json.dumps({"n": 1})})
    assert len(by_id_over_get.json()["data"]["customers"]["edges"]) == 1


async def test_anything_unlisted_is_refused_before_it_runs(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    mutation = 'mutation { deleteCustomer(id: "nope") { errors { code } } }'
    registration = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(UNLISTED)}}
    unlisted: list[dict[str, Any]] = [{"query": UNLISTED}, {"query": "{ __schema { types { name } } }"},
                                      {"query": mutation}, {"documentId": sha256_hex(UNLISTED)},
                                      {"query": UNLISTED, "extensions": registration}]  # APQ registration
    async with gateway.writes_nothing("an unlisted operation"):
        for body in unlisted:
            refused = await _post(gateway, token, body)
            assert refused.status_code == 400 and _codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"], body
            assert "data" not in refused.json()
        legacy = await _post(gateway, token, {"query": UNLISTED}, "application/json")
        assert legacy.status_code == 200 and _codes(legacy) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert len(gateway.runtime.persisted.store) == 0


async def test_websocket_operations_obey_the_manifest_in_both_protocols(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    async with served_checked(gateway.app) as server:
        async with connect(server.url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
            await initialised(ws, token)
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}}))
            result = await receive(ws)
            assert result["type"] == "next" and result["payload"]["data"] == {"viewer": {"orgId": demo.partner}}
            assert (await receive(ws))["type"] == "complete"
            await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": UNLISTED}}))
            refused = await receive(ws)
            assert refused["type"] == "error" and refused["id"] == "2"
            assert [e["extensions"]["code"] for e in refused["payload"]] == ["PERSISTED_QUERY_NOT_ALLOWED"]
        async with connect(server.url, subprotocols=[LEGACY]) as ws:  # type: ignore[list-item]
            await initialised(ws, token)
            await ws.send(json.dumps({"id": "3", "type": "start", "payload": {"query": UNLISTED}}))
            refused = await receive(ws)
            assert refused["type"] == "error" and refused["payload"]["extensions"]["code"] == \
                "PERSISTED_QUERY_NOT_ALLOWED"
        await server.quiet()
    assert not server.errors.records, server.errors.report()


def test_a_bad_manifest_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"0" * 64: UNLISTED}))
    for value in (path, tmp_path / "missing.json"):
        with pytest.raises(SettingsError, match="GATEWAY_TRUSTED_DOCUMENTS: "):
            load_settings(trusted_documents=value)
    invalid = "{ viewer { noSuchField } }"
    path.write_text(json.dumps({sha256_hex(invalid): invalid}))
    settings = load_settings(trusted_documents=path, jwt_secret=JWT_SECRET, data_dir=tmp_path)
    with pytest.raises(SettingsError) as refused:
        Runtime(settings)  # validated against the schema once, before anything is opened
    assert f"GATEWAY_TRUSTED_DOCUMENTS: document {sha256_hex(invalid)} does not validate" in str(refused.value)
