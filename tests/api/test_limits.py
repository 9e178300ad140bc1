"""Operation limits (gateway.limits): refused before anything runs, with QUERY_TOO_COMPLEX or RATE_LIMITED.

Each limit is lowered with `@pytest.mark.settings` so that a small document crosses it; a refused mutation
must send no write command to the database (`Gateway.writes_nothing`: every collection), which is how "before
execution" is observed.
"""

from __future__ import annotations

from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from graphql import get_introspection_query, parse

from gateway.limits import Limits, TokenBuckets, count_tokens, measure_operation
from gateway.runtime import Runtime
from gateway.settings import load_settings
from tests.api.live import serving, ws_client
from tests.api.provisioning import PROVISION, customer_input, partner_token, provisioning_id
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per set of settings (tests/conftest.py)

CUSTOMERS = "query($n: Int) { customers(first: $n) { totalCount edges { node { name } } } }"
DEEP = "{ customers(first: 1) { edges { node { owner { name } } } } }"  # 5 levels
SUBSCRIBE = "subscription { provisioningEvents { cursor customer { owner { name } } } }"  # 4 levels
# An ordinary dashboard page (issue #16): 50 customers with their errors and their packages' errors, every one of
# them fields of the customer documents already read. It used to be refused (cost 45,605 > 25,000).
DASHBOARD_PAGE = """query Page($after: String) { customers(first: 50, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id externalId orgId name primaryEmail status lastStatusChange updatedAt
    errors { code message } packages { name status errors { code message } } } } } }"""


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _refused(gateway: Gateway, token: str, query: str, variables: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Send an operation that must be refused as too complex, writing nothing; returns its one error."""
    async with gateway.writes_nothing():
        response = await gateway.post(token, query, variables)
    body = response.json()
    assert response.status_code == 200 and "data" not in body, body
    assert _codes(body) == ["QUERY_TOO_COMPLEX"], body
    error: dict[str, Any] = body["errors"][0]
    return error


def _provision_with(selection: str) -> str:
    return PROVISION.replace("customer {", selection + " customer {", 1)


@pytest.mark.settings(max_depth=4)
async def test_an_operation_nested_deeper_than_the_limit_is_refused_and_nothing_runs(gateway: Gateway,
                                                                                      demo: Demo) -> None:
    token = partner_token(gateway, demo)
    error = await _refused(gateway, token, DEEP)
    assert error["extensions"]["limit"] == "depth" and error["extensions"]["max"] == 4
    # A mutation is refused the same way: the provisioning never starts (CUSTOMER_FIELDS nests 5 levels).
    data = customer_input(await provisioning_id(gateway, demo.partner), "DEEP-1")
    error = await _refused(gateway, token, PROVISION, {"input": data, "for": None})
    assert error["extensions"]["limit"] == "depth"
    ok = await gateway.post(token, "{ customers(first: 1) { edges { node { name } } } }")
    assert "errors" not in ok.json(), ok.json()


@pytest.mark.settings(max_depth=4)
async def test_fragments_count_towards_the_depth_they_are_spread_at(gateway: Gateway, demo: Demo) -> None:
    query = """
    query { customers(first: 1) { ...Page } }
    fragment Page on CustomerConnection { edges { node { ...Owner } } }
    fragment Owner on Customer { owner { name } }"""
    error = await _refused(gateway, partner_token(gateway, demo), query)
    assert error["extensions"]["limit"] == "depth"


@pytest.mark.settings(max_aliases=2)
async def test_more_aliases_than_allowed_are_refused(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    error = await _refused(gateway, token, "{ a: viewer { orgId } b: viewer { orgId } c: viewer { orgId } }")
    assert error["extensions"]["limit"] == "aliases"
    assert (await gateway.execute(token, "{ a: viewer { orgId } b: viewer { orgId } }"))["b"]["orgId"] == demo.partner


@pytest.mark.settings(max_root_fields=2)
async def test_more_root_fields_than_allowed_are_refused_fragments_included(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    error = await _refused(gateway, token, "query { viewer { orgId } ...More } fragment More on Query "
                                           "{ eventsHead customers(first: 1) { totalCount } }")
    assert error["extensions"]["limit"] == "rootFields"


@pytest.mark.settings(max_tokens=30)
async def test_a_document_with_too_many_tokens_is_refused_before_parsing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    # 20 000 tokens (140 kB), not even a valid document: the count stops at the limit, nothing is parsed.
    huge = "{ " + "viewer " * 20_000
    error = await _refused(gateway, token, huge)
    assert error["extensions"]["limit"] == "tokens" and error["extensions"]["max"] == 30
    assert "errors" not in (await gateway.post(token, "{ viewer { orgId } }")).json()


def test_counting_tokens_stops_just_past_the_limit() -> None:
    assert count_tokens("{ viewer { orgId } }", 100) == 6
    assert count_tokens("{ " + "a " * 1_000_000, 10) == 11


async def test_every_answer_reports_the_estimated_cost(gateway: Gateway, demo: Demo) -> None:
    # The page: a command (10) and `first` documents (1 each); totalCount: a command; edges, node, name: nothing.
    body = (await gateway.post(partner_token(gateway, demo), CUSTOMERS, {"n": 10})).json()
    assert body["extensions"]["cost"] == {"estimated": 10 + 10 + 10, "limit": gateway.runtime.settings.max_cost}
    # Without `first`, a connection counts its default page size (50).
    body = (await gateway.post(partner_token(gateway, demo), CUSTOMERS)).json()
    assert body["extensions"]["cost"]["estimated"] == 10 + 50 + 10


@pytest.mark.settings(max_cost=100)
async def test_an_operation_estimated_above_the_cost_limit_is_refused(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    error = await _refused(gateway, token, CUSTOMERS, {"n": 90})  # 10 + 90 + 10 = 110
    assert error["extensions"]["limit"] == "cost" and error["extensions"]["cost"] == 110
    assert (await gateway.execute(token, CUSTOMERS, {"n": 80}))["customers"]["totalCount"] > 0  # 100: the limit


async def test_pages_nested_100_x_100_x_100_are_refused_before_any_database_command(gateway: Gateway,
                                                                                   demo: Demo) -> None:
    # 100 customers, their first 100 subscribers, each subscriber's customer's first 100 events: a million rows.
    query = """{ customers(first: 100) { edges { node { subscribers(first: 100) { edges { node {
                 customer { events(first: 100) { edges { node { occurredAt } } } } } } } } } } }"""
    token = partner_token(gateway, demo)
    await gateway.execute(token, "{ viewer { orgId } }")  # the token's org is read once, then known for a while
    gateway.commands.commands.clear()
    gateway.commands.enabled = True
    try:
        error = await _refused(gateway, token, query)
    finally:
        gateway.commands.enabled = False
    assert error["extensions"]["limit"] == "cost" and error["extensions"]["cost"] > 100 * 100 * 100
    assert gateway.commands.commands == [], gateway.commands.targets


@pytest.mark.settings(max_input_list=2)
async def test_a_list_argument_longer_than_allowed_is_refused_and_nothing_is_written(gateway: Gateway,
                                                                                     demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), "LIST-1",
                          packages=["webex_calling", "webex_meetings", "webex_suite"])
    error = await _refused(gateway, token, PROVISION, {"input": data, "for": None})
    assert error["extensions"]["limit"] == "inputList"
    assert error["extensions"]["field"] == ["input", "packages"]
    literal = PROVISION.replace("$input: ProvisionCustomerInput!, ", "").replace("input: $input", "input: {"
        'provisioningId: "x", externalId: "x", packages: [webex_calling, webex_meetings, webex_suite], '
        'address: {addressLine1: "a", city: "b", country: "US"}, customerInfo: {name: "n", primaryEmail: "a@b.co"}}')
    error = await _refused(gateway, token, literal, {"for": None})
    assert error["extensions"]["field"] == ["input", "packages"]


async def test_a_page_larger_than_100_is_refused(gateway: Gateway, demo: Demo) -> None:
    errors = await gateway.errors(partner_token(gateway, demo), CUSTOMERS, {"n": 101})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in errors] == [("VALIDATION_FAILED", ["first"])]


@pytest.mark.own_gateway  # a fresh rate limit
@pytest.mark.settings(rate_limit_per_second=0.001, rate_limit_burst=3)
async def test_a_caller_over_its_rate_is_refused_with_a_retry_hint_and_others_are_not(gateway: Gateway,
                                                                                     demo: Demo) -> None:
    token = partner_token(gateway, demo)
    for _ in range(3):
        assert (await gateway.post(token, "{ viewer { orgId } }")).status_code == 200
    data = customer_input(await provisioning_id(gateway, demo.partner), "RATE-1")
    async with gateway.writes_nothing():
        response = await gateway.post(token, PROVISION, {"input": data, "for": None})
    assert response.status_code == 429
    assert _codes(response.json()) == ["RATE_LIMITED"]
    retry = response.json()["errors"][0]["extensions"]["retryAfter"]
    assert retry >= 1 and response.headers["retry-after"] == str(retry)
    # The bucket is the caller's, not the token's: a fresh token for the same admin is still limited...
    assert (await gateway.post(gateway.token(demo.partner, "full_admin"), "{ viewer { orgId } }")).status_code == 429
    # ...while another caller has its own.
    other = gateway.token(demo.sub_a, "full_admin")
    assert (await gateway.post(other, "{ viewer { orgId } }")).status_code == 200


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=2, now=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one more needs half a second at 2 per second
    now[0] = 0.5
    assert buckets.take("a") == 0.0
    now[0] = 100.0  # a long pause refills to the burst, not beyond
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") > 0
    assert TokenBuckets(rate=0, burst=1).take("a") == 0.0  # 0 = no limit


def test_buckets_forget_the_least_recent_caller_beyond_their_bound() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_callers=2, now=lambda: 0.0)
    for caller in ("a", "b", "c"):
        assert buckets.take(caller) == 0.0
    assert buckets.take("a") == 0.0  # "a" was dropped, so it starts full again
    assert buckets.take("c") > 0


def test_a_fragment_spread_many_times_is_measured_once() -> None:
    # 30 levels of fragments each spreading the next twice: 2^30 fields if expanded naively.
    runtime = Runtime(load_settings(jwt_secret="x" * 40))
    parts = ["query { viewer { ...F0 } }"]
    parts += [f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30)]
    parts.append("fragment F30 on Viewer { partner { customers(first: 1) { totalCount } } }")
    cost, refusal = measure_operation(runtime.schema._schema, parse("\n".join(parts)), None, None,
                                      Limits.of(runtime.settings))
    assert refusal is not None and refusal.extensions is not None and refusal.extensions["limit"] == "cost"
    assert cost == 10 + 1 + 2 ** 30 * (10 + 1 + 10)  # viewer; then each time a page of 1 and its count


def test_a_chain_of_fragments_is_measured_no_deeper_than_the_depth_limit() -> None:
    # 400 fragments, each nesting four levels: 1600 levels if followed, far past Python's recursion limit.
    runtime = Runtime(load_settings(jwt_secret="x" * 40))
    parts = ["query { viewer { partner { ...P0 } } }"]
    parts += [f"fragment P{i} on Partner {{ customers {{ edges {{ node {{ owner {{ ...P{i + 1} }} }} }} }} }}"
              for i in range(400)]
    parts.append("fragment P400 on Partner { name }")
    _, refusal = measure_operation(runtime.schema._schema, parse("\n".join(parts)), None, None, runtime.limits)
    assert refusal is not None and refusal.extensions is not None and refusal.extensions["limit"] == "depth"


@pytest.mark.own_gateway  # a fresh rate limit
@pytest.mark.settings(max_depth=3, rate_limit_per_second=0.001, rate_limit_burst=1)
async def test_subscriptions_get_the_same_limits(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    async with serving(gateway.app) as url:
        async with ws_client(url, token) as session:
            with pytest.raises(TransportQueryError) as too_deep:
                async for _ in session.subscribe(GraphQLRequest(SUBSCRIBE)):
                    break
            assert too_deep.value.errors is not None
            assert too_deep.value.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
            with pytest.raises(TransportQueryError) as limited:  # its second operation: the bucket is empty
                async for _ in session.subscribe(GraphQLRequest("subscription { provisioningEvents { cursor } }")):
                    break
            assert limited.value.errors is not None
            assert limited.value.errors[0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_document_sent_again_is_answered_the_same_from_the_caches(gateway: Gateway, demo: Demo) -> None:
    # Parsing and validation are cached per document text; a cached invalid document must still be refused.
    token = partner_token(gateway, demo)
    for _ in range(2):
        errors = await gateway.errors(token, "{ viewer { noSuchField } }")
        assert [e["extensions"]["code"] for e in errors] == ["GRAPHQL_VALIDATION_FAILED"]
        assert "noSuchField" in errors[0]["message"]
    answers = [await gateway.execute(token, CUSTOMERS, {"n": n}) for n in (1, 2, 2)]
    assert [len(a["customers"]["edges"]) for a in answers] == [1, 2, 2]


async def test_an_ordinary_dashboard_page_is_admitted_at_a_modest_cost(gateway: Gateway, demo: Demo) -> None:
    body = (await gateway.post(partner_token(gateway, demo), DASHBOARD_PAGE)).json()
    assert "errors" not in body, body
    assert body["data"]["customers"]["edges"]
    # One page of 50 documents and a count: what each customer holds (errors, packages) costs next to nothing.
    assert body["extensions"]["cost"]["estimated"] <= 500


async def test_graphiqls_introspection_query_is_admitted_at_a_low_cost(gateway: Gateway, demo: Demo) -> None:
    # What GraphiQL 3 sends to fill its Docs pane: graphql-js getIntrospectionQuery() with GraphiQL's options
    # (graphql-core's get_introspection_query is its port), and with every option on for other tools.
    token = partner_token(gateway, demo)
    for query in (get_introspection_query(),
                  get_introspection_query(schema_description=True, input_value_deprecation=True,
                                          directive_is_repeatable=True, specified_by_url=True)):
        body = (await gateway.post(token, query)).json()
        assert "errors" not in body and body["data"]["__schema"]["types"], body.get("errors")
        assert body["extensions"]["cost"]["estimated"] <= 200  # in memory: lists of small items
