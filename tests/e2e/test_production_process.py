"""End to end: `gateway serve` with GATEWAY_ENV=prod gives nothing away (issue #13).

On an empty database a production gateway seeds no demo data and prints no token (either would be signed with the
production secret), logs only JSON lines (GATEWAY_LOG_FORMAT=json), serves no GraphiQL page (a browser is just
another unauthenticated GET) and refuses introspection; `gateway seed` refuses to run at all. The database is a
SecantusDB process of the test's own (`own_cluster`), as production needs GATEWAY_MONGODB_URI.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx
import pytest

from gateway.processes import DatabaseProcess, GatewayCommand
from tests.e2e.test_gateway_process import PROD_SECRET, Gateway
from tests.e2e.test_provisioning_processes import Cluster

pytestmark = pytest.mark.e2e

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# A JWT's header, `{"` base64url-encoded: how every token this gateway signs begins.
JWT_LOOKING = re.compile(r"eyJ[A-Za-z0-9_-]+")


def production(cluster: Cluster) -> dict[str, str]:
    return {"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": PROD_SECRET, "GATEWAY_MONGODB_URI": cluster.mongo_uri,
            "GATEWAY_DATABASE": cluster.database, "GATEWAY_LOG_FORMAT": "json"}


async def test_seed_is_refused_in_production_and_writes_nothing(
        own_cluster: tuple[Cluster, DatabaseProcess], tmp_path: Path) -> None:
    cluster, _ = own_cluster
    data_dir = tmp_path / "seed"
    data_dir.mkdir()
    seed = await cluster.processes.run(GatewayCommand(data_dir, "seed", env=production(cluster)))
    assert seed.returncode == 2, seed.stdout + seed.stderr
    assert seed.stdout_lines == []
    assert len(seed.stderr_lines) == 1 and seed.stderr.startswith("gateway: "), seed.stderr
    assert "GATEWAY_ENV=prod" in seed.stderr
    assert await cluster.db.collection_names() == []
    assert list(data_dir.iterdir()) == []


async def test_a_production_gateway_on_an_empty_database_gives_nothing_away(
        own_cluster: tuple[Cluster, DatabaseProcess], tmp_path: Path) -> None:
    cluster, _ = own_cluster
    env = production(cluster)
    # Without --no-demo: production never seeds, whatever the flags.
    gateway = await cluster.processes.start(Gateway(tmp_path, env=env))
    assert gateway.ready_line == f"Wholesale gateway ready: http://127.0.0.1:{gateway.port}/graphql"

    # The operator's way in: `gateway token`, signed with the secret it was given, is accepted.
    issued = await cluster.processes.run(GatewayCommand(tmp_path, "token", "--role", "platform_admin", env=env))
    assert issued.returncode == 0, issued.stderr
    authorization = {"authorization": f"Bearer {issued.stdout.strip()}"}

    async with httpx.AsyncClient(base_url=gateway.url, timeout=30.0) as http:
        # No GraphiQL page: a browser without a token is refused like any request, and with one it gets what any
        # GET without a query gets.
        page = await http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
        assert page.status_code == 401, page.text
        assert page.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        browser = await http.get("/graphql", headers={"accept": BROWSER_ACCEPT, **authorization})
        plain = await http.get("/graphql", headers={"accept": "application/json", **authorization})
        assert (browser.status_code, browser.json()) == (plain.status_code, plain.json()) and plain.status_code == 400

        # No introspection (a coded validation error), while `__typename` and ordinary queries answer.
        refused = (await http.post("/graphql", json={"query": "{ __schema { types { name } } }"},
                                   headers=authorization)).json()
        assert refused.get("data") is None, refused
        assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", refused
        answered = (await http.post("/graphql", json={"query": "{ __typename partners { totalCount } }"},
                                    headers=authorization)).json()
        assert answered["data"] == {"__typename": "Query", "partners": {"totalCount": 0}}, answered

    code = await gateway.stop()
    assert code in (0, -signal.SIGTERM), gateway.stderr

    # No demo data: no partner at all (nor anything else a seed writes).
    for collection in ("partners", "templates", "customers", "subscribers"):
        assert await cluster.db.find(collection, {}) == [], collection
    # Its whole output: JSON lines only, and nothing that looks like a token.
    output = gateway.stdout_lines + gateway.stderr_lines
    assert any("Application shutdown complete." in line for line in output), output
    for line in output:
        assert isinstance(json.loads(line), dict), line
    assert JWT_LOOKING.findall("\n".join(output)) == []
