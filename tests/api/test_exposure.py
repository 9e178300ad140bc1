"""What the gateway shows of itself: the GraphiQL page (GATEWAY_GRAPHIQL) and introspection (GATEWAY_INTROSPECTION).

Both default to on in dev and off in prod (tests/unit/test_settings.py); here they are set explicitly. The prod
process itself is tested end to end in tests/e2e/test_gateway_process.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per set of settings (tests/conftest.py)

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Customer") { name fields { name } } }'


@pytest.mark.settings(graphiql=False)
async def test_without_graphiql_a_browser_needs_a_token_like_any_request(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.settings(graphiql=False)
async def test_without_graphiql_a_browser_with_a_token_gets_what_any_get_without_a_query_gets(
        gateway: Gateway) -> None:
    authorization = {"authorization": f"Bearer {gateway.token(None, 'platform_admin')}"}
    browser = await gateway.http.get("/graphql", headers={"accept": BROWSER_ACCEPT, **authorization})
    plain = await gateway.http.get("/graphql", headers={"accept": "application/json", **authorization})
    assert "graphiql" not in browser.text.lower()
    assert (browser.status_code, browser.headers["content-type"], browser.json()) == \
        (plain.status_code, plain.headers["content-type"], plain.json())
    assert plain.status_code == 400, plain.text


@pytest.mark.settings(graphiql=True)
async def test_with_graphiql_a_browser_gets_the_page_without_a_token(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


@pytest.mark.settings(introspection=False)
@pytest.mark.parametrize("query", [SCHEMA, TYPE], ids=["__schema", "__type"])
async def test_without_introspection_schema_queries_are_refused_with_a_code(gateway: Gateway, query: str) -> None:
    response = await gateway.post(gateway.token(None, "platform_admin"), query)
    body = response.json()
    assert "data" not in body or body["data"] is None, body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    assert "introspection" in body["errors"][0]["message"].lower()

    # The GraphQL-over-HTTP media type answers a document that does not validate with 400.
    strict = await gateway.http.post(
        "/graphql", json={"query": query},
        headers={"authorization": f"Bearer {gateway.token(None, 'platform_admin')}",
                 "accept": "application/graphql-response+json"})
    assert strict.status_code == 400, strict.text


@pytest.mark.settings(introspection=False)
async def test_without_introspection_typename_still_answers(gateway: Gateway) -> None:
    data = await gateway.execute(gateway.token(None, "platform_admin"), "{ __typename partners { __typename } }")
    assert data == {"__typename": "Query", "partners": {"__typename": "PartnerConnection"}}


@pytest.mark.settings(introspection=True)
@pytest.mark.parametrize("query", [SCHEMA, TYPE], ids=["__schema", "__type"])
async def test_with_introspection_schema_queries_answer(gateway: Gateway, query: str) -> None:
    data = await gateway.execute(gateway.token(None, "platform_admin"), query)
    assert data.get("__schema") == {"queryType": {"name": "Query"}} or data["__type"]["name"] == "Customer", data
