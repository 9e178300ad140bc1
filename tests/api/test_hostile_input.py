"""Inputs that broke the gateway when it was probed from outside (issue #13), each answered with a code now.

- Lone UTF-16 surrogates (`"\\ud800"`) cannot be stored or encoded as UTF-8: anywhere in an argument or a
  variable (a filter, an id, a cursor, a mutation's text field, GET `variables`) the operation is refused before
  it runs with VALIDATION_FAILED naming the argument path, and nothing is written.
- DateTime values at the calendar's edges (`9999-12-31T23:59:59-14:00` is past year 9999 in UTC) are refused as
  values of the scalar, like any other malformed date.

Bodies are encoded here with `json.dumps` (ASCII, so `\\ud800` travels as a JSON escape, as an attacker's
would): httpx's own JSON encoder cannot encode a lone surrogate at all.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.provisioning import (
    PROVISION,
    PROVISION_SUBSCRIBER,
    customer_input,
    partner_token,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py): nothing here writes

SURROGATE = "\ud800"
CREATE_TEMPLATE = """mutation($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { id } errors { code field } }
}"""


async def _post_raw(gateway: Gateway, token: str, body: dict[str, Any],
                    accept: str = "application/json") -> httpx.Response:
    return await gateway.http.post("/graphql", content=json.dumps(body).encode(),
                                   headers={"authorization": f"Bearer {token}", "content-type": "application/json",
                                            "accept": accept})


def _refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED", body
    return error


@pytest.mark.parametrize(("query", "variables", "field"), [
    ("query($e: String) { customers(filter: {externalId: $e}) { totalCount } }", {"e": f"X{SURROGATE}"},
     ["filter", "externalId"]),
    ("query($f: CustomerFilter) { customers(filter: $f) { totalCount } }", {"f": {"nameContains": SURROGATE}},
     ["filter", "nameContains"]),
    ("query($e: String) { subscribers(filter: {email: $e}) { totalCount } }", {"e": f"a{SURROGATE}@b.example"},
     ["filter", "email"]),
    ("query($id: ID!) { customer(id: $id) { id } }", {"id": f"cus_{SURROGATE}"}, ["id"]),
    ("query($a: String) { customers(after: $a) { totalCount } }", {"a": SURROGATE}, ["after"]),
    ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["cus_" + "0" * 24, f"x{SURROGATE}"]},
     ["ids", "1"]),
])
async def test_lone_surrogates_in_variables_are_refused_naming_the_argument(
        gateway: Gateway, demo: Demo, query: str, variables: dict[str, Any], field: list[str]) -> None:
    error = _refusal(await _post_raw(gateway, partner_token(gateway, demo),
                                     {"query": query, "variables": variables}))
    assert error["extensions"]["field"] == field
    assert SURROGATE not in error["message"]


@pytest.mark.parametrize("literal", [f'"cus_{SURROGATE}"', '"cus_\\ud800"', f'"""cus_{SURROGATE}"""'])
async def test_lone_surrogates_in_document_literals_are_syntax_errors(gateway: Gateway, demo: Demo,
                                                                     literal: str) -> None:
    # Raw in the document text (the JSON body's escape decoded), or as a GraphQL escape: the lexer refuses both.
    response = await _post_raw(gateway, partner_token(gateway, demo),
                               {"query": "{ customer(id: " + literal + ") { id } }"})
    assert response.status_code == 200
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"], body
    assert body["errors"][0]["message"].startswith("Syntax Error"), body


async def test_lone_surrogates_in_get_variables_are_refused(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.http.get("/graphql", params={
        "query": "query($e: String) { customers(filter: {externalId: $e}) { totalCount } }",
        "variables": json.dumps({"e": SURROGATE})}, headers={"authorization": f"Bearer {partner_token(gateway, demo)}"})
    assert _refusal(response)["extensions"]["field"] == ["filter", "externalId"]


async def test_lone_surrogates_are_a_400_for_graphql_response_json(gateway: Gateway, demo: Demo) -> None:
    body = {"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": SURROGATE}}
    response = await _post_raw(gateway, partner_token(gateway, demo), body, accept="application/graphql-response+json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize("path", [("externalId",), ("customerInfo", "name"), ("customerInfo", "primaryEmail"),
                                  ("address", "addressLine1"), ("address", "city"),
                                  ("provisioningParameters", "callingLocation", "name")])
async def test_lone_surrogates_in_provision_customer_write_nothing(gateway: Gateway, demo: Demo,
                                                                  path: tuple[str, ...]) -> None:
    data = json.loads(json.dumps(customer_input(await provisioning_id(gateway, demo.partner))))  # unshare addresses
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = f"Name {SURROGATE}"
    async with gateway.writes_nothing():
        error = _refusal(await _post_raw(gateway, partner_token(gateway, demo),
                                         {"query": PROVISION, "variables": {"input": data}}))
    assert error["extensions"]["field"] == ["input", *path]


@pytest.mark.parametrize("key", ["email", "firstName", "lastName", "extension", "primaryPhoneNumber"])
async def test_lone_surrogates_in_provision_subscriber_write_nothing(gateway: Gateway, demo: Demo, key: str) -> None:
    customer_id = "cus_" + "1" * 24
    data = {**subscriber_input(customer_id, "ada@example.com"), key: f"1{SURROGATE}"}
    async with gateway.writes_nothing():
        error = _refusal(await _post_raw(gateway, partner_token(gateway, demo),
                                         {"query": PROVISION_SUBSCRIBER, "variables": {"input": data}}))
    assert error["extensions"]["field"] == ["input", key]


async def test_lone_surrogates_in_create_template_write_nothing(gateway: Gateway, demo: Demo) -> None:
    async with gateway.writes_nothing():
        error = _refusal(await _post_raw(gateway, partner_token(gateway, demo), {
            "query": CREATE_TEMPLATE,
            "variables": {"input": {"name": f"T {SURROGATE}", "country": "US", "language": "en_US"}}}))
    assert error["extensions"]["field"] == ["input", "name"]


async def test_lone_surrogates_in_input_object_keys_never_reach_the_database(gateway: Gateway, demo: Demo) -> None:
    response = await _post_raw(gateway, partner_token(gateway, demo), {
        "query": "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
        "variables": {"f": {SURROGATE: "x"}}})
    assert response.status_code == 200
    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
    assert codes <= {"VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}, response.text


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_datetimes_past_the_calendars_edges_are_refused(gateway: Gateway, demo: Demo, value: str) -> None:
    """Refused like any other malformed DateTime: a coercion error for a variable, a validation error inline."""
    token = partner_token(gateway, demo)
    as_variable = await gateway.post(
        token, "query($t: DateTime) { subscribers(filter: {lastStatusChangeAfter: $t}) { totalCount } }", {"t": value})
    as_literal = await gateway.post(
        token, f'{{ subscribers(filter: {{lastStatusChangeAfter: "{value}"}}) {{ totalCount }} }}')
    for response, code in ((as_variable, "BAD_USER_INPUT"), (as_literal, "GRAPHQL_VALIDATION_FAILED")):
        assert response.status_code == 200
        body = response.json()
        assert body.get("data") is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
        assert "outside years 1-9999" in body["errors"][0]["message"], body


async def test_datetimes_near_the_edges_that_fit_still_work(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(partner_token(gateway, demo),
                                 "query($t: DateTime) { subscribers(filter: {lastStatusChangeAfter: $t}) "
                                 "{ totalCount } }", {"t": "9999-12-31T23:59:59+00:00"})
    assert data["subscribers"]["totalCount"] == 0
