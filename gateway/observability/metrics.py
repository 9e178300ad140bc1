"""Prometheus metrics of one gateway app, in a registry of its own (several apps in one process stay apart).

Served at `/metrics` without a token, for the operator's network only: put it behind the same firewall
as the database, never on the public listener (it names operations and shows load).

| metric | type | labels |
|---|---|---|
| gateway_graphql_operations_total | counter | operation_name, operation_type, outcome |
| gateway_graphql_operation_seconds | histogram | operation_name, operation_type (queries, mutations) |
| gateway_http_requests_total | counter | method, path (route template), status |
| gateway_http_request_seconds | histogram | method, path |
| gateway_websockets_active | gauge | |
| gateway_subscriptions_active | gauge | |
| gateway_event_fanout_seconds | histogram | |
| gateway_job_queue_jobs | gauge | status (ready, running, waiting) |
| gateway_job_queue_due_jobs | gauge | |
| gateway_job_queue_lag_seconds | gauge | |
| gateway_db_commands_total | counter | command, collection |
| gateway_db_command_errors_total | counter | command |
| gateway_db_heartbeat_failures_total | counter | |

plus the client library's process_*, python_gc_* and python_info.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from domain.store.jobs import QueueStats

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Operation names come from clients: only well-formed, short names get a label of their own, and only the
# first MAX_OPERATION_NAMES distinct ones that actually ran; the rest share "other".
MAX_OPERATION_NAMES = 100
MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
ANONYMOUS, OTHER = "anonymous", "other"
HTTP_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
# Fan-out is in-process work (a predicate and a queue put per subscriber): microseconds, unless the loop is busy.
FANOUT_BUCKETS = (1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


@dataclass(frozen=True)
class Readings:
    """What is read when Prometheus scrapes, rather than counted as it happens."""

    websockets: int
    subscriptions: int
    jobs: QueueStats | None  # None when the database could not be asked


class _ScrapeTimeGauges:
    """A collector yielding the latest `Readings` (set just before each scrape's rendering)."""

    def __init__(self) -> None:
        self.readings: Readings | None = None

    def describe(self) -> Iterable[Metric]:
        return self._families(Readings(0, 0, QueueStats({}, 0, timedelta(0))))

    def collect(self) -> Iterable[Metric]:
        return self._families(self.readings) if self.readings is not None else []

    @staticmethod
    def _families(readings: Readings) -> list[Metric]:
        families: list[Metric] = [
            GaugeMetricFamily("gateway_websockets_active", "Open websockets (both protocols).",
                              value=readings.websockets),
            GaugeMetricFamily("gateway_subscriptions_active", "Subscriptions registered with the event hub.",
                              value=readings.subscriptions),
        ]
        if readings.jobs is not None:
            jobs = GaugeMetricFamily("gateway_job_queue_jobs", "Jobs in the queue by status.", labels=["status"])
            for status, count in sorted(readings.jobs.counts.items()):
                jobs.add_metric([status], count)
            families += [
                jobs,
                GaugeMetricFamily("gateway_job_queue_due_jobs", "Ready jobs whose time has come (the backlog).",
                                  value=readings.jobs.due),
                GaugeMetricFamily("gateway_job_queue_lag_seconds",
                                  "How long the oldest due ready job has waited (0 when none is due).",
                                  value=readings.jobs.lag.total_seconds()),
            ]
        return families


class GatewayMetrics:
    """The instruments; the middleware, schema extension and database listener feed them."""

    def __init__(self, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.operations = Counter(
            "gateway_graphql_operations", "GraphQL operations by name, type and outcome (ok, or the first error code).",
            ["operation_name", "operation_type", "outcome"], registry=r)
        self.operation_seconds = Histogram(
            "gateway_graphql_operation_seconds", "Time to answer a query or mutation (parsing to result).",
            ["operation_name", "operation_type"], registry=r)
        self.http_requests = Counter(
            "gateway_http_requests", "HTTP requests by method, route template and status.",
            ["method", "path", "status"], registry=r)
        self.http_seconds = Histogram(
            "gateway_http_request_seconds", "Time to answer an HTTP request.", ["method", "path"], registry=r)
        self.fanout_seconds = Histogram(
            "gateway_event_fanout_seconds",
            "From the event hub receiving a committed event to its delivery into a subscriber's queue.",
            buckets=FANOUT_BUCKETS, registry=r)
        self.db_commands = Counter(
            "gateway_db_commands", "Database commands by name and collection (none for session commands).",
            ["command", "collection"], registry=r)
        self.db_command_errors = Counter(
            "gateway_db_command_errors", "Database commands that failed, by command name.", ["command"], registry=r)
        self.db_heartbeat_failures = Counter(
            "gateway_db_heartbeat_failures", "Failed server heartbeats (the database out of reach).", registry=r)
        self._gauges = _ScrapeTimeGauges()
        r.register(self._gauges)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self._max_names = max_operation_names
        self._names: set[str] = set()

    def operation_label(self, name: str | None, *, admit: bool) -> str:
        """The label for an operation name; a new name takes one of the bounded slots only when `admit`."""
        if not name:
            return ANONYMOUS
        if name in self._names:
            return name
        if admit and len(name) <= MAX_NAME_LENGTH and _NAME.fullmatch(name) and len(self._names) < self._max_names:
            self._names.add(name)
            return name
        return OTHER

    def operation_done(self, name: str, kind: str, outcome: str, seconds: float | None) -> None:
        self.operations.labels(name, kind, outcome).inc()
        if seconds is not None:
            self.operation_seconds.labels(name, kind).observe(seconds)

    def http_done(self, method: str, path: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else OTHER
        self.http_requests.labels(method, path, str(status)).inc()
        self.http_seconds.labels(method, path).observe(seconds)

    def render(self, readings: Readings) -> bytes:
        """The text exposition format, with `readings` as the scrape-time gauges."""
        self._gauges.readings = readings
        return generate_latest(self.registry)


def outcome_of(errors: Sequence[object] | None) -> str:
    """The outcome label: `ok`, or the `extensions.code` of the first error (a bounded set: our own codes)."""
    if not errors:
        return "ok"
    code = (getattr(errors[0], "extensions", None) or {}).get("code")
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "error"
