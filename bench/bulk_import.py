"""Bulk subscriber import through a real gateway process: rows per second, and the time to resume after a SIGKILL.

The script runs a SecantusDB process of its own and `python -m gateway serve` on it (which seeds the demo into the
empty database), provisions one customer per run, and imports N rows (default 10,000) as a CSV file sent with
`POST /uploads` and `importSubscribers(input: {uploadId})`:

* run 1, undisturbed: rows/s = N ÷ (the batch's `finishedAt - startedAt`, server clock), and N ÷ the wall time
  from the upload to the poll that saw the batch finished;
* run 2, the same import for another customer, the gateway SIGKILLed (its whole process group) once the batch's
  `processedRows` reached about half of N; a new gateway process is started on the same database, and the time
  from that restart to the batch finished is the time to resume. It includes the new process's start and the wait
  for the killed process's job lease to expire (GATEWAY_JOB_LEASE_SECONDS, printed): nothing else may take a
  leased job over; and, when the kill landed inside a chunk's transaction (it usually does: that is where the time
  goes), the wait until the database aborts that orphaned transaction, whose writes hold the batch's document until
  then (SecantusDB, like mongod's transactionLifetimeLimitSeconds, after 60 s). "restart -> first chunk committed"
  shows that wait.

After each run every row is checked to have ended exactly once, straight from the database: every row `accepted`
(none pending, none twice), the counters adding up, one subscriber per email, one creation event per subscriber and
one PROGRESS event per committed chunk. It prints figures; nothing about timing is asserted.

    cd /work/main && .venv/bin/python -m bench.bulk_import                 # 10,000 rows: long (see the report)
    cd /work/main && .venv/bin/python -m bench.bulk_import --runs killed   # only the SIGKILL run
    cd /work/main && .venv/bin/python -m bench.bulk_import --rows 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/bulk_import.py` works too

from bench.support.cli import log, positive_int
from bench.support.data import PROVISION, bench_customer, graphql, token, us_template, wait_demo_settled
from bench.support.processes import TERM_GRACE_S, scratch
from domain.store.driver import Database
from gateway.processes import DatabaseProcess, GatewayProcess, Processes

START_DEADLINE_S = 300.0  # a loaded machine: the first start seeds the demo
POLL_S = 0.2
DRAIN_S = 900.0  # the previous run's 10,000 subscriber jobs, on a loaded machine
HEADER = "email,firstName,lastName,location,phoneNumber,extension,webex_calling"
CUSTOMER = "query($id: ID!) { customer(id: $id) { status } }"
UPLOAD_IMPORT = """mutation($input: SubscriberImportInput!) {
  importSubscribers(input: $input) { batch { id totalRows status } errors { code message field } } }"""
BATCH = """query($id: ID!) { subscriberBatch(id: $id) {
  status totalRows processedRows acceptedRows refusedRows skippedRows startedAt finishedAt } }"""
FINISHED = ("completed", "completed_with_errors", "failed", "cancelled")


def csv_file(run: str, rows: int) -> bytes:
    """`rows` new subscribers with webex_calling and an extension each, emails unique to the run."""
    lines = [HEADER] + [f"u{i:05d}.{run}@bulk-bench.example,Bench,User {i},,,{100000 + i},TRUE" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Run:
    name: str
    rows: int
    batch_id: str = ""
    upload_s: float = float("nan")  # POST /uploads and importSubscribers answered
    server_s: float = float("nan")  # startedAt → finishedAt
    wall_s: float = float("nan")  # upload sent → the poll that saw it finished
    killed_at_rows: int | None = None
    kill_to_restart_s: float = float("nan")  # SIGKILL → the new gateway serving (its start, the old database gone)
    restart_to_progress_s: float = float("nan")  # new gateway spawned → the first chunk it committed
    restart_to_done_s: float = float("nan")  # new gateway spawned → batch finished (the time to resume)
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace, database: DatabaseProcess, root: Path, processes: Processes) -> None:
        self.args = args
        self.database = database
        self.root = root
        self.processes = processes
        self.secret = secrets.token_urlsafe(48)
        self.db_name = f"bench_bulk_{uuid.uuid4().hex[:8]}"
        self.started = 0
        self.headers = {"Authorization": f"Bearer {token(self.secret, 'bench@bulk.local', hours=3)}"}

    async def gateway(self) -> GatewayProcess:
        self.started += 1
        data_dir = self.root / f"gateway-{self.started}"
        data_dir.mkdir()
        env = {"GATEWAY_MONGODB_URI": self.database.url, "GATEWAY_DATABASE": self.db_name,
               "GATEWAY_JWT_SECRET": self.secret, "GATEWAY_WORKERS": str(self.args.workers),
               "GATEWAY_ENGINE_LATENCY_MS": str(self.args.latency_ms),
               "GATEWAY_JOB_LEASE_SECONDS": str(self.args.lease_seconds)}
        return await self.processes.start(GatewayProcess(data_dir, env=env, term_grace_s=TERM_GRACE_S),
                                          START_DEADLINE_S)

    async def customer(self, client: httpx.AsyncClient, n: int) -> str:
        template = await us_template(client)
        answer = (await graphql(client, PROVISION, {"input": bench_customer(template["provisioningId"], 0, n)})
                  )["provisionCustomer"]
        if answer["errors"]:
            raise RuntimeError(f"provisionCustomer refused: {answer['errors']}")
        customer_id: str = answer["customer"]["id"]
        deadline = time.monotonic() + START_DEADLINE_S
        while (status := (await graphql(client, CUSTOMER, {"id": customer_id}))["customer"]["status"]) != "provisioned":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench customer is `{status}` after {START_DEADLINE_S:.0f} s")
            await asyncio.sleep(POLL_S)
        return customer_id

    async def submit(self, client: httpx.AsyncClient, run: Run, customer_id: str) -> float:
        t0 = time.perf_counter()
        answer = await client.post("/uploads", content=csv_file(run.name, run.rows),
                                   headers={"content-type": "text/csv"})
        if answer.status_code != 201:
            raise RuntimeError(f"POST /uploads answered {answer.status_code}: {answer.text[:300]}")
        data = (await graphql(client, UPLOAD_IMPORT, {"input": {"customerId": customer_id,
                                                                "uploadId": answer.json()["uploadId"]}}))
        payload = data["importSubscribers"]
        if payload["errors"]:
            raise RuntimeError(f"importSubscribers refused: {payload['errors']}")
        run.batch_id = payload["batch"]["id"]
        run.upload_s = time.perf_counter() - t0
        return t0

    async def poll(self, client: httpx.AsyncClient, run: Run, until_rows: int | None = None) -> dict[str, Any]:
        """The batch once it is finished (or has processed `until_rows` rows)."""
        last_log = time.monotonic()
        while True:
            batch: dict[str, Any] = (await graphql(client, BATCH, {"id": run.batch_id}))["subscriberBatch"]
            if batch["status"] in FINISHED or (until_rows is not None and batch["processedRows"] >= until_rows):
                return batch
            if time.monotonic() - last_log > 10:
                log(f"  {run.name}: {batch['processedRows']}/{batch['totalRows']} rows processed")
                last_log = time.monotonic()
            await asyncio.sleep(POLL_S)

    async def undisturbed(self, run: Run) -> None:
        gateway = await self.gateway()
        try:
            async with httpx.AsyncClient(base_url=gateway.url, headers=self.headers, timeout=120) as client:
                await wait_demo_settled(client, run.problems)
                customer_id = await self.customer(client, 1)
                log(f"{run.name}: importing {run.rows} rows")
                t0 = await self.submit(client, run, customer_id)
                batch = await self.poll(client, run)
                run.wall_s = time.perf_counter() - t0
                run.final = batch
                run.server_s = seconds(batch["startedAt"], batch["finishedAt"])
            await self.verify(run, customer_id)
        finally:
            await gateway.stop()

    async def killed(self, run: Run) -> None:
        first = await self.gateway()
        async with httpx.AsyncClient(base_url=first.url, headers=self.headers, timeout=120) as client:
            customer_id = await self.customer(client, 2)
            log(f"{run.name}: importing {run.rows} rows, SIGKILL at about {run.rows // 2}")
            await self.submit(client, run, customer_id)
            at_kill = await self.poll(client, run, until_rows=run.rows // 2)
        first.kill()
        killed_at = time.perf_counter()
        await first.wait()
        run.killed_at_rows = (await self.db.find("subscriber_batches", {"_id": run.batch_id}))[0]["processedRows"]
        if at_kill["status"] in FINISHED:
            run.problems.append("the batch finished before the kill")
        log(f"{run.name}: killed at {run.killed_at_rows} rows committed; starting a new gateway")
        restart = time.perf_counter()
        second = await self.gateway()
        run.kill_to_restart_s = time.perf_counter() - killed_at
        try:
            async with httpx.AsyncClient(base_url=second.url, headers=self.headers, timeout=120) as client:
                while True:
                    batch = (await graphql(client, BATCH, {"id": run.batch_id}))["subscriberBatch"]
                    if run.restart_to_progress_s != run.restart_to_progress_s and \
                            batch["processedRows"] > (run.killed_at_rows or 0):
                        run.restart_to_progress_s = time.perf_counter() - restart
                    if batch["status"] in FINISHED:
                        break
                    await asyncio.sleep(POLL_S)
                run.restart_to_done_s = time.perf_counter() - restart
                run.final = batch
                run.server_s = seconds(batch["startedAt"], batch["finishedAt"])
            await self.verify(run, customer_id)
        finally:
            await second.stop()

    @property
    def db(self) -> Database:
        return self._db

    async def verify(self, run: Run, customer_id: str) -> None:
        """Every row ended exactly once (read from the database, not through the gateway)."""
        db = self.db
        batch = (await db.find("subscriber_batches", {"_id": run.batch_id}))[0]
        rows = await db.find("subscriber_batch_rows", {"batchId": run.batch_id})
        statuses = Counter(r["status"] for r in rows)
        subscribers = await db.find("subscribers", {"customerId": customer_id})
        emails = Counter(s["email"] for s in subscribers)
        expected = {f"u{i:05d}.{run.name}@bulk-bench.example" for i in range(run.rows)}
        created = await db.find("events", {"entityType": "SUBSCRIBER", "details.batchId": run.batch_id,
                                           "fromStatus": None})
        progress = await db.find("events", {"entityId": run.batch_id, "action": "PROGRESS"}, sort=[("seq", 1)])
        processed = [e["details"]["processedRows"] for e in progress]
        chunks = -(-run.rows // 100)
        checks = [
            (batch["status"] == "completed", f"batch `{batch['status']}`"),
            (len(rows) == run.rows and statuses == Counter({"accepted": run.rows}), f"rows {dict(statuses)}"),
            ((batch["processedRows"], batch["acceptedRows"], batch["refusedRows"], batch["skippedRows"])
             == (run.rows, run.rows, 0, 0),
             f"counters processed/accepted/refused/skipped {batch['processedRows']}/{batch['acceptedRows']}/"
             f"{batch['refusedRows']}/{batch['skippedRows']}"),
            (set(emails) == expected and set(emails.values()) == {1}, f"{len(subscribers)} subscribers for "
             f"{len(emails)} emails (max {max(emails.values(), default=0)} per email)"),
            (Counter(e["entityId"] for e in created) == Counter({s["_id"]: 1 for s in subscribers}),
             f"{len(created)} creation events for {len(subscribers)} subscribers"),
            (processed == [min(100 * (i + 1), run.rows) for i in range(chunks)],
             f"{len(progress)} PROGRESS events for {chunks} chunks"),
        ]
        run.checks = [text for _, text in checks]
        run.problems += [f"NOT EXACTLY ONCE: {text}" for ok, text in checks if not ok]

    async def _drain(self, run: Run) -> None:
        """Wait until the job queue is empty (at most DRAIN_S): a run must not wait behind the previous one's jobs."""
        log(f"{run.name}: waiting for the previous run's jobs to finish")
        deadline = time.monotonic() + DRAIN_S
        # Another process's queue: polling is all there is.
        while (left := await _queue_left(self._db)) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(1.0)
        if left:
            run.problems.append(f"{left} jobs of the previous run still queued when this run started")

    async def main(self) -> list[Run]:
        self._db = Database(self.database.url, self.db_name)
        measures = {"plain": self.undisturbed, "killed": self.killed}
        runs = [Run(name, self.args.rows) for name in self.args.runs]
        try:
            for i, run in enumerate(runs):
                measure = measures[run.name]
                if i:  # the previous run's subscribers are still being provisioned: not this run's work
                    await self._drain(run)
                try:
                    await measure(run)
                except (RuntimeError, OSError, httpx.HTTPError, KeyError, IndexError) as exc:
                    run.problems.insert(0, f"FAILED: {type(exc).__name__}: {exc}")
                    log(f"{run.name}: failed: {exc}")
                else:  # each run's figures as soon as it ends (the table comes at the end)
                    log(f"{run.name}: {run.rows} rows in {run.server_s:.2f} s = {run.rows / run.server_s:.2f} rows/s; "
                        f"resume {run.restart_to_done_s:.2f} s; problems: {run.problems or 'none'}")
        finally:
            await self._db.close()
        return runs


async def _queue_left(db: Database) -> int:
    return len(await db.find("jobs", {"status": {"$in": ["ready", "running"]}}, projection={"_id": 1}))


def seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print()
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; GATEWAY_WORKERS={args.workers}, engine latency "
          f"{args.latency_ms} ms, job lease {args.lease_seconds} s; CSV via POST /uploads, chunks of 100 rows")
    print(f"{'run':<8}{'rows':>8}{'upload+mutation s':>19}{'batch s':>10}{'rows/s':>9}{'wall s':>9}{'wall rows/s':>13}")
    for run in runs:
        print(f"{run.name:<8}{run.rows:>8,}{run.upload_s:>19.2f}{run.server_s:>10.2f}{run.rows / run.server_s:>9.1f}"
              f"{run.wall_s:>9.2f}{run.rows / run.wall_s:>13.1f}")
    killed = next((r for r in runs if r.name == "killed"), None)
    if killed is not None and killed.killed_at_rows is not None:
        print(f"killed run: SIGKILL with {killed.killed_at_rows:,} of {killed.rows:,} rows committed; "
              f"SIGKILL -> new gateway serving {killed.kill_to_restart_s:.2f} s; restart -> first chunk committed "
              f"{killed.restart_to_progress_s:.2f} s (includes the {args.lease_seconds} s lease); "
              f"restart -> batch finished (time to resume) {killed.restart_to_done_s:.2f} s")
    for run in runs:
        print(f"{run.name}: exactly once: " + ("yes" if not any(p.startswith("NOT") for p in run.problems)
                                              else "NO") + " — " + "; ".join(run.checks))
        for problem in run.problems:
            print(f"  ! {problem}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_import", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=positive_int, default=10_000, help="rows per import (default 10000, at most "
                                                                            "10000: an import's limit)")
    parser.add_argument("--workers", type=positive_int, default=4, help="GATEWAY_WORKERS (default 4)")
    parser.add_argument("--latency-ms", type=int, default=0, help="GATEWAY_ENGINE_LATENCY_MS (default 0)")
    parser.add_argument("--lease-seconds", type=positive_int, default=5,
                        help="GATEWAY_JOB_LEASE_SECONDS: how soon a killed gateway's job is taken over (default 5)")
    parser.add_argument("--runs", type=lambda text: [r for r in text.split(",") if r], default=["plain", "killed"],
                        help="which runs, in order: plain (undisturbed), killed (SIGKILL at half-way); default both")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args(argv)
    if not args.runs or set(args.runs) - {"plain", "killed"}:
        parser.error("--runs takes plain and/or killed, comma-separated")
    return args


async def amain(args: argparse.Namespace) -> list[Run]:
    notes: list[str] = []
    with scratch("bench-bulk-", args.keep, notes) as base:
        async with DatabaseProcess(base / "secantus") as database, Processes() as processes:
            runs = await Bench(args, database, base, processes).main()
    runs[-1].problems += notes
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report(asyncio.run(amain(args)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
