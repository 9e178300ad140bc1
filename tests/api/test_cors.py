"""Dashboards on other origins (#16, CORS): GATEWAY_CORS_ORIGINS for HTTP and for the websocket's `Origin` check."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateway.settings import SettingsError, load_settings
from tests.api.live import serving
from tests.conftest import Demo, Gateway

DASHBOARD = "https://dash.example.com"
STRANGER = "https://evil.example"
QUERY = {"query": "{ viewer { orgId } }"}


def _preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type"}


@pytest.mark.settings(cors_origins=f"{DASHBOARD}, http://localhost:5173/")
async def test_a_listed_origins_preflight_is_answered_before_authentication(gateway: Gateway) -> None:
    response = await gateway.http.options("/graphql", headers=_preflight(DASHBOARD))
    assert response.status_code == 200  # no token: a browser sends none with a preflight
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    local = await gateway.http.options("/graphql", headers=_preflight("http://localhost:5173"))
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"  # the trailing / is not kept
    refused = await gateway.http.options("/graphql", headers=_preflight(STRANGER))
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


@pytest.mark.settings(cors_origins=DASHBOARD)
async def test_a_listed_origin_reads_the_answer_and_its_request_id(gateway: Gateway, demo: Demo) -> None:
    headers = {"origin": DASHBOARD, "authorization": f"Bearer {gateway.token(demo.partner)}"}
    response = await gateway.http.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 200 and response.json()["data"]["viewer"]["orgId"] == demo.partner
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    other = await gateway.http.post("/graphql", json=QUERY, headers={**headers, "origin": STRANGER})
    assert "access-control-allow-origin" not in other.headers  # the browser withholds the answer from that page


async def test_by_default_no_other_origin_is_let_in(gateway: Gateway, demo: Demo) -> None:
    response = await gateway.http.options("/graphql", headers=_preflight(DASHBOARD))
    assert "access-control-allow-origin" not in response.headers
    answer = await gateway.http.post("/graphql", json=QUERY, headers={
        "origin": DASHBOARD, "authorization": f"Bearer {gateway.token(demo.partner)}"})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.settings(cors_origins="*")
async def test_a_wildcard_never_allows_credentials(gateway: Gateway) -> None:
    response = await gateway.http.options("/graphql", headers=_preflight(STRANGER))
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.settings(cors_origins=DASHBOARD)
async def test_websockets_from_a_listed_origin_open_and_others_get_403(gateway: Gateway) -> None:
    async with serving(gateway.app) as url:
        async with connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                           origin=DASHBOARD) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv())["type"] == "pong"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                               origin=STRANGER):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403


@pytest.mark.parametrize("value", ["dash.example.com", "https://dash.example.com/app", "https://a.example, ftp://b"])
def test_a_setting_that_names_no_origin_is_refused_at_start(value: str) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_CORS_ORIGINS"):
        load_settings(cors_origins=value)
