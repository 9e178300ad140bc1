"""GraphQL over HTTP (gateway.http_graphql): media types, status codes, GET for queries only, CSRF, body size."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.api.provisioning import PROVISION, customer_input, partner_token, provisioning_id
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per set of settings (tests/conftest.py)

NEW = "application/graphql-response+json"
VIEWER = "{ viewer { orgId } }"


def _headers(token: str, accept: str | None = None, content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"authorization": f"Bearer {token}"}
    if accept is not None:
        headers["accept"] = accept
    if content_type is not None:
        headers["content-type"] = content_type
    return headers


async def test_the_newer_media_type_is_answered_when_asked_for(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    response = await gateway.http.post("/graphql", json={"query": VIEWER}, headers=_headers(token, NEW))
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
    assert response.json()["data"] == {"viewer": {"orgId": demo.partner}}
    for accept in ("application/json", "*/*", None, f"{NEW};q=0.5, application/json"):
        response = await gateway.http.post("/graphql", json={"query": VIEWER}, headers=_headers(token, accept))
        assert response.headers["content-type"] == "application/json; charset=utf-8", accept
    response = await gateway.http.post("/graphql", json={"query": VIEWER}, headers=_headers(token, "text/xml"))
    assert response.status_code == 406


@pytest.mark.parametrize("query", ["{", "{ noSuchField }", "query($id: ID!) { node(id: $id) { id } }"])
async def test_a_request_that_cannot_execute_is_400_without_data_for_the_newer_media_type(
        gateway: Gateway, demo: Demo, query: str) -> None:
    token = partner_token(gateway, demo)
    newer = await gateway.http.post("/graphql", json={"query": query, "variables": {"id": None}},
                                    headers=_headers(token, NEW))
    assert newer.status_code == 400 and "data" not in newer.json() and newer.json()["errors"]
    legacy = await gateway.http.post("/graphql", json={"query": query, "variables": {"id": None}},
                                     headers=_headers(token, "application/json"))
    assert legacy.status_code == 200 and "data" not in legacy.json() and legacy.json()["errors"]


async def test_an_executed_operation_with_errors_is_200_with_data(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.http.post("/graphql", json={"query": "{ customers(first: 101) { totalCount } }"},
                                       headers=_headers(partner_token(gateway, demo), NEW))
    assert response.status_code == 200
    assert response.json()["data"] is None and response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize("body", ['{"query": ', '["{ viewer { orgId } }"]', '{"query": 1}', '{"notquery": "{ a }"}',
                                  '{"query": "{ viewer { orgId } }", "variables": "x"}',
                                  '{"query": "{ viewer { orgId } }", "operationName": 1}',
                                  '{"query": "{ viewer { orgId } }", "extensions": []}', "",
                                  '{"query": "{ viewer { orgId } }", "variables": {"a": ' + "[" * 5000 + "]" * 5000
                                  + "}}"],
                         ids=["truncated", "batch", "number-query", "no-query", "string-variables", "number-name",
                              "list-extensions", "empty", "json-nested-5000-deep"])
async def test_a_body_that_is_not_a_graphql_request_is_400(gateway: Gateway, demo: Demo, body: str) -> None:
    response = await gateway.http.post("/graphql", content=body, headers=_headers(partner_token(gateway, demo)))
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


async def test_get_runs_queries_with_url_encoded_variables(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.http.get("/graphql", headers=_headers(partner_token(gateway, demo), NEW, None), params={
        "query": "query($n: Int) { customers(first: $n) { edges { node { id } } } }",
        "variables": json.dumps({"n": 2})})
    assert response.status_code == 200 and len(response.json()["data"]["customers"]["edges"]) == 2


async def test_get_never_runs_a_mutation(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), "GET-1")
    async with gateway.writes_nothing("a mutation sent with GET"):
        response = await gateway.http.get("/graphql", headers=_headers(token, NEW, None), params={
            "query": PROVISION, "variables": json.dumps({"input": data, "for": None})})
    assert response.status_code == 405 and response.headers["allow"] == "POST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None, "application/json; charset=latin-1"])
async def test_a_post_a_browser_could_send_cross_site_is_never_executed(gateway: Gateway, demo: Demo,
                                                                        content_type: str | None) -> None:
    # CSRF: only application/json (which needs a CORS preflight, never granted here) executes. The body is a
    # real mutation, so a refusal that still ran it would send writes to the database.
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), "CSRF-1")
    async with gateway.writes_nothing("a cross-site POST"):
        response = await gateway.http.post("/graphql", content=json.dumps({"query": PROVISION, "variables": {
            "input": data, "for": None}}), headers=_headers(token, None, content_type))
    assert response.status_code == 415


async def test_a_cross_site_get_without_the_bearer_header_is_refused(gateway: Gateway) -> None:
    # A browser may send a cross-site GET with cookies, never with an Authorization header.
    response = await gateway.http.get("/graphql", params={"query": VIEWER}, headers={"cookie": "session=1"})
    assert response.status_code == 401


async def test_a_preflight_is_never_granted(gateway: Gateway) -> None:
    response = await gateway.http.options("/graphql", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert response.status_code in (401, 405)
    assert not any(h.startswith("access-control-allow") for h in response.headers)


@pytest.mark.settings(max_body_bytes=2048)
async def test_a_body_over_the_size_limit_is_refused_unread(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    padding = " " * 4096
    response = await gateway.http.post("/graphql", content=json.dumps({"query": VIEWER + padding}),
                                       headers=_headers(token))
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "bodyBytes",
                                                          "max": 2048}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is cut off at the limit
        for _ in range(100):
            yield b" " * 1024

    response = await gateway.http.post("/graphql", content=chunks(), headers=_headers(token))
    assert response.status_code == 413
    assert (await gateway.http.post("/graphql", json={"query": VIEWER}, headers=_headers(token))).status_code == 200
