from __future__ import annotations

from tests.conftest import Demo, Gateway


async def test_viewer_names_the_callers_org(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.partner), "{ viewer { orgId orgKind partner { name } } }")
    assert data["viewer"] == {"orgId": demo.partner, "orgKind": "PARTNER", "partner": {"name": "Demo Telecom"}}
