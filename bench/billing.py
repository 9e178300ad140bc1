"""Billing report generation over a large usage ledger: the report's time against the raw pipeline's.

Builds a ledger of at least 1,000,000 usage-days (by default 12,000 subscribers over a 90-day period,
with a package change every 20 to 40 days, so ~42,000 intervals over a partner and two sub-partners), then,
for each report type, in the same run:

* pipeline: the bare aggregation (`domain.store.billing_pipelines.usage_pipeline`: match, clip, group, project) run
  through the driver and read back whole, with no writes.
* report: `createBillingReport` over HTTP (in-process ASGI) until the report reads COMPLETED. This is
  what a user waits for: the mutation, the job being picked up, the pipeline sorted in report order
  (`report_pipeline`) streamed in batches of 1,000 rows, each batch stored as one chunk document in
  `billing_rows`, the completing transaction and its event.
  Server-side time is `completedAt - createdAt` (the ratio's numerator); wall time includes the status polls
  (every 250 ms). `store s` is the part of it spent writing rows.

Both are also measured in CPU seconds (`cpu s`: this process, which runs the gateway in-process, plus the embedded
database's process, from /proc): on a shared machine the wall-clock ratio moves with whatever else runs, the CPU
ratio much less. With GATEWAY_MONGODB_URI the database's CPU is not seen and `cpu s` is this process's only.

With --breakdown, also, per type and in the same run: the sorted pipeline read in batches with no writes (what the
sort adds), and the report generated again storing one document per row, as it did before rows were stored in chunks
(the former way, for a before/after side by side).

The ledger is written directly (the gateway writes it interval by interval as packages settle; a
million usage-days through the provisioning workflows would take hours on the embedded database).
Nothing is asserted: the script prints a table.

    cd /work/main && .venv/bin/python -m bench.billing --subscribers 12000 --days 90
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/billing.py` works too

from bench.support.processes import cpu_seconds
from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.rules.billing import Period, ReportType
from domain.rules.catalogue import USER_PACKAGES
from domain.store.billing_pipelines import report_pipeline, usage_pipeline
from domain.store.repositories.billing import USAGE, BillingRowRepository
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.processes import database_pids
from gateway.runtime import Runtime
from gateway.settings import load_settings

SECRET = "bench-billing-secret-0123456789-0123456789"
SUBSCRIBERS_PER_CUSTOMER = 10
CREATE = """
mutation($input: CreateBillingReportInput!) {
  createBillingReport(input: $input) { report { id status } errors { code message } }
}"""
READ = "query($id: ID!) { billingReport(id: $id) { status rowCount } }"
DELETE = "mutation($id: ID!) { deleteBillingReport(id: $id) { deletedId errors { code message } } }"


def orgs(now: datetime) -> list[Partner]:
    root = Partner(id=f"ptn_{uuid.uuid4().hex[:24]}", kind=OrgKind.PARTNER, name="Bench Telecom",
                   subscription_id="Sub-BENCH", created_at=now)
    subs = [Partner(id=f"ptn_{uuid.uuid4().hex[:24]}", kind=OrgKind.SUB_PARTNER, name=f"Bench Reseller {n}",
                    subscription_id=root.subscription_id, parent_id=root.id, provisioning_state=SubPartnerState.ACTIVE,
                    billing_start_date=None, created_at=now) for n in (1, 2)]
    return [root, *subs]


def ledger(partners: list[Partner], subscribers: int, first_day: date, last_day: date,
           rng: random.Random) -> list[dict[str, Any]]:
    """Intervals: every subscriber from some time on the first day until now, changing package now and then."""
    begin = datetime.combine(first_day, datetime.min.time(), UTC)
    end = datetime.combine(last_day + timedelta(days=2), datetime.min.time(), UTC)
    docs = []
    for s in range(subscribers):
        customer = s // SUBSCRIBERS_PER_CUSTOMER
        org = partners[customer % len(partners)]
        at = begin + timedelta(minutes=rng.randrange(24 * 60))
        package = rng.choice(USER_PACKAGES)
        while at < end:
            until = at + timedelta(days=rng.uniform(20, 40))
            docs.append({
                "_id": f"use_{uuid.uuid4().hex[:24]}", "subscriberId": f"sub_{s:024d}", "userId": f"u{s}@bench.example",
                "customerId": f"cus_{customer:024d}", "customerOrgId": f"org-{customer}",
                "customerExternalId": f"BENCH-{customer}", "customerLocationId": f"loc_{customer:024d}",
                "locationId": f"loc_{customer:024d}", "ownerOrgId": org.id, "rootOrgId": partners[0].id,
                "package": package, "start": at, "end": until if until < end else None, "billingStart": None})
            at = until
            package = rng.choice([p for p in USER_PACKAGES if p != package])
    return docs


def cpu_now(data_dir: Path) -> float:
    """CPU seconds used so far by this process and the embedded database's."""
    return sum(cpu_seconds(pid) or 0.0 for pid in [os.getpid(), *database_pids(data_dir)])


class TimedStore:
    """Wraps the row repository's `store` (the job's only write per batch): its time, and optionally the former way."""

    def __init__(self, repo: BillingRowRepository) -> None:
        self.repo, self.inner = repo, repo.store
        self.seconds = 0.0
        self.one_per_document = False

    async def __call__(self, report_id: str, first: int, rows: Sequence[Mapping[str, Any]]) -> None:
        t0 = time.perf_counter()
        if self.one_per_document:  # as the job stored rows before chunks (reads understand both)
            await self.repo.insert_many([{**r, "_id": f"{report_id}:{n}", "reportId": report_id, "n": n}
                                         for n, r in enumerate(rows, first)])
        else:
            await self.inner(report_id, first, rows)
        self.seconds += time.perf_counter() - t0


async def generate(http: httpx.AsyncClient, runtime: Runtime, store: TimedStore, kind: str, first_day: date,
                   last_day: date) -> tuple[str, int, float, float, float, float]:
    """A report made over HTTP and polled until COMPLETED: (id, rows, server s, wall s, store s, cpu s)."""
    store.seconds = 0.0
    cpu0 = cpu_now(runtime.settings.data_dir)
    t0 = time.perf_counter()
    answer = (await http.post("/graphql", json={"query": CREATE, "variables": {"input": {
        "billingStartDate": first_day.isoformat(), "billingEndDate": last_day.isoformat(),
        "type": kind}}})).json()["data"]["createBillingReport"]
    assert not answer["errors"], answer
    report_id = answer["report"]["id"]
    while True:
        state = (await http.post("/graphql", json={"query": READ, "variables": {"id": report_id}})
                 ).json()["data"]["billingReport"]
        if state["status"] != "IN_PROGRESS":
            break
        await asyncio.sleep(0.25)  # seldom: polls compete with the job for the database
    wall_s = time.perf_counter() - t0
    cpu_s = cpu_now(runtime.settings.data_dir) - cpu0
    doc = await runtime.repos.billing_reports.find_doc(report_id)
    assert doc is not None and state["status"] == "COMPLETED", state
    server_s = (doc["completedAt"] - doc["createdAt"]).total_seconds()
    return report_id, int(state["rowCount"]), server_s, wall_s, store.seconds, cpu_s


async def discard(http: httpx.AsyncClient, runtime: Runtime, report_id: str) -> None:
    """Deletes a report and waits until its rows are gone (the next measurement does not share the database)."""
    answer = (await http.post("/graphql", json={"query": DELETE, "variables": {"id": report_id}})).json()
    assert not answer["data"]["deleteBillingReport"]["errors"], answer
    while await runtime.repos.billing_rows.count({"reportId": report_id}):  # noqa: ASYNC110 - polled
        await asyncio.sleep(0.25)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=12_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--types", default="PARTNER,CUSTOMER,USER")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the sorted pipeline alone and the report storing one document per row")
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    last_day = today - timedelta(days=1)
    first_day = last_day - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="bench-billing-") as data_dir:
        settings = load_settings(mongodb_uri=os.environ.get("GATEWAY_MONGODB_URI"), data_dir=Path(data_dir),
                                 database=f"bench_billing_{uuid.uuid4().hex[:8]}", jwt_secret=SECRET, workers=1,
                                 job_poll_ms=20, engine_latency_ms=0)
        runtime = Runtime(settings)
        app = create_app(runtime)
        async with app.router.lifespan_context(app):
            repos = runtime.repos
            store = TimedStore(repos.billing_rows)
            repos.billing_rows.store = store  # type: ignore[method-assign]
            partners = orgs(datetime.now(UTC))
            await repos.partners.insert_many([p.to_doc() for p in partners])
            docs = ledger(partners, args.subscribers, first_day, last_day, random.Random(5))
            t0 = time.perf_counter()
            for i in range(0, len(docs), 5000):
                await repos.usage.insert_many(docs[i:i + 5000])
            load_s = time.perf_counter() - t0
            usage_days = args.subscribers * args.days  # every subscriber holds a package all period long
            print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
                  f"database: {'GATEWAY_MONGODB_URI' if settings.mongodb_uri else 'embedded SecantusDB'}")
            print(f"# ledger: {len(docs):,} intervals, {args.subscribers:,} subscribers, period {first_day}..{last_day}"
                  f" = {usage_days:,} usage-days (loaded in {load_s:.1f} s)")
            token = issue_token(SECRET, subject="bench@example.com", org=partners[0].id, roles=["full_admin"],
                                ttl=timedelta(hours=2))
            period = Period(first_day, last_day)
            by_id = {p.id: p for p in partners}
            scope = {"rootOrgId": partners[0].id}
            columns = f"{'type':<9}{'rows':>8}{'pipeline s':>12}{'report s':>10}{'(wall s)':>10}{'store s':>9}" \
                      f"{'ratio':>7}{'pipeline cpu s':>16}{'report cpu s':>14}{'cpu ratio':>11}"
            if args.breakdown:
                columns += f"{'sorted s':>10}{'former report s':>17}{'store s':>9}{'ratio':>7}{'cpu s':>8}" \
                           f"{'cpu ratio':>11}"
            print(columns)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                         headers={"authorization": f"Bearer {token}"}, timeout=3600) as http:
                for kind in args.types.split(","):
                    cpu1, t1 = cpu_now(settings.data_dir), time.perf_counter()
                    raw = await repos.db.aggregate(USAGE, usage_pipeline(scope, period, ReportType(kind),
                                                                         datetime.now(UTC), by_id))
                    pipeline_s, pipeline_cpu = time.perf_counter() - t1, cpu_now(settings.data_dir) - cpu1
                    report_id, rows, server_s, wall_s, store_s, cpu_s = await generate(http, runtime, store, kind,
                                                                                       first_day, last_day)
                    assert rows == len(raw), (rows, len(raw))
                    line = f"{kind:<9}{rows:>8,}{pipeline_s:>12.2f}{server_s:>10.2f}{wall_s:>10.2f}{store_s:>9.2f}" \
                           f"{server_s / pipeline_s:>7.2f}{pipeline_cpu:>16.2f}{cpu_s:>14.2f}" \
                           f"{cpu_s / pipeline_cpu:>11.2f}"
                    if args.breakdown:
                        t2 = time.perf_counter()
                        async for _ in repos.db.aggregate_batches(USAGE, report_pipeline(
                                scope, period, ReportType(kind), datetime.now(UTC), by_id), 1000):
                            pass
                        sorted_s = time.perf_counter() - t2
                        await discard(http, runtime, report_id)
                        store.one_per_document = True
                        report_id, _, former_s, _, former_store_s, former_cpu = await generate(
                            http, runtime, store, kind, first_day, last_day)
                        store.one_per_document = False
                        await discard(http, runtime, report_id)
                        line += f"{sorted_s:>10.2f}{former_s:>17.2f}{former_store_s:>9.2f}" \
                                f"{former_s / pipeline_s:>7.2f}{former_cpu:>8.2f}{former_cpu / pipeline_cpu:>11.2f}"
                    print(line, flush=True)
            if settings.mongodb_uri:  # the embedded database goes with its temporary directory (dropping takes minutes)
                await runtime.repos.db.drop()


if __name__ == "__main__":
    asyncio.run(main())
