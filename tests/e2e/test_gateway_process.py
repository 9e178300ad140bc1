"""End to end: the `gateway` command as real processes, on the embedded SecantusDB it starts as a child.

Every process is started with `sys.executable -m gateway ...` in its own session by gateway.processes, its
output read by background tasks (pipes never fill), and stopped in a `finally` (SIGTERM, then SIGKILL after 15 s).
Deadlines below are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from gateway.demo import DEMO_PARTNER_ID, DEMO_SUB_PARTNER_IDS
from gateway.processes import (
    BANNER_START,
    GatewayCommand,
    GatewayProcess,
    Processes,
    command_line,
    database_pids,
    kill_databases,
    wait_until_no_database,
)

pytestmark = pytest.mark.e2e

START_DEADLINE_S = 60.0  # the demo's work must have settled by then
POLL_S = 0.2

# A process without a job worker: the demo's in-flight work stays put while a test reads it twice.
API_ONLY = {"GATEWAY_WORKERS": "0"}

# The start-up banner (gateway.processes reads it) holds a token per label.
BANNER_LABELS = [
    "partner admin (Demo Telecom)",
    "sub-partner admin (Northwind Resellers)",
    "compliance reviewer",
    "platform admin",
    "resale partner admin (Fjord Cloud Resale: trials and orders)",
    "resale sales admin (Fjord Cloud Resale)",
]

VIEWER = "{ viewer { orgId orgKind } }"
ALL_CUSTOMERS = """
query { customers(filter: { includeSubPartners: true }, first: 100, orderBy: NAME_ASC) {
  totalCount edges { node { id name status } } } }
"""
CREATE_TEMPLATE = """
mutation Create($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { id name country language } errors { code message } }
}
"""
TEMPLATE_BY_ID = "query One($id: ID!) { node(id: $id) { id ... on OnboardingTemplate { name country } } }"


# --- processes ----------------------------------------------------------------------------------------------------


class Gateway(GatewayProcess):
    """A running `gateway serve` (gateway.processes), with its banner's tokens and a `gql` client for it."""

    @property
    def ready_line(self) -> str:
        assert sum(BANNER_START in line for line in self.stderr_lines) == 1, self.stderr
        return self.banner()[0]

    def tokens(self) -> dict[str, str]:
        """The banner's tokens by label: a line `  - <label>:` followed by the indented token."""
        lines = self.banner()
        tokens = {}
        for i, line in enumerate(lines):
            if match := re.fullmatch(r"  - (.+):", line):
                assert i + 1 < len(lines) and lines[i + 1].startswith("    "), self.stderr
                tokens[match.group(1)] = lines[i + 1].strip()
        return tokens

    def database_pid(self) -> int:
        pids = self.database_pids()
        assert len(pids) == 1, f"expected one SecantusDB process for {self.data_dir}, found {pids}"
        return pids[0]

    async def execute(self, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation with the real `gql` client; it raises on any GraphQL error."""
        transport = HTTPXAsyncTransport(url=self.graphql_url, headers={"Authorization": f"Bearer {token}"},
                                        timeout=30.0)
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            result = await session.execute(GraphQLRequest(query, variable_values=variables))
        assert isinstance(result, dict)
        return result

    async def customers(self, token: str) -> tuple[int, list[str]]:
        data = await self.execute(token, ALL_CUSTOMERS)
        connection = data["customers"]
        ids = sorted(edge["node"]["id"] for edge in connection["edges"])
        assert len(ids) == connection["totalCount"], "all customers fit on the page"
        return connection["totalCount"], ids

    async def create_template(self, token: str, name: str) -> str:
        data = await self.execute(token, CREATE_TEMPLATE,
                                  {"input": {"name": name, "country": "DE", "language": "de"}})
        payload = data["createOnboardingTemplate"]
        assert payload["errors"] == [], payload
        assert payload["template"]["name"] == name, payload
        template_id: str = payload["template"]["id"]
        assert template_id
        return template_id

    async def template_name(self, token: str, template_id: str) -> str | None:
        node = (await self.execute(token, TEMPLATE_BY_ID, {"id": template_id}))["node"]
        if node is None:
            return None
        assert node["id"] == template_id
        name: str = node["name"]
        return name


async def stop_cleanly(gateway: Gateway) -> None:
    """SIGTERM: the gateway shuts down gracefully and its SecantusDB child is gone with it.

    Uvicorn re-raises the SIGTERM it handled once shut down, so the exit status is "terminated by SIGTERM".
    """
    gateway.database_pid()  # exactly one while it runs
    code = await gateway.stop()
    assert code in (0, -signal.SIGTERM), gateway.stderr
    assert "Application shutdown complete." in gateway.stderr
    assert database_pids(gateway.data_dir) == [], "the SecantusDB child outlived the gateway"


def ready_line(data_dir: Path, *, seeded: bool) -> str:
    """The banner's first line (`_banner` in gateway/cli.py)."""
    return f"Wholesale gateway ready on embedded database in {data_dir.resolve()}" + (
        " (demo data seeded)" if seeded else "")


def secret_of(data_dir: Path) -> str:
    return (data_dir / "dev-jwt-secret").read_text().strip()


# --- fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def seeding(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[asyncio.Task[GatewayCommand]]:
    """`gateway seed` on a fresh data dir, started in the background as soon as the module's first test needs
    either demo: it runs while `demo_gateway` seeds its own, instead of after it."""
    async with Processes() as started:
        task = asyncio.create_task(started.run(GatewayCommand(tmp_path_factory.mktemp("seeded"), "seed")))
        try:
            yield task
        finally:
            await asyncio.wait([task])


@pytest.fixture(scope="module")
async def demo_gateway(tmp_path_factory: pytest.TempPathFactory,
                       seeding: asyncio.Task[GatewayCommand]) -> AsyncIterator[Gateway]:
    """One `gateway serve` on a fresh data dir, shared by the tests that only read from it.

    API-only (no job worker), so the demo's in-flight work stays where the seed left it while they read.
    """
    async with Processes() as started:
        yield await started.start(Gateway(tmp_path_factory.mktemp("demo-gateway"), env=API_ONLY))


@pytest.fixture(scope="module")
async def seeded(seeding: asyncio.Task[GatewayCommand]) -> GatewayCommand:
    """`gateway seed` run once on a fresh data dir (its database stopped again when it ends).

    The tests that only need a seeded demo to start from serve a copy of it (`copy_of`): a directory copy instead
    of a seed of their own, which takes seconds. `test_seed_is_idempotent` checks what this run printed.
    """
    return await seeding


async def copy_of(seed: GatewayCommand, tmp_path: Path) -> Path:
    assert seed.returncode == 0, seed.stderr
    target = tmp_path / "data"
    await asyncio.to_thread(shutil.copytree, seed.data_dir, target)
    return target


# --- tests ---------------------------------------------------------------------------------------------------------


async def test_serve_on_a_fresh_data_dir_seeds_and_prints_working_tokens(demo_gateway: Gateway) -> None:
    gateway = demo_gateway
    assert gateway.ready_line == ready_line(gateway.data_dir, seeded=True)
    assert f"  GraphiQL:  http://127.0.0.1:{gateway.port}/graphql" in gateway.banner()
    tokens = gateway.tokens()
    assert list(tokens) == BANNER_LABELS
    # GraphiQL with the token preset: the page moves the fragment (never sent to the server) into its headers.
    assert (f"  GraphiQL as the partner admin (token preset): http://127.0.0.1:{gateway.port}/graphql"
            f"#token={tokens['partner admin (Demo Telecom)']}") in gateway.banner()

    data = await gateway.execute(tokens["partner admin (Demo Telecom)"], VIEWER)
    assert data["viewer"] == {"orgId": DEMO_PARTNER_ID, "orgKind": "PARTNER"}
    data = await gateway.execute(tokens["sub-partner admin (Northwind Resellers)"], VIEWER)
    assert data["viewer"] == {"orgId": DEMO_SUB_PARTNER_IDS[0], "orgKind": "SUB_PARTNER"}
    data = await gateway.execute(tokens["platform admin"], "{ partners { totalCount } }")
    assert data["partners"]["totalCount"] >= 1

    # Every printed token is signed with the dev secret the gateway keeps in its data dir.
    secret = secret_of(gateway.data_dir)
    roles = {label: jwt.decode(token, secret, algorithms=["HS256"])["roles"] for label, token in tokens.items()}
    assert roles["compliance reviewer"] == ["compliance_reviewer"]
    assert roles["platform admin"] == ["platform_admin"]
    assert roles["resale sales admin (Fjord Cloud Resale)"] == ["sales_admin"]
    # The resale tokens work too, each as its route allows (R-TRI-1, R-TRI-2).
    resale = tokens["resale partner admin (Fjord Cloud Resale: trials and orders)"]
    data = await gateway.execute(resale, "{ trials { totalCount } orders { totalCount } }")
    assert data["trials"]["totalCount"] > 0 and data["orders"]["totalCount"] > 0

    # The embedded database is a SecantusDB child with its storage in the data dir.
    arguments = command_line(gateway.database_pid())
    assert any(part.endswith("secantusd-py") for part in arguments), arguments
    assert "--sync-on-commit" in arguments


async def test_the_dev_banner_in_json_log_format_is_one_json_line_with_working_tokens(
        processes: Processes, tmp_path: Path, seeded: GatewayCommand) -> None:
    data_dir = await copy_of(seeded, tmp_path)
    gateway = await processes.start(Gateway(data_dir, env={**API_ONLY, "GATEWAY_LOG_FORMAT": "json"}))
    assert gateway.ready_line == ready_line(data_dir, seeded=False)  # the banner of any dev start on the demo
    tokens = gateway.tokens()
    assert list(tokens) == BANNER_LABELS
    data = await gateway.execute(tokens["partner admin (Demo Telecom)"], VIEWER)
    assert data["viewer"] == {"orgId": DEMO_PARTNER_ID, "orgKind": "PARTNER"}
    await stop_cleanly(gateway)

    output = gateway.stdout_lines + gateway.stderr_lines
    assert output, "the gateway wrote nothing"
    for line in output:
        assert isinstance(json.loads(line), dict), line
    banner = [json.loads(line) for line in output if BANNER_START in line]
    assert [(record["logger"], record["level"]) for record in banner] == [("gateway", "INFO")]


async def test_data_survives_a_clean_restart_without_reseeding(processes: Processes, tmp_path: Path,
                                                                 seeded: GatewayCommand) -> None:
    tmp_path = await copy_of(seeded, tmp_path)
    first = await processes.start(Gateway(tmp_path, env=API_ONLY))
    assert first.ready_line == ready_line(tmp_path, seeded=False)
    token = first.tokens()["partner admin (Demo Telecom)"]
    customers = await first.customers(token)
    assert customers[0] > 0
    template_id = await first.create_template(token, "Survives a restart")
    await stop_cleanly(first)

    second = await processes.start(Gateway(tmp_path, env=API_ONLY))
    assert second.ready_line == ready_line(tmp_path, seeded=False)
    assert "demo data seeded" not in second.stdout + second.stderr
    # The first run's token still works: the dev signing secret is kept in the data dir.
    assert await second.customers(token) == customers
    assert await second.template_name(token, template_id) == "Survives a restart"
    await stop_cleanly(second)


async def test_acknowledged_write_survives_kill_9_of_gateway_and_database(
    processes: Processes, tmp_path: Path, seeded: GatewayCommand
) -> None:
    tmp_path = await copy_of(seeded, tmp_path)
    first = await processes.start(Gateway(tmp_path, env=API_ONLY))
    token = first.tokens()["partner admin (Demo Telecom)"]
    customers = await first.customers(token)
    database_pid = first.database_pid()
    template_id = await first.create_template(token, "Survives kill -9")

    # Right after the acknowledged write: SIGKILL the gateway's process group and the database child (which
    # runs in a session of its own, so it is found by its storage path).
    first.kill()
    assert kill_databases(tmp_path) == [database_pid]
    assert await first.wait() == -signal.SIGKILL
    await wait_until_no_database(tmp_path)

    second = await processes.start(Gateway(tmp_path, env=API_ONLY))
    assert second.ready_line == ready_line(tmp_path, seeded=False)
    assert await second.template_name(token, template_id) == "Survives kill -9"
    assert await second.customers(token) == customers
    await stop_cleanly(second)


async def test_the_demo_moves_on_by_itself_once_served(processes: Processes, tmp_path: Path,
                                                         seeded: GatewayCommand) -> None:
    """`serve` runs the job worker: the demo's in-flight customers settle, its pending reviews wait for a human."""
    gateway = await processes.start(Gateway(await copy_of(seeded, tmp_path)))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10.0) as http:
        ready = (await http.get("/readyz")).json()
    assert ready == {"status": "ready", "workers": 4}
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    query = """{ customers(first: 100, filter: {includeSubPartners: true}) {
      edges { node { status backgroundWork { attempts nextAttemptAt } } } } }"""
    in_flight = {"provisioning", "updating", "deleting"}
    deadline = asyncio.get_running_loop().time() + START_DEADLINE_S
    while True:
        nodes = [e["node"] for e in (await gateway.execute(token, query))["customers"]["edges"]]
        statuses = [n["status"] for n in nodes]
        # The demo's one customer whose Webex calls failed twice waits minutes for its next attempt (R-DASH-2).
        retrying = [n for n in nodes if n["status"] in in_flight and (n["backgroundWork"] or {}).get("attempts")]
        if not in_flight & {n["status"] for n in nodes if n not in retrying}:
            break
        assert asyncio.get_running_loop().time() < deadline, f"the demo's work did not settle: {statuses}"
        await asyncio.sleep(POLL_S)
    assert len(retrying) == 1 and retrying[0]["backgroundWork"]["nextAttemptAt"] is not None
    assert statuses.count("pending_rpl_review") == 5
    assert len(statuses) == 36  # the four customers being deleted are gone
    await stop_cleanly(gateway)


async def test_a_second_gateway_on_a_data_dir_in_use_fails_fast(demo_gateway: Gateway, processes: Processes) -> None:
    gateway = demo_gateway
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    customers = await gateway.customers(token)
    database_pid = gateway.database_pid()

    second = await processes.spawn(Gateway(gateway.data_dir))
    code = await second.wait()  # fails the test if it hangs instead
    assert code == 2, second.stdout + second.stderr
    assert "in use" in second.stderr and str(gateway.data_dir.resolve()) in second.stderr, second.stderr
    assert second.stderr.splitlines()[-1].startswith("gateway: the data directory"), second.stderr
    assert "Traceback" not in second.stderr, second.stderr

    # So does `gateway seed`, with the CLI's own one-line error.
    seed = await processes.run(GatewayCommand(gateway.data_dir, "seed"))
    assert seed.returncode == 2, seed.stderr
    assert seed.stderr.splitlines()[-1].startswith("gateway: the data directory"), seed.stderr
    assert "in use" in seed.stderr

    # The second gateway's database child is gone; the first gateway and its database carry on.
    assert database_pids(gateway.data_dir) == [database_pid]
    assert await gateway.customers(token) == customers
    data = await gateway.execute(token, VIEWER)
    assert data["viewer"]["orgId"] == DEMO_PARTNER_ID


async def test_seed_is_idempotent(processes: Processes, tmp_path: Path, demo_gateway: Gateway,
                                  seeded: GatewayCommand) -> None:
    first = seeded  # `gateway seed` on a fresh data dir
    assert first.returncode == 0, first.stderr
    assert first.stdout_lines[0] == "demo data seeded"
    assert database_pids(first.data_dir) == []
    tmp_path = await copy_of(seeded, tmp_path)

    second = await processes.run(GatewayCommand(tmp_path, "seed"))
    assert second.returncode == 0, second.stderr
    assert second.stdout_lines[0] == "demo data already present; nothing written"
    assert second.stdout_lines[1:] == first.stdout_lines[1:] == [
        f"partner {DEMO_PARTNER_ID}; sub-partners {', '.join(DEMO_SUB_PARTNER_IDS)}"]
    assert database_pids(tmp_path) == []

    # Seeded twice holds what a single seed holds (the demo gateway's was seeded once, by `serve`); customer
    # ids are generated by the workflows, so the two are compared by name and status.
    gateway = await processes.start(Gateway(tmp_path, env=API_ONLY))
    assert gateway.ready_line == ready_line(tmp_path, seeded=False)
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    ours = await gateway.execute(token, ALL_CUSTOMERS)
    theirs = await demo_gateway.execute(demo_gateway.tokens()["partner admin (Demo Telecom)"], ALL_CUSTOMERS)
    assert ours["customers"]["totalCount"] == 40
    assert [(e["node"]["name"], e["node"]["status"]) for e in ours["customers"]["edges"]] == \
        [(e["node"]["name"], e["node"]["status"]) for e in theirs["customers"]["edges"]]
    await stop_cleanly(gateway)


async def test_cli_token_is_accepted_by_the_running_gateway(demo_gateway: Gateway, processes: Processes) -> None:
    command = await processes.run(GatewayCommand(demo_gateway.data_dir, "token", "--org", DEMO_PARTNER_ID,
                                                 "--role", "full_admin"))
    assert command.returncode == 0, command.stderr
    token = command.stdout.strip()
    assert token.count(".") == 2, command.stdout
    data = await demo_gateway.execute(token, "{ viewer { orgId orgKind roles } }")
    assert data["viewer"] == {"orgId": DEMO_PARTNER_ID, "orgKind": "PARTNER", "roles": ["full_admin"]}


async def test_cli_token_with_a_short_ttl_expires(demo_gateway: Gateway, processes: Processes) -> None:
    command = await processes.run(GatewayCommand(demo_gateway.data_dir, "token", "--org", DEMO_PARTNER_ID,
                                                 "--role", "full_admin", "--ttl", "1s"))
    assert command.returncode == 0, command.stderr
    token = command.stdout.strip()
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expires - datetime.now(UTC).timestamp()) + 2.0)

    async with httpx.AsyncClient(timeout=30.0) as http:
        response = await http.post(demo_gateway.graphql_url, json={"query": VIEWER},
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in errors[0]["message"]

    with pytest.raises(TransportQueryError) as raised:  # what a `gql` client sees
        await demo_gateway.execute(token, VIEWER)
    assert raised.value.errors is not None
    assert raised.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


PROD_SECRET = "a-production-secret-of-at-least-32-characters"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"GATEWAY_PORT": "notanumber"}, "GATEWAY_PORT"),
        ({"GATEWAY_ENV": "prod"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "short"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": PROD_SECRET}, "GATEWAY_MONGODB_URI"),
    ],
    ids=["port-not-a-number", "prod-without-secret", "prod-short-secret", "prod-without-mongodb-uri"],
)
async def test_bad_configuration_fails_at_start_up_naming_the_variable(
    processes: Processes, tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    command = await processes.spawn(Gateway(tmp_path, env=env))
    code = await command.wait()
    assert code == 2, command.stderr
    assert variable in command.stderr, command.stderr
    assert command.stderr.startswith("gateway: invalid configuration"), command.stderr
    assert "Traceback" not in command.stderr
    assert database_pids(tmp_path) == []
