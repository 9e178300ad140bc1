"""Live provisioning events with the npm `graphql-ws` client, run by Node from tests/node/subscribe.mjs.

The app runs under a real uvicorn server in this process (as in test_subscriptions.py), so the test still drives
the job queue itself; the client is a separate `node` process whose stdout says what it received, one line each:
`READY`, an event as JSON, or a final `ERROR <json>` / `CLOSED <code>` / `COMPLETE`. It never stops on its own
while things go well: the test reads what it needs, then kills it.

Node.js is required, not optional: without `node` (and `npm`, to install tests/node once) these tests fail.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from domain.rules.rpl import RplEntry
from tests.api.live import serving
from tests.api.provisioning import DECIDE, customer_input, partner_token, provision, provisioning_id, reviewer_token
from tests.conftest import Demo, Gateway
from tests.node_env import NODE_DIR, node_with_packages

SCRIPT = NODE_DIR / "subscribe.mjs"
HEAD = "{ eventsHead }"
DEADLINE_S = 60.0  # a failure bound, not a timing assertion


@pytest.fixture(scope="session")
async def node() -> str:
    """The `node` executable, with tests/node's packages installed (tests/node_env.py)."""
    return await node_with_packages()


class NodeSubscription:
    """A running subscribe.mjs: its stdout read line by line, its stderr kept for failure messages."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []  # every stdout line so far
        self._stderr = bytearray()
        assert process.stderr is not None
        self._stderr_reader = asyncio.create_task(self._drain(process.stderr))

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(4096):
            self._stderr += chunk

    def explain(self) -> str:
        return (f"node exited with {self.process.returncode}; its stdout lines: {self.lines}; "
                f"its stderr: {self._stderr.decode(errors='replace')!r}")

    async def line(self) -> str | None:
        """The next stdout line, or None once the process has closed its stdout."""
        assert self.process.stdout is not None
        raw = await self.process.stdout.readline()
        if not raw:
            await self.process.wait()
            return None
        text = raw.decode().rstrip("\n")
        self.lines.append(text)
        return text

    async def event(self) -> dict[str, Any]:
        """The next received event; anything else (an error, a close, the end of output) fails the test."""
        text = await self.line()
        if text is None or not text.startswith("{"):
            pytest.fail(f"expected an event from the node client, got {text!r}; {self.explain()}")
        event: dict[str, Any] = json.loads(text)
        return event

    async def ready(self) -> None:
        text = await self.line()
        if text != "READY":
            pytest.fail(f"expected READY from the node client, got {text!r}; {self.explain()}")

    async def events_about(self, entity_id: str, n: int) -> list[dict[str, Any]]:
        """The first `n` events about `entity_id`, skipping the others (the demo's own work moves too)."""
        about: list[dict[str, Any]] = []
        while len(about) < n:
            event = await self.event()
            if event["entityId"] == entity_id:
                about.append(event)
        return about

    async def until_exit(self) -> list[str]:
        """Every remaining stdout line, once the process has ended by itself."""
        while await self.line() is not None:
            pass
        await self._stderr_reader
        return self.lines

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await self._stderr_reader


@asynccontextmanager
async def node_subscription(node: str, url: str, token: str, variables: dict[str, Any]
                            ) -> AsyncIterator[NodeSubscription]:
    """Start subscribe.mjs against `url`; it is killed on the way out, whatever happened."""
    process = await asyncio.create_subprocess_exec(
        node, str(SCRIPT), url, token, json.dumps(variables), cwd=NODE_DIR,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    subscription = NodeSubscription(process)
    try:
        yield subscription
    finally:
        await subscription.stop()


async def test_r_evt_2_the_npm_graphql_ws_client_follows_a_customer_through_review(
        gateway: Gateway, demo: Demo, node: str) -> None:
    await gateway.repos.rpl.load([RplEntry.create("Test List", "Umbrella Holdings")])
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    only_customers = {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head}
    async with serving(gateway.app) as url, node_subscription(node, url, token, only_customers) as client:
        await asyncio.wait_for(client.ready(), DEADLINE_S)
        data = customer_input(await provisioning_id(gateway, demo.partner), "NODE-1")
        data["customerInfo"]["name"] = "Umbrella Holdings Ltd"
        customer = await provision(gateway, token, data)
        await gateway.settle()
        await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"], "decision": "APPROVE"})
        await gateway.settle()
        events = await asyncio.wait_for(client.events_about(customer["id"], 3), DEADLINE_S)
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "provisioning"), ("provisioning", "pending_rpl_review"), ("pending_rpl_review", "provisioned")]
    versions = [e["version"] for e in events]
    assert versions == sorted(set(versions)), versions
    assert all(e["entityType"] == "CUSTOMER" and e["customerId"] == customer["id"] for e in events), events
    assert events[-1]["customer"] == {"id": customer["id"], "status": "provisioned"}


async def test_a_bad_token_is_refused_with_4403_for_the_npm_client(gateway: Gateway, node: str) -> None:
    async with serving(gateway.app) as url, node_subscription(node, url, "not-a-token", {}) as client:
        lines = await asyncio.wait_for(client.until_exit(), DEADLINE_S)
        assert lines == ["CLOSED 4403"], client.explain()
        assert client.process.returncode != 0, client.explain()
