"""Automatic persisted queries (gateway.persisted, gateway.http_graphql), as Apollo's clients speak them, over
POST and GET: an unknown hash is PERSISTED_QUERY_NOT_FOUND, the text sent with its hash registers it, then the hash
alone runs it; the resolved text goes through every limit; GET responses carry per-caller caching headers.

The APQ store is per gateway and these tests share their module's: each test uses texts of its own."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.persisted import sha256_hex
from tests.api.provisioning import partner_token
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per set of settings (tests/conftest.py)

NEW = "application/graphql-response+json"


def _apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}}


async def _post(gateway: Gateway, token: str, body: dict[str, Any], accept: str = "application/json"
                ) -> httpx.Response:
    return await gateway.http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}",
                                                                   "accept": accept})


async def _get(gateway: Gateway, token: str, params: dict[str, Any], **headers: str) -> httpx.Response:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return await gateway.http.get("/graphql", params=encoded,
                                  headers={"authorization": f"Bearer {token}", **headers})


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_post_round_trip_not_found_then_registered_then_by_hash_alone(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    text = "query PostRoundTrip { viewer { orgId } }"
    for accept in ("application/json", NEW):  # 200 for both: Apollo Client gives up APQ on a 400
        missing = await _post(gateway, token, {"extensions": _apq(text)}, accept)
        assert missing.status_code == 200 and "data" not in missing.json()
        assert missing.json()["errors"] == [{"message": "PersistedQueryNotFound",
                                             "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    registered = await _post(gateway, token, {"query": text, "extensions": _apq(text)})
    assert registered.json()["data"] == {"viewer": {"orgId": demo.partner}}
    by_hash = await _post(gateway, token, {"extensions": _apq(text)}, NEW)
    assert by_hash.status_code == 200 and by_hash.json()["data"] == {"viewer": {"orgId": demo.partner}}
    by_document_id = await _post(gateway, token, {"documentId": f"sha256:{sha256_hex(text)}"})
    assert by_document_id.json()["data"] == {"viewer": {"orgId": demo.partner}}


async def test_get_round_trip_with_variables_and_per_caller_cache_headers(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    text = "query GetRoundTrip($n: Int) { customers(first: $n) { edges { node { id } } } }"
    params = {"extensions": _apq(text), "variables": {"n": 2}, "operationName": "GetRoundTrip"}
    missing = await _get(gateway, token, params)
    assert _codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"] and missing.status_code == 200
    assert missing.headers["cache-control"] == "no-store"  # a cache must never answer "not found" later
    registered = await _get(gateway, token, {**params, "query": text})
    assert len(registered.json()["data"]["customers"]["edges"]) == 2
    by_hash = await _get(gateway, token, params)
    assert by_hash.status_code == 200 and by_hash.json() == registered.json()
    assert by_hash.headers["cache-control"] == "private, no-cache"
    assert by_hash.headers["vary"] == "Authorization, Accept" and by_hash.headers["etag"]
    revalidated = await _get(gateway, token, params, **{"if-none-match": by_hash.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == by_hash.headers["etag"]
    other_page = await _get(gateway, token, {**params, "variables": {"n": 1}},
                            **{"if-none-match": by_hash.headers["etag"]})
    assert other_page.status_code == 200 and len(other_page.json()["data"]["customers"]["edges"]) == 1


async def test_a_hash_that_is_not_the_querys_is_400_and_registers_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    claimed = "query Claimed { viewer { orgId } }"
    response = await _post(gateway, token, {"query": "{ viewer { roles } }", "extensions": _apq(claimed)})
    assert response.status_code == 400 and _codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" not in response.json()
    assert _codes(await _post(gateway, token, {"extensions": _apq(claimed)})) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_an_unknown_version_or_a_malformed_hash_is_400(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    for persisted in ({"version": 2, "sha256Hash": sha256_hex("{ a }")}, {"version": 1, "sha256Hash": "abc"}):
        response = await _post(gateway, token, {"extensions": {"persistedQuery": persisted}})
        assert response.status_code == 400 and _codes(response) == ["BAD_REQUEST"], persisted


async def test_a_mutation_over_get_is_refused_and_not_registered(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    mutation = 'mutation OverGet { deleteCustomer(id: "nope") { errors { code } } }'
    async with gateway.writes_nothing("a mutation over GET"):
        refused = await _get(gateway, token, {"query": mutation, "extensions": _apq(mutation)})
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"
        assert refused.headers["cache-control"] == "no-store"
        assert _codes(await _get(gateway, token, {"extensions": _apq(mutation)})) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_the_limits_apply_to_the_text_a_hash_names(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    large = "query TooLarge { viewer { " + "orgId " * gateway.runtime.settings.max_tokens + "} }"
    refused = await _post(gateway, token, {"query": large, "extensions": _apq(large)})
    assert _codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert _codes(await _post(gateway, token, {"extensions": _apq(large)})) == ["PERSISTED_QUERY_NOT_FOUND"]
    small = "query Small($n: Int) { customers(first: $n) { totalCount } }"
    full = await _post(gateway, token, {"query": small, "extensions": _apq(small), "variables": {"n": 3}})
    by_hash = await _post(gateway, token, {"extensions": _apq(small), "variables": {"n": 3}})
    assert "errors" not in full.json() and by_hash.json()["data"] == full.json()["data"]
    # The cost extension ran on the stored text, with the request's variables.
    assert by_hash.json()["extensions"]["cost"] == full.json()["extensions"]["cost"]


@pytest.mark.own_gateway  # a fresh rate limit
@pytest.mark.settings(rate_limit_per_second=0.001, rate_limit_burst=2)
async def test_requests_by_hash_spend_the_callers_rate_limit(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    text = "query Limited { viewer { orgId } }"
    assert "errors" not in (await _post(gateway, token, {"query": text, "extensions": _apq(text)})).json()
    assert "errors" not in (await _post(gateway, token, {"extensions": _apq(text)})).json()
    limited = await _post(gateway, token, {"extensions": _apq(text)})
    assert limited.status_code == 429 and _codes(limited) == ["RATE_LIMITED"]
