"""The npm `graphql-http` audit (GraphQL over HTTP spec conformance) against the gateway on a real socket.

tests/node/audit.mjs runs `auditServer` with every request carrying a valid bearer token and prints every audit's
result. All of them must pass: no error (a MUST), no warning (a SHOULD), and no notice (a MAY) either.
Node.js is required, as for the graphql-ws client tests (tests/node_env.py installs the packages).
"""

from __future__ import annotations

import asyncio
import json

from tests.api.live import serving
from tests.api.provisioning import partner_token
from tests.conftest import Demo, Gateway
from tests.node_env import NODE_DIR, node_with_packages

DEADLINE_S = 120.0  # a failure bound, not a timing assertion


async def test_the_graphql_over_http_audit_passes_without_errors_or_warnings(gateway: Gateway, demo: Demo) -> None:
    node = await node_with_packages()
    async with serving(gateway.app) as ws_url:
        process = await asyncio.create_subprocess_exec(
            node, str(NODE_DIR / "audit.mjs"), ws_url.replace("ws://", "http://", 1), partner_token(gateway, demo),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    assert process.returncode == 0, err.decode()
    results = json.loads(out)
    assert len(results) >= 50  # the audit itself did run
    failed = [(r["status"], r["id"], r["name"], r["reason"], r["response"]) for r in results if r["status"] != "ok"]
    assert failed == []
