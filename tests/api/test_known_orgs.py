"""The token's org is checked when the caller authenticates, without a database read on every request."""

from __future__ import annotations

import logging

import pytest

from domain.model.clock import FixedClock
from domain.store.driver import Database
from domain.store.repositories import Repositories
from gateway.authentication import KNOWN_ORG_TTL, KnownOrgs
from tests.api.live import free_port
from tests.conftest import NOW, Demo, Gateway

TYPENAME = "{ __typename }"  # reads nothing: the only database command is the authentication's own


async def commands_of_one_request(gateway: Gateway, token: str, status: int) -> list[str]:
    gateway.commands.commands.clear()
    gateway.commands.enabled = True
    try:
        response = await gateway.post(token, TYPENAME)
    finally:
        gateway.commands.enabled = False
    assert response.status_code == status, response.text
    return list(gateway.commands.commands)


async def test_an_org_found_to_exist_is_not_read_again_until_its_entry_expires(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    assert await commands_of_one_request(gateway, token, 200) == ["find"]
    assert await commands_of_one_request(gateway, token, 200) == []
    gateway.clock.advance(KNOWN_ORG_TTL)
    assert await commands_of_one_request(gateway, token, 200) == ["find"]


async def test_a_missing_org_is_read_again_each_time_so_that_a_new_org_is_usable_at_once(
        gateway: Gateway, demo: Demo) -> None:
    token = gateway.token("ptn_" + "f" * 24)
    assert await commands_of_one_request(gateway, token, 401) == ["find"]
    assert await commands_of_one_request(gateway, token, 401) == ["find"]


async def test_platform_roles_name_no_org_and_read_nothing(gateway: Gateway) -> None:
    assert await commands_of_one_request(gateway, gateway.token(None, "platform_admin"), 200) == []


async def test_with_the_database_out_of_reach_the_org_check_lets_the_token_through(
        caplog: pytest.LogCaptureFixture) -> None:
    """Each operation reads the caller's org again and answers SERVICE_UNAVAILABLE meanwhile (not a 500 here).

    On Motor only: PyMongo's async client leaks a socket to a server out of reach (PYTHON-5867, see conftest),
    and what is tested here is the policy, not the driver.
    """
    db = Database(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", "unreachable", driver="motor",
                  server_selection_timeout_ms=200)
    try:
        repos = Repositories.over(db, FixedClock(NOW))

        async def exists(org_id: str) -> bool:
            return await repos.partners.get(org_id) is not None

        with caplog.at_level(logging.WARNING, logger="gateway.auth"):
            await KnownOrgs(exists, FixedClock(NOW)).require("ptn_" + "a" * 24)
    finally:
        await db.close()
    assert [r.levelname for r in caplog.records if "token's org" in r.getMessage()] == ["WARNING"]
