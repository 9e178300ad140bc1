"""Billing report generation over a large usage ledger: the report's time against the raw pipeline's.

Builds a ledger of at least 1,000,000 usage-days (by default 12,000 subscribers over a 90-day period,
with a package change every 20 to 40 days, so ~40,000 intervals over a partner and two sub-partners), then,
for each report type, in the same run:

* report: `createBillingReport` over HTTP (in-process ASGI) until the report reads COMPLETED. This is
  what a user waits for: the mutation, the job being picked up, the pipeline with its row numbering and
  `$merge` into `billing_rows`, the completing transaction and its event.
  Server-side time is `completedAt - createdAt`; wall time includes the status polls (every 250 ms).
* pipeline: the aggregation proper (`domain.store.billing_pipelines.usage_pipeline`: match, clip, group, project) run
  through the driver and read back whole, with no writes.

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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/billing.py` works too

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.rules.billing import Period, ReportType
from domain.rules.catalogue import USER_PACKAGES
from domain.store.billing_pipelines import usage_pipeline
from domain.store.repositories.billing import USAGE
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.runtime import Runtime
from gateway.settings import load_settings

SECRET = "bench-billing-secret-0123456789-0123456789"
SUBSCRIBERS_PER_CUSTOMER = 10
CREATE = """
mutation($input: CreateBillingReportInput!) {
  createBillingReport(input: $input) { report { id status } errors { code message } }
}"""
READ = "query($id: ID!) { billingReport(id: $id) { status rowCount } }"


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=12_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--types", default="PARTNER,CUSTOMER,USER")
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
            print(f"{'type':<9}{'rows':>8}{'report s':>11}{'(wall s)':>10}{'pipeline s':>12}{'ratio':>8}")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                         headers={"authorization": f"Bearer {token}"}, timeout=3600) as http:
                for kind in args.types.split(","):
                    t1 = time.perf_counter()
                    raw = await runtime.repos.db.aggregate(USAGE, usage_pipeline(
                        {"rootOrgId": partners[0].id}, period, ReportType(kind), datetime.now(UTC), by_id))
                    pipeline_s = time.perf_counter() - t1

                    t2 = time.perf_counter()
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
                    wall_s = time.perf_counter() - t2
                    doc = await repos.billing_reports.find_doc(report_id)
                    assert doc is not None and state["status"] == "COMPLETED", state
                    server_s = (doc["completedAt"] - doc["createdAt"]).total_seconds()
                    assert state["rowCount"] == len(raw), (state, len(raw))
                    print(f"{kind:<9}{len(raw):>8,}{server_s:>11.2f}{wall_s:>10.2f}{pipeline_s:>12.2f}"
                          f"{server_s / pipeline_s:>8.2f}")
            await runtime.repos.db.drop()


if __name__ == "__main__":
    asyncio.run(main())
