from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from tests.conftest import JWT_SECRET, Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)

QUERY = "{ viewer { orgId } }"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt",
     "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"],
)
async def test_missing_or_malformed_token_is_401(gateway: Gateway, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}
    response = await gateway.http.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_expired_token_is_401(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.post(gateway.token(demo.partner, ttl=timedelta(seconds=-5)), QUERY)
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]


async def test_a_correctly_signed_token_whose_expiry_overflows_a_date_is_401(gateway: Gateway) -> None:
    token = jwt.encode({"sub": "x", "roles": ["platform_admin"], "exp": 10**30}, JWT_SECRET, algorithm="HS256")
    response = await gateway.post(token, QUERY)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_naming_an_org_that_does_not_exist_is_401(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.post(gateway.token("ptn_" + "f" * 24), QUERY)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errors"} and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "org" in body["errors"][0]["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_suspended_sub_partner_still_authenticates_and_reads(gateway: Gateway, demo: Demo) -> None:
    """Suspension limits what the org may change (R-ORG-5: SUB_PARTNER_SUSPENDED), not who it is."""
    data = await gateway.execute(gateway.token(demo.sub_b), "{ viewer { orgId partner { provisioningState } } }")
    assert data["viewer"] == {"orgId": demo.sub_b, "partner": {"provisioningState": "suspended"}}


async def test_token_signed_with_another_secret_is_401(gateway: Gateway, demo: Demo) -> None:
    from gateway.auth import issue_token

    forged = issue_token("some-other-secret-0123456789-0123456789", subject="x", org=demo.partner,
                         roles=["full_admin"], ttl=timedelta(minutes=5))
    assert (await gateway.post(forged, QUERY)).status_code == 401


async def test_get_query_needs_a_token_too(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", params={"query": QUERY})
    assert response.status_code == 401


async def test_browser_gets_graphiql_without_a_token(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_get_query_with_a_token_answers(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.http.get("/graphql", params={"query": QUERY},
                                      headers={"authorization": f"Bearer {gateway.token(demo.partner)}"})
    assert response.status_code == 200 and response.json()["data"]["viewer"]["orgId"] == demo.partner


async def test_health_endpoints_need_no_token(gateway: Gateway) -> None:
    assert (await gateway.http.get("/healthz")).json() == {"status": "ok"}
    assert (await gateway.http.get("/readyz")).json() == {"status": "ready", "workers": 0}


async def test_gql_client_talks_to_the_gateway(gateway: Gateway, demo: Demo) -> None:
    """The real `gql` client, over the app in-process."""
    import httpx
    from gql import Client, gql
    from gql.transport.httpx import HTTPXAsyncTransport

    transport = HTTPXAsyncTransport(
        url="http://gateway.test/graphql", headers={"authorization": f"Bearer {gateway.token(demo.sub_a)}"},
        transport=httpx.ASGITransport(app=gateway.app),
    )
    async with Client(transport=transport) as session:
        result = await session.execute(gql("{ viewer { orgId orgKind partner { name parent { id } } } }"))
    assert result["viewer"] == {"orgId": demo.sub_a, "orgKind": "SUB_PARTNER",
                                "partner": {"name": "Northwind Resellers", "parent": None}}
