"""What an operator sees: request ids, structured logs, masked errors, Prometheus metrics, traces."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from domain.model.clock import FixedClock
from domain.services.reads import event_cursor
from domain.store.driver import Driver
from domain.workflows.maintenance import HISTORY_RETENTION
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.embedded import EmbeddedDatabase
from gateway.observability import GatewayMetrics, Telemetry, configure_logging, log_handler
from gateway.observability.logs import GatewayLogHandler
from gateway.runtime import Runtime
from gateway.settings import load_settings
from tests.api.live import serving, subscribers_reach, ws_client
from tests.api.provisioning import customer_input, partner_token, provision, provisioning_id
from tests.conftest import JWT_SECRET, NOW, Demo, Gateway

PARTNERS = "query Partners { partners(first: 1) { edges { cursor } } }"
EVENTS = "subscription Follow { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) { entityId toStatus } }"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    """Every sample /metrics exposes (no token needed), by name and labels."""
    response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def break_a_customer(gateway: Gateway, demo: Demo) -> str:
    """A stored customer the code cannot read back (an unknown status): reading it fails unexpectedly."""
    db = gateway.runtime.db
    assert db is not None
    doc = await db.collection("customers").find_one({"ownerOrgId": demo.partner})
    await db.collection("customers").update_one({"_id": doc["_id"]}, {"$set": {"status": "no-such-status"}})
    return str(doc["_id"])


def customer_query(customer_id: str) -> str:
    return f'query ReadCustomer {{ customer(id: "{customer_id}") {{ id status }} }}'


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """What the root logger writes in the JSON format while the block runs."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


# ------------------------------------------------------------------------------------------------ request ids


async def test_a_request_without_an_id_gets_a_fresh_one_in_x_request_id(gateway: Gateway) -> None:
    first = await gateway.http.get("/healthz")
    second = await gateway.http.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]


@pytest.mark.parametrize(("sent", "kept"), [
    ("abc-123.DEF_456", True),
    ("x" * 64, True),
    ("x" * 65, False),
    ("has space", False),
    ("forged\\nlog-line", False),
    ("", False),
])
async def test_a_sane_incoming_request_id_is_kept_anything_else_replaced(gateway: Gateway, sent: str,
                                                                        kept: bool) -> None:
    echoed = (await gateway.http.get("/healthz", headers={"X-Request-Id": sent})).headers["x-request-id"]
    assert (echoed == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", echoed)


# ------------------------------------------------------------------------------------------------ errors and logs


@pytest.mark.settings(env="prod")
async def test_in_prod_an_unexpected_error_is_masked_and_its_request_id_leads_to_the_logged_traceback(
        gateway: Gateway, demo: Demo, caplog: pytest.LogCaptureFixture) -> None:
    customer_id = await break_a_customer(gateway, demo)
    with caplog.at_level(logging.DEBUG):
        response = await gateway.http.post("/graphql", json={"query": customer_query(customer_id)}, headers={
            "authorization": f"Bearer {partner_token(gateway, demo)}", "X-Request-Id": "support-ticket-42"})
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "support-ticket-42"}
    assert response.headers["x-request-id"] == "support-ticket-42"
    [logged] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (logged.name, getattr(logged, "request_id", None)) == ("gateway.graphql", "support-ticket-42")
    assert logged.exc_info is not None and "no-such-status" in str(logged.exc_info[1])


async def test_json_log_lines_parse_and_carry_the_request_id_and_the_traceback(gateway: Gateway, demo: Demo) -> None:
    customer_id = await break_a_customer(gateway, demo)
    with json_logs() as stream:
        response = await gateway.post(partner_token(gateway, demo), customer_query(customer_id))
    request_id = response.headers["x-request-id"]
    assert response.json()["errors"][0]["extensions"]["requestId"] == request_id
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["logger"] == "gateway.graphql" and error["request_id"] == request_id
    assert "customer" in error["message"] and "Traceback" in error["exc"] and "no-such-status" in error["exc"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", error["ts"])


def test_a_json_log_line_carries_extra_fields_and_the_text_format_the_request_id() -> None:
    stream = io.StringIO()
    record = logging.makeLogRecord({"name": "gateway.jobs", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "job %s done", "args": ("job_1",), "job_kind": "customers.provision",
                                    "request_id": "r-1"})
    handler = log_handler("json", stream)
    handler.handle(record)
    line = json.loads(stream.getvalue())
    assert line.items() >= {"level": "INFO", "logger": "gateway.jobs", "message": "job job_1 done",
                            "request_id": "r-1", "job_kind": "customers.provision"}.items()
    assert "exc" not in line
    text = io.StringIO()
    log_handler("text", text).handle(record)
    assert text.getvalue().rstrip().endswith("INFO gateway.jobs [r-1]: job job_1 done")


def test_configuring_logging_again_replaces_the_handler_and_routes_uvicorn_through_it() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("text", "INFO")
        configure_logging("json", "WARNING", stream=io.StringIO())
        ours = [h for h in root.handlers if isinstance(h, GatewayLogHandler)]
        assert len(ours) == 1 and root.level == logging.WARNING
        access = logging.getLogger("uvicorn.access")
        assert access.handlers == [] and access.propagate and access.getEffectiveLevel() == logging.WARNING
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


async def test_expected_errors_are_not_logged_as_errors(gateway: Gateway, demo: Demo,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    assert gateway.runtime.retention is not None
    gateway.clock.advance(HISTORY_RETENTION + timedelta(days=1))  # events are kept ≥ 5 years (R-AUD-2)
    assert await gateway.runtime.retention.purge() > 0  # the demo's events: a cursor before them is expired
    partner = partner_token(gateway, demo)
    blind = gateway.token(demo.partner, "full_admin", scopes=["wholesale_customers_read"])
    with caplog.at_level(logging.DEBUG):
        expired = await gateway.errors(partner, "query($after: String) { provisioningEvents(after: $after) "
                                                "{ edges { cursor } } }", {"after": event_cursor(1)})
        forbidden = await gateway.errors(blind, "{ billingReports(first: 1) { edges { cursor } } }")
        invalid = await gateway.errors(partner, "{ noSuchField }")
    codes = [e["extensions"]["code"] for e in expired + forbidden + invalid]
    assert codes == ["CURSOR_EXPIRED", "FORBIDDEN", "GRAPHQL_VALIDATION_FAILED"]
    ours = [r for r in caplog.records if r.name.startswith(("gateway", "strawberry"))]
    assert [r for r in ours if r.levelno >= logging.WARNING or r.exc_info] == []
    assert [r.getMessage().split(" ")[0] for r in ours if r.name == "gateway.graphql"] == codes  # one line each


# ------------------------------------------------------------------------------------------------ metrics


async def test_metrics_count_and_time_operations_by_name_type_and_outcome(gateway: Gateway) -> None:
    admin = gateway.token(None, "platform_admin")
    for _ in range(2):
        await gateway.execute(admin, PARTNERS)
    await gateway.execute(admin, "{ partners(first: 1) { edges { cursor } } }")
    await gateway.errors(admin, "query Misspelt { partnrs { edges { cursor } } }")
    assert (await gateway.http.get("/no-such-page")).status_code == 404
    samples = await scrape(gateway.http)
    ops = "gateway_graphql_operations_total"
    assert sample(samples, ops, operation_name="Partners", operation_type="query", outcome="ok") == 2
    assert sample(samples, ops, operation_name="anonymous", operation_type="query", outcome="ok") == 1
    # A name is only given a label of its own by an operation that ran.
    assert sample(samples, ops, operation_name="other", operation_type="query",
                  outcome="GRAPHQL_VALIDATION_FAILED") == 1
    seconds = "gateway_graphql_operation_seconds_count"
    assert sample(samples, seconds, operation_name="Partners", operation_type="query") == 2
    http = "gateway_http_requests_total"
    assert (sample(samples, http, method="POST", path="/graphql", status="200") or 0) >= 3
    assert sample(samples, http, method="GET", path="unmatched", status="404") == 1
    assert sample(samples, "gateway_http_request_seconds_count", method="GET", path="unmatched") == 1
    # The scrape itself is counted once it is answered: the next one shows it.
    again = await scrape(gateway.http)
    assert sample(again, http, method="GET", path="/metrics", status="200") == 1


def test_operation_name_labels_are_bounded() -> None:
    metrics = GatewayMetrics(max_operation_names=2)
    assert metrics.operation_label("NeverRan", admit=False) == "other"
    assert [metrics.operation_label(n, admit=True) for n in ("A", "B", "C", "A")] == ["A", "B", "other", "A"]
    fresh = GatewayMetrics()
    assert fresh.operation_label(None, admit=True) == "anonymous"
    assert fresh.operation_label("x" * 65, admit=True) == "other"
    assert fresh.operation_label("not-a-graphql-name", admit=True) == "other"
    assert fresh.operation_label("x" * 64, admit=True) == "x" * 64


async def test_metrics_show_open_websockets_subscriptions_and_event_fan_out(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    async with serving(gateway.app) as url:
        handshake = connect(url, subprotocols=[Subprotocol("graphql-transport-ws")],
                            additional_headers={"X-Request-Id": "ws-trace-7"})
        async with handshake as raw, ws_client(url, token) as session:
            assert raw.response is not None and raw.response.headers["x-request-id"] == "ws-trace-7"
            stream = session.subscribe(GraphQLRequest(EVENTS))
            first = asyncio.create_task(anext(stream))
            await subscribers_reach(gateway.runtime.hub, 1)
            samples = await scrape(gateway.http)
            assert sample(samples, "gateway_websockets_active") == 2
            assert sample(samples, "gateway_subscriptions_active") == 1
            assert sample(samples, "gateway_event_fanout_seconds_count") == 0
            await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "OBS-1"))
            event = await asyncio.wait_for(first, DEADLINE_S)
            assert event["provisioningEvents"]["toStatus"] == "provisioning"
            samples = await scrape(gateway.http)
            assert (sample(samples, "gateway_event_fanout_seconds_count") or 0) >= 1
            await stream.aclose()
        await subscribers_reach(gateway.runtime.hub, 0)
        async with asyncio.timeout(DEADLINE_S):
            while sample(samples := await scrape(gateway.http), "gateway_websockets_active"):  # noqa: ASYNC110 - polled like a scraper
                await asyncio.sleep(0.05)
    assert sample(samples, "gateway_subscriptions_active") == 0
    assert sample(samples, "gateway_graphql_operations_total", operation_name="Follow",
                  operation_type="subscription", outcome="cancelled") == 1
    assert sample(samples, "gateway_graphql_operations_total", operation_name="anonymous",
                  operation_type="mutation", outcome="ok") == 1


async def test_metrics_show_the_job_queue_depth_and_lag(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    await gateway.settle()
    await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "OBS-2"))
    gateway.clock.advance(timedelta(seconds=90))  # nobody has run the provisioning job for 90 seconds
    waiting = await scrape(gateway.http)
    assert (sample(waiting, "gateway_job_queue_jobs", status="ready") or 0) >= 1
    assert (sample(waiting, "gateway_job_queue_due_jobs") or 0) >= 1
    assert sample(waiting, "gateway_job_queue_lag_seconds") == 90
    await gateway.settle()
    done = await scrape(gateway.http)
    assert sample(done, "gateway_job_queue_due_jobs") == 0 and sample(done, "gateway_job_queue_lag_seconds") == 0
    assert {status for (name, labels), _ in done.items() if name == "gateway_job_queue_jobs"
            for key, status in labels} == {"ready", "running", "waiting"}


async def test_metrics_count_failed_database_commands_by_name(gateway: Gateway) -> None:
    db = gateway.runtime.db
    assert db is not None
    errors = "gateway_db_command_errors_total"
    before = sample(await scrape(gateway.http), errors, command="aggregate") or 0
    with pytest.raises(Exception, match="nosuchstage"):
        await db.aggregate("customers", [{"$nosuchstage": {}}])
    assert sample(await scrape(gateway.http), errors, command="aggregate") == before + 1


async def test_metrics_count_database_commands_by_name_and_collection(gateway: Gateway) -> None:
    db = gateway.runtime.db
    assert db is not None
    sent = "gateway_db_commands_total"
    before = await scrape(gateway.http)
    await db.aggregate("customers", [{"$limit": 1}])
    await db.aggregate("customers", [{"$limit": 1}])
    after = await scrape(gateway.http)
    assert sample(after, sent, command="aggregate", collection="customers") == (
        sample(before, sent, command="aggregate", collection="customers") or 0) + 2


def settings_for(uri: str, driver: Driver, tmp_path: Path) -> Any:
    return load_settings(mongodb_uri=uri, database=f"t_{uuid.uuid4().hex[:12]}", jwt_secret=JWT_SECRET,
                         data_dir=tmp_path, workers=0, engine_latency_ms=0, driver=driver, db_timeout_ms=1000)


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


async def test_with_the_database_down_readyz_answers_503_and_metrics_show_the_failures_until_it_is_back(
        tmp_path: Path, driver: Driver) -> None:
    database = EmbeddedDatabase(tmp_path / "db")
    uri = await database.start()
    try:
        app = create_app(Runtime(settings_for(uri, driver, tmp_path), clock=FixedClock(NOW)))
        async with running(app) as http:
            assert (await http.get("/readyz")).status_code == 200
            assert sample(await scrape(http), "gateway_job_queue_due_jobs") == 0
            await database.stop()
            down = await http.get("/readyz")
            assert down.status_code == 503 and down.json()["status"] == "unavailable"
            async with asyncio.timeout(DEADLINE_S):
                while not sample(samples := await scrape(http), "gateway_db_heartbeat_failures_total"):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            assert sample(samples, "gateway_job_queue_due_jobs") is None  # unknown, rather than a stale figure
            assert (await http.get("/healthz")).status_code == 200
            await database.start()  # on the same port: the client finds it again by itself
            async with asyncio.timeout(DEADLINE_S):
                while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            assert sample(await scrape(http), "gateway_job_queue_due_jobs") == 0
    finally:
        await database.stop()


# ------------------------------------------------------------------------------------------------ tracing


async def test_a_query_is_traced_as_an_http_span_holding_a_graphql_span_named_after_the_operation(
        mongo_uri: str, driver: Driver, tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    runtime = Runtime(settings_for(mongo_uri, driver, tmp_path), clock=FixedClock(NOW),
                      telemetry=Telemetry(tracer_provider=provider))
    app = create_app(runtime)
    async with running(app) as http:
        token = issue_token(JWT_SECRET, subject="tracer@example.com", org=None, roles=["platform_admin"],
                            ttl=timedelta(hours=1))
        response = await http.post("/graphql", json={"query": PARTNERS}, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 200 and not response.json().get("errors")
        assert runtime.db is not None
        await runtime.db.drop()
    spans: tuple[ReadableSpan, ...] = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /graphql"]
    [operation] = [s for s in spans if s.name == "GraphQL Query: Partners"]
    assert server.attributes is not None and server.attributes["gateway.request_id"] == response.headers[
        "x-request-id"]
    assert operation.parent is not None and server.context is not None
    assert operation.parent.span_id == server.context.span_id
    provider.shutdown()


def test_tracing_adds_nothing_until_a_tracer_provider_is_set_up() -> None:
    # A no-op tracer would still wrap every resolved field; the operator's provider (or a test's) turns it on.
    assert len(Telemetry().schema_extensions()) == 1 and len(Telemetry().middleware()) == 2
    traced = Telemetry(tracer_provider=TracerProvider())
    assert len(traced.schema_extensions()) == 2 and len(traced.middleware()) == 3


def test_without_the_opentelemetry_package_the_gateway_runs_untraced() -> None:
    code = """
import sys
sys.modules["opentelemetry"] = None  # as if the optional dependency were not installed
from gateway.observability import Telemetry, tracing
from resolvers.schema import build_schema
telemetry = Telemetry(tracer_provider=object())
assert not tracing.AVAILABLE and len(telemetry.middleware()) == 2
build_schema(extensions=telemetry.schema_extensions())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
