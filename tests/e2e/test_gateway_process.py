"""End to end: the `gateway` command as real processes, on the embedded SecantusDB it starts as a child.

Every process is started with `sys.executable -m gateway ...` in its own session, its output read by
background tasks (pipes never fill), and stopped in a `finally` (SIGTERM, then SIGKILL after 15 s).
Deadlines below are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import socket
import sys
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

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 60.0  # a gateway (and its database) must be serving by then
EXIT_DEADLINE_S = 60.0  # a command that should end must have ended by then
TERM_GRACE_S = 15.0  # SIGTERM, then SIGKILL
POLL_S = 0.2

# A process without a job worker: the demo's in-flight work stays put while a test reads it twice.
API_ONLY = {"GATEWAY_WORKERS": "0"}

# The start-up banner is logged (logger "gateway"): a JSON line's message, or a text line and its indented continuation.
BANNER_START = "Wholesale gateway ready"
BANNER_LABELS = [
    "partner admin (Demo Telecom)",
    "sub-partner admin (Northwind Resellers)",
    "compliance reviewer",
    "platform admin",
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def gateway_env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any GATEWAY_ variable (so no GATEWAY_MONGODB_URI), plus the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(GATEWAY_DATA_DIR=str(data_dir), GATEWAY_PORT=str(port), PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def database_pids(data_dir: Path) -> list[int]:
    """Live processes with `<data_dir>/db` as an argument: the SecantusDB child (`--storage-path <dir>/db`)."""
    needle = b"\0" + str(data_dir.resolve() / "db").encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()  # empty for a zombie: it holds nothing any more
        except OSError:
            continue
        if needle in b"\0" + cmdline:
            found.append(int(entry.name))
    return found


def process_command_line(pid: int) -> list[str]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def kill_database(data_dir: Path, sparing: set[int] | None = None) -> list[int]:
    pids = [pid for pid in database_pids(data_dir) if pid not in (sparing or set())]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


async def wait_until_no_database(data_dir: Path, sparing: set[int] | None = None) -> None:
    deadline = asyncio.get_running_loop().time() + EXIT_DEADLINE_S
    while pids := [pid for pid in database_pids(data_dir) if pid not in (sparing or set())]:
        assert asyncio.get_running_loop().time() < deadline, f"database processes still running: {pids}"
        await asyncio.sleep(POLL_S)


class Command:
    """One `python -m gateway ...` process, its stdout and stderr collected line by line as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._pump(process.stdout, self.stdout_lines)),
            asyncio.create_task(self._pump(process.stderr, self.stderr_lines)),
        ]

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str]) -> Command:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", *args, env=env, cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill of the group reaches nothing of ours
        )
        return cls(process)

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, sink: list[str]) -> None:
        async for line in stream:
            sink.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def wait(self, within_s: float = EXIT_DEADLINE_S) -> int:
        """The exit code; fails if the process has not ended within the bound."""
        try:
            code = await asyncio.wait_for(self.process.wait(), within_s)
        except TimeoutError:
            await self.stop()
            pytest.fail(f"`gateway` did not exit within {within_s:.0f} s\n"
                        f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}")
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> int:
        """SIGTERM; SIGKILL to its process group if it is still running after the grace period."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), TERM_GRACE_S)
            except TimeoutError:
                self.kill_group()
                await self.process.wait()
        await asyncio.gather(*self._readers)
        code = self.process.returncode
        assert code is not None
        return code

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Processes:
    """Everything a test starts; `close` stops it all, including any database child left behind."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.others: dict[Path, set[int]] = {}  # database processes already running on a data dir: not ours

    async def start(self, args: list[str], data_dir: Path, *, port: int | None = None,
                    extra_env: dict[str, str] | None = None) -> Command:
        self.others.setdefault(data_dir, set(database_pids(data_dir)))
        command = await Command.start(args, gateway_env(data_dir, port or free_port(), extra_env))
        self.commands.append(command)
        return command

    async def run(self, args: list[str], data_dir: Path, *, extra_env: dict[str, str] | None = None) -> Command:
        """Start a command that should end by itself, and wait for it to end."""
        command = await self.start(args, data_dir, extra_env=extra_env)
        await command.wait()
        return command

    async def serve(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> Gateway:
        port = free_port()
        gateway = Gateway(await self.start(["serve"], data_dir, port=port, extra_env=extra_env), data_dir, port)
        await gateway.wait_until_ready()
        return gateway

    async def close(self) -> None:
        for command in self.commands:
            await command.stop()
        for data_dir, others in self.others.items():  # a safety net: tests assert this where it matters
            kill_database(data_dir, sparing=others)
            await wait_until_no_database(data_dir, sparing=others)


class Gateway:
    """A running `gateway serve`: where it listens, its banner, and a GraphQL client for it."""

    def __init__(self, command: Command, data_dir: Path, port: int) -> None:
        self.command = command
        self.data_dir = data_dir
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.graphql_url = f"{self.base_url}/graphql"

    async def wait_until_ready(self) -> None:
        """/healthz answers 200, and the start-up banner has been read in full."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_DEADLINE_S
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as http:
            while True:
                if not self.command.running:
                    code = await self.command.wait()
                    pytest.fail(f"`gateway serve` exited with {code} before serving\n"
                                f"stdout:\n{self.command.stdout}\nstderr:\n{self.command.stderr}")
                try:
                    if (await http.get("/healthz")).status_code == 200 and self._banner_done():
                        return
                except httpx.TransportError:
                    pass
                if loop.time() > deadline:
                    pytest.fail(f"`gateway serve` was not ready within {START_DEADLINE_S:.0f} s\n"
                                f"stdout:\n{self.command.stdout}\nstderr:\n{self.command.stderr}")
                await asyncio.sleep(POLL_S)

    def _banner_done(self) -> bool:
        return any(line.startswith("  Try:") or "Issue a token with" in line for line in self.banner())

    def banner(self) -> list[str]:
        """The start-up banner's lines, from its log record: one JSON line, or a text line and its indented ones."""
        lines = self.command.stderr_lines
        for i, line in enumerate(lines):
            if line.startswith("{"):
                record = json.loads(line)
                if record["logger"] == "gateway" and record["message"].startswith(BANNER_START):
                    message: str = record["message"]
                    return message.splitlines()
            elif f" gateway: {BANNER_START}" in line:
                rest = itertools.takewhile(lambda text: text.startswith("  "), lines[i + 1:])
                return [line[line.index(BANNER_START):], *rest]
        return []

    @property
    def ready_line(self) -> str:
        assert sum(BANNER_START in line for line in self.command.stderr_lines) == 1, self.command.stderr
        return self.banner()[0]

    def tokens(self) -> dict[str, str]:
        """The banner's tokens by label: a line `  - <label>:` followed by the indented token."""
        lines = self.banner()
        tokens = {}
        for i, line in enumerate(lines):
            if match := re.fullmatch(r"  - (.+):", line):
                assert i + 1 < len(lines) and lines[i + 1].startswith("    "), self.command.stderr
                tokens[match.group(1)] = lines[i + 1].strip()
        return tokens

    def database_pid(self) -> int:
        pids = database_pids(self.data_dir)
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
    code = await gateway.command.stop()
    assert code in (0, -signal.SIGTERM), gateway.command.stderr
    assert "Application shutdown complete." in gateway.command.stderr
    assert database_pids(gateway.data_dir) == [], "the SecantusDB child outlived the gateway"


def ready_line(data_dir: Path, *, seeded: bool) -> str:
    """The banner's first line (`_banner` in gateway/cli.py)."""
    return f"Wholesale gateway ready on embedded database in {data_dir.resolve()}" + (
        " (demo data seeded)" if seeded else "")


def secret_of(data_dir: Path) -> str:
    return (data_dir / "dev-jwt-secret").read_text().strip()


# --- fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def processes() -> AsyncIterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture(scope="module")
async def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """One `gateway serve` on a fresh data dir, shared by the tests that only read from it.

    API-only (no job worker), so the demo's in-flight work stays where the seed left it while they read.
    """
    started = Processes()
    try:
        yield await started.serve(tmp_path_factory.mktemp("demo-gateway"), API_ONLY)
    finally:
        await started.close()


# --- tests ---------------------------------------------------------------------------------------------------------


async def test_serve_on_a_fresh_data_dir_seeds_and_prints_working_tokens(demo_gateway: Gateway) -> None:
    gateway = demo_gateway
    assert gateway.ready_line == ready_line(gateway.data_dir, seeded=True)
    assert f"  GraphiQL:  http://127.0.0.1:{gateway.port}/graphql" in gateway.banner()
    tokens = gateway.tokens()
    assert list(tokens) == BANNER_LABELS

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

    # The embedded database is a SecantusDB child with its storage in the data dir.
    command_line = process_command_line(gateway.database_pid())
    assert any(part.endswith("secantusd-py") for part in command_line), command_line
    assert "--sync-on-commit" in command_line


async def test_the_dev_banner_in_json_log_format_is_one_json_line_with_working_tokens(
        processes: Processes, tmp_path: Path) -> None:
    gateway = await processes.serve(tmp_path, {**API_ONLY, "GATEWAY_LOG_FORMAT": "json"})
    assert gateway.ready_line == ready_line(tmp_path, seeded=True)
    tokens = gateway.tokens()
    assert list(tokens) == BANNER_LABELS
    data = await gateway.execute(tokens["partner admin (Demo Telecom)"], VIEWER)
    assert data["viewer"] == {"orgId": DEMO_PARTNER_ID, "orgKind": "PARTNER"}
    await stop_cleanly(gateway)

    output = gateway.command.stdout_lines + gateway.command.stderr_lines
    assert output, "the gateway wrote nothing"
    for line in output:
        assert isinstance(json.loads(line), dict), line
    banner = [json.loads(line) for line in output if BANNER_START in line]
    assert [(record["logger"], record["level"]) for record in banner] == [("gateway", "INFO")]


async def test_data_survives_a_clean_restart_without_reseeding(processes: Processes, tmp_path: Path) -> None:
    first = await processes.serve(tmp_path, API_ONLY)
    assert first.ready_line == ready_line(tmp_path, seeded=True)
    token = first.tokens()["partner admin (Demo Telecom)"]
    customers = await first.customers(token)
    assert customers[0] > 0
    template_id = await first.create_template(token, "Survives a restart")
    await stop_cleanly(first)

    second = await processes.serve(tmp_path, API_ONLY)
    assert second.ready_line == ready_line(tmp_path, seeded=False)
    assert "demo data seeded" not in second.command.stdout + second.command.stderr
    # The first run's token still works: the dev signing secret is kept in the data dir.
    assert await second.customers(token) == customers
    assert await second.template_name(token, template_id) == "Survives a restart"
    await stop_cleanly(second)


async def test_acknowledged_write_survives_kill_9_of_gateway_and_database(
    processes: Processes, tmp_path: Path
) -> None:
    first = await processes.serve(tmp_path, API_ONLY)
    token = first.tokens()["partner admin (Demo Telecom)"]
    customers = await first.customers(token)
    database_pid = first.database_pid()
    template_id = await first.create_template(token, "Survives kill -9")

    # Right after the acknowledged write: SIGKILL the gateway's process group and the database child (which
    # runs in a session of its own, so it is found by its storage path).
    first.command.kill_group()
    assert kill_database(tmp_path) == [database_pid]
    assert await first.command.wait() == -signal.SIGKILL
    await wait_until_no_database(tmp_path)

    second = await processes.serve(tmp_path, API_ONLY)
    assert second.ready_line == ready_line(tmp_path, seeded=False)
    assert await second.template_name(token, template_id) == "Survives kill -9"
    assert await second.customers(token) == customers
    await stop_cleanly(second)


async def test_the_demo_moves_on_by_itself_once_served(processes: Processes, tmp_path: Path) -> None:
    """`serve` runs the job worker: the demo's in-flight customers settle, its pending reviews wait for a human."""
    gateway = await processes.serve(tmp_path)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10.0) as http:
        ready = (await http.get("/readyz")).json()
    assert ready == {"status": "ready", "workers": 4}
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    query = """{ customers(first: 100, filter: {includeSubPartners: true}) { edges { node { status } } } }"""
    in_flight = {"provisioning", "updating", "deleting"}
    deadline = asyncio.get_running_loop().time() + START_DEADLINE_S
    while True:
        statuses = [e["node"]["status"] for e in (await gateway.execute(token, query))["customers"]["edges"]]
        if not in_flight & set(statuses):
            break
        assert asyncio.get_running_loop().time() < deadline, f"the demo's work did not settle: {statuses}"
        await asyncio.sleep(POLL_S)
    assert statuses.count("pending_rpl_review") == 5
    assert len(statuses) == 26  # the four customers being deleted are gone
    await stop_cleanly(gateway)


async def test_a_second_gateway_on_a_data_dir_in_use_fails_fast(demo_gateway: Gateway, processes: Processes) -> None:
    gateway = demo_gateway
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    customers = await gateway.customers(token)
    database_pid = gateway.database_pid()

    second = await processes.start(["serve"], gateway.data_dir)
    code = await second.wait()  # fails the test if it hangs instead
    assert code == 2, second.stdout + second.stderr
    assert "in use" in second.stderr and str(gateway.data_dir.resolve()) in second.stderr, second.stderr
    assert second.stderr.splitlines()[-1].startswith("gateway: the data directory"), second.stderr
    assert "Traceback" not in second.stderr, second.stderr

    # So does `gateway seed`, with the CLI's own one-line error.
    seed = await processes.run(["seed"], gateway.data_dir)
    assert seed.process.returncode == 2, seed.stderr
    assert seed.stderr.splitlines()[-1].startswith("gateway: the data directory"), seed.stderr
    assert "in use" in seed.stderr

    # The second gateway's database child is gone; the first gateway and its database carry on.
    assert database_pids(gateway.data_dir) == [database_pid]
    assert await gateway.customers(token) == customers
    data = await gateway.execute(token, VIEWER)
    assert data["viewer"]["orgId"] == DEMO_PARTNER_ID


async def test_seed_is_idempotent(processes: Processes, tmp_path: Path, demo_gateway: Gateway) -> None:
    first = await processes.run(["seed"], tmp_path)
    assert first.process.returncode == 0, first.stderr
    assert first.stdout_lines[0] == "demo data seeded"
    assert database_pids(tmp_path) == []

    second = await processes.run(["seed"], tmp_path)
    assert second.process.returncode == 0, second.stderr
    assert second.stdout_lines[0] == "demo data already present; nothing written"
    assert second.stdout_lines[1:] == first.stdout_lines[1:] == [
        f"partner {DEMO_PARTNER_ID}; sub-partners {', '.join(DEMO_SUB_PARTNER_IDS)}"]
    assert database_pids(tmp_path) == []

    # Seeded twice holds what a single seed holds (the demo gateway's was seeded once, by `serve`); customer
    # ids are generated by the workflows, so the two are compared by name and status.
    gateway = await processes.serve(tmp_path, API_ONLY)
    assert gateway.ready_line == ready_line(tmp_path, seeded=False)
    token = gateway.tokens()["partner admin (Demo Telecom)"]
    ours = await gateway.execute(token, ALL_CUSTOMERS)
    theirs = await demo_gateway.execute(demo_gateway.tokens()["partner admin (Demo Telecom)"], ALL_CUSTOMERS)
    assert ours["customers"]["totalCount"] == 30
    assert [(e["node"]["name"], e["node"]["status"]) for e in ours["customers"]["edges"]] == \
        [(e["node"]["name"], e["node"]["status"]) for e in theirs["customers"]["edges"]]
    await stop_cleanly(gateway)


async def test_cli_token_is_accepted_by_the_running_gateway(demo_gateway: Gateway, processes: Processes) -> None:
    command = await processes.run(["token", "--org", DEMO_PARTNER_ID, "--role", "full_admin"], demo_gateway.data_dir)
    assert command.process.returncode == 0, command.stderr
    token = command.stdout.strip()
    assert token.count(".") == 2, command.stdout
    data = await demo_gateway.execute(token, "{ viewer { orgId orgKind roles } }")
    assert data["viewer"] == {"orgId": DEMO_PARTNER_ID, "orgKind": "PARTNER", "roles": ["full_admin"]}


async def test_cli_token_with_a_short_ttl_expires(demo_gateway: Gateway, processes: Processes) -> None:
    command = await processes.run(["token", "--org", DEMO_PARTNER_ID, "--role", "full_admin", "--ttl", "1s"],
                                  demo_gateway.data_dir)
    assert command.process.returncode == 0, command.stderr
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
    command = await processes.start(["serve"], tmp_path, extra_env=env)
    code = await command.wait()
    assert code == 2, command.stderr
    assert variable in command.stderr, command.stderr
    assert command.stderr.startswith("gateway: invalid configuration"), command.stderr
    assert "Traceback" not in command.stderr
    assert database_pids(tmp_path) == []
