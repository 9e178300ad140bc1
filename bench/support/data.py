"""What the benchmarks send and read: shared documents, request builders, tokens, and the demo's settling."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.auth import issue_token
from gateway.demo import DEMO_PARTNER_ID

# The partner dashboard's first screen: 50 customers, each with its owner, its template, its packages (with how
# many subscribers hold each) and its subscriber count. Sub-partners' customers are included, so that owners differ.
DASHBOARD = """query Dashboard {
  customers(first: 50, filter: {includeSubPartners: true}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id externalId name status lastStatusChange
        owner { id name kind }
        template { id name country }
        packages { name status limit assigned }
        subscribers(first: 0) { totalCount }
      }
    }
  }
}"""
PROVISION = """
mutation Provision($input: ProvisionCustomerInput!) {
  provisionCustomer(input: $input) { customer { id status } errors { code message field } }
}"""
TEMPLATES = "{ onboardingTemplates(first: 50) { edges { node { provisioningId country name } } } }"
BENCH_NAME = "Bench Customer"  # every customer a benchmark provisions with `bench_customer` is named so
DEMO_SETTLE_S = 120.0  # the demo's own in-flight work gets this long to finish before a load starts
CALLING_SITE = {"addressLine1": "1 Main Street", "city": "Springfield", "stateOrProvince": "IL",
                "zipOrPostalCode": "62701", "country": "US"}


def token(secret: str, subject: str, hours: float = 2) -> str:
    """A bearer token of the demo partner's full admin `subject`, signed with `secret`."""
    return issue_token(secret, subject=subject, org=DEMO_PARTNER_ID, roles=["full_admin"], ttl=timedelta(hours=hours))


def count_fields(value: Any) -> int:
    """Resolved fields in a GraphQL `data` value: every key of every object (leaf or not), and each list item.

    `{"a": 1, "b": {"c": 2}}` is 3; `{"xs": [{"c": 1}, {"c": 2}]}` is 1 (xs) + 2 (items) + 2 (c) = 5.
    """
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(1 + count_fields(v) for v in value)
    return 0


def customer_request(provisioning_id: str, external_id: str, name: str, email: str) -> dict[str, Any]:
    """A US customer with calling and meetings, and a calling location at its address."""
    parameters = {"callingLocation": {"name": "HQ", "address": CALLING_SITE, "timezone": "America/Chicago",
                                      "language": "en_US"}, "meetingsTimezone": "America/Chicago"}
    info = {"name": name, "primaryEmail": email, "language": "en"}
    return {"provisioningId": provisioning_id, "externalId": external_id,
            "packages": ["webex_calling", "webex_meetings"], "address": CALLING_SITE, "customerInfo": info,
            "provisioningParameters": parameters}


def bench_customer(provisioning_id: str, n: int, i: int) -> dict[str, Any]:
    """Customer `i` of a run of size `n`: named after BENCH_NAME, its externalId unique per run."""
    return customer_request(provisioning_id, f"BENCH-{n}-{i:05d}", f"{BENCH_NAME} {i:04d}", "it@bench-customer.example")


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `data` of an answer; raises on transport or GraphQL errors."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


async def us_template(client: httpx.AsyncClient) -> dict[str, Any]:
    """A US onboarding template the client's caller can use (the demo partner has one)."""
    templates: list[dict[str, Any]] = [e["node"] for e in (await graphql(client, TEMPLATES))["onboardingTemplates"]
                                       ["edges"]]
    template = next((t for t in templates if t["country"] == "US"), None)
    if template is None:
        raise RuntimeError(f"no US template visible to the demo partner: {templates}")
    return template


async def metric_samples(client: httpx.AsyncClient) -> list[Sample]:
    """Every sample the gateway's /metrics shows now."""
    return [s for family in text_string_to_metric_families((await client.get("/metrics")).text)
            for s in family.samples]


async def queue_busy(client: httpx.AsyncClient) -> int:
    """Jobs running or due now, from the gateway's job-queue gauges (/metrics)."""
    return sum(int(s.value) for s in await metric_samples(client)
               if s.name == "gateway_job_queue_due_jobs"
               or (s.name == "gateway_job_queue_jobs" and s.labels.get("status") == "running"))


async def wait_demo_settled(client: httpx.AsyncClient, notes: list[str]) -> None:
    """The seed leaves some demo work queued; let the gateway finish it so it does not share the measurement.

    Settled means no job running and none due: the demo's deliberately retrying customer ("Retry Robotics",
    its next attempt minutes away) and its long timers do not count, so the wait is seconds, not the deadline.
    """
    deadline = time.monotonic() + DEMO_SETTLE_S
    while True:
        left = await queue_busy(client)
        if left == 0:
            return
        if time.monotonic() > deadline:
            notes.append(f"{left} demo job(s) running or due when the load started")
            return
        await asyncio.sleep(0.5)
