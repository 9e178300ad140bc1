"""What the schema fuzzer (test_schema_fuzz.py) found, pinned as plain regression tests.

Integers longer than Python converts (`sys.get_int_max_str_digits()`, 4300 digits by default) made `int()` raise a
ValueError wherever one was converted: the JSON body (HTTP 500), GET `variables` (HTTP 500), the cost estimate of a
`first` literal (an error without any `extensions.code`) and graphql-core's Int coercion of any other literal
(INTERNAL). Each is now a refusal with a code, and nothing runs.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import httpx
import pytest
from graphql import parse

from gateway.limits import huge_int_literal
from tests.conftest import Gateway

DIGITS = "9" * 5_000
PRECHECK_WITH_LIMIT = """mutation { precheckCustomerProvisioning(input: {
  provisioningId: "x", externalId: "y", packages: [], address: {addressLine1: "a", city: "b", country: "US"},
  customerInfo: {name: "n", primaryEmail: "a@b.example"},
  provisioningParameters: {limits: [{package: webex_calling, limit: %s}]}}) { ok } }"""


def _only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.mark.parametrize("document", [
    "{ customers(first: %s) { totalCount } }",  # the cost estimate reads `first`
    "{ customers(first: -%s) { totalCount } }",
    PRECHECK_WITH_LIMIT,  # graphql-core's Int coercion
    "query($f: Int = %s) { customers(first: $f) { totalCount } }",  # a variable's default
])
async def test_an_int_literal_beyond_pythons_digit_limit_is_a_validation_error(gateway: Gateway, document: str
                                                                              ) -> None:
    token = gateway.token(None, "platform_admin")
    response = await gateway.post(token, document % DIGITS)
    assert response.status_code == 200
    error = _only_error(response)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert error["message"] == "An Int literal has more than 4300 digits"


async def test_a_json_integer_beyond_pythons_digit_limit_is_a_bad_request(gateway: Gateway) -> None:
    headers = {"authorization": f"Bearer {gateway.token(None, 'platform_admin')}"}
    query = "query($f: Int) { customers(first: $f) { totalCount } }"
    body = f'{{"query": {json.dumps(query)}, "variables": {{"f": {DIGITS}}}}}'
    post = await gateway.http.post("/graphql", content=body.encode(),
                                   headers={**headers, "content-type": "application/json"})
    params = urllib.parse.urlencode({"query": query, "variables": f'{{"f": {DIGITS}}}'})
    get = await gateway.http.get(f"/graphql?{params}", headers=headers)
    for response in (post, get):
        assert response.status_code == 400, response.text
        assert _only_error(response)["extensions"]["code"] == "BAD_REQUEST"


def test_the_long_literal_check_is_linear() -> None:
    """Many runs of digits just under the limit (a body's worth): an unanchored search took 4 s on them."""
    document = parse("{ a(" + ", ".join(f"x{i}: {'9' * 4_300}" for i in range(60)) + ") }")
    started = time.perf_counter()
    assert huge_int_literal(document) is None
    assert time.perf_counter() - started < 0.5
