"""End to end: `gateway serve` with GATEWAY_DRIVER set serves queries and runs jobs through that driver.

The process runs on its own embedded SecantusDB, so every client of that server other than this test's own
is the gateway's: the server's `currentOp` lists each connection with the metadata its driver sent in the
handshake, which names the driver: Motor adds "Motor" to the name ("PyMongo|c|Motor"), PyMongo's native async
client marks its connections for operations "async" ("PyMongo|c|async"; its monitoring ones carry no marker).
Deadlines are failure bounds, never timing assertions.

That check once failed for `[pymongo]`, seeing a Motor connection: the embedded database's readiness check used
a Motor client, and Motor's `close()` returns before its monitor thread has closed its connection (PyMongo's
threaded monitor notices it is cancelled only every 0.5 s), so a gateway ready within that time held a Motor
connection. The first test below shows that race's cause deterministically, from this process's own sockets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from domain.store.driver import Driver
from gateway.processes import DatabaseProcess, Processes, command_line
from tests.api.provisioning import PROVISION, customer_input
from tests.conftest import JWT_SECRET
from tests.e2e.test_gateway_process import Gateway, stop_cleanly
from tests.e2e.test_provisioning_processes import onboard, wait_until_provisioned

pytestmark = pytest.mark.e2e

DRIVER_MARKERS: dict[Driver, str] = {"motor": "Motor", "pymongo": "async"}
GATEWAY_APP_NAME = "wholesale-gateway"


def connections_to(port: int) -> list[str]:
    """This process's TCP connections to `port` on the loopback (its socket fds, looked up in the kernel's table)."""
    fds = Path("/proc/self/fd")
    inodes = set()
    for fd in fds.iterdir():
        try:
            target = fd.readlink().name
        except OSError:  # closed since it was listed
            continue
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    found = []
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if inode in inodes and int(remote.split(":")[1], 16) == port:
            found.append(f"{local} -> {remote}")
    return found


async def test_the_embedded_database_is_ready_with_no_connection_of_its_readiness_check_left_open(
        tmp_path: Path) -> None:
    async with DatabaseProcess(tmp_path) as server:
        assert connections_to(server.port) == []


async def driver_markers(gateway: Gateway) -> set[str]:
    """The parts of the driver names ("PyMongo|c|Motor") of every connection the gateway holds to its database."""
    arguments = command_line(gateway.database_pid())
    port = arguments[arguments.index("--port") + 1]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", appname="driver-check", serverSelectionTimeoutMS=10_000)
    async with client:
        operations = (await client.admin.command({"currentOp": 1, "$all": True}))["inprog"]
    return {part for op in operations
            if op.get("clientMetadata", {}).get("application", {}).get("name") == GATEWAY_APP_NAME
            for part in op["clientMetadata"]["driver"]["name"].split("|")}


@pytest.mark.parametrize("driver", ["motor", "pymongo"])
async def test_a_gateway_process_serves_and_runs_jobs_through_the_driver_its_setting_names(
        processes: Processes, tmp_path: Path, driver: Driver) -> None:
    gateway = await processes.start(Gateway(
        tmp_path, "--no-demo",
        env={"GATEWAY_DRIVER": driver, "GATEWAY_JWT_SECRET": JWT_SECRET, "GATEWAY_ENGINE_LATENCY_MS": "0"}))

    tenant = await onboard(gateway)  # a partner and a template, created and read back through the API
    data = await gateway.execute(tenant.token, PROVISION,
                                 {"input": customer_input(tenant.provisioning_id, f"E2E-DRIVER-{driver}")})
    payload = data["provisionCustomer"]
    assert payload["errors"] == [], payload
    # The process's own job worker takes the customer through the Webex side to `provisioned`.
    await wait_until_provisioned(gateway, tenant.token, payload["customer"]["id"])

    assert await driver_markers(gateway) & set(DRIVER_MARKERS.values()) == {DRIVER_MARKERS[driver]}
    await stop_cleanly(gateway)
