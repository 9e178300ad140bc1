"""Shared fixtures: one real SecantusDB process per test session, a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from starlette.applications import Starlette

from domain.clock import FixedClock
from domain.demo import DEMO_PARTNER_ID, DEMO_SUB_PARTNER_IDS, seed_demo
from domain.driver import Database
from domain.indexes import ensure_indexes
from domain.repositories import Repositories
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.embedded import EmbeddedDatabase
from gateway.runtime import Runtime
from gateway.settings import load_settings

JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
async def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server = EmbeddedDatabase(tmp_path_factory.mktemp("secantus"))
    uri = await server.start()
    yield uri
    await server.stop()


class CommandCounter(CommandListener):
    """Counts the database commands a piece of work sends (pymongo command monitoring)."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.enabled = False

    def started(self, event: CommandStartedEvent) -> None:
        if self.enabled:
            self.commands.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@dataclass
class Gateway:
    """A gateway app on its own database, plus what tests need to talk to it."""

    app: Starlette
    runtime: Runtime
    http: httpx.AsyncClient
    commands: CommandCounter
    clock: FixedClock

    @property
    def repos(self) -> Repositories:
        return self.runtime.repos

    def token(self, org: str | None, *roles: str, scopes: list[str] | None = None,
              ttl: timedelta = timedelta(hours=1)) -> str:
        return issue_token(JWT_SECRET, subject="tester@example.com", org=org, roles=list(roles or ["full_admin"]),
                           ttl=ttl, scopes=scopes)

    async def post(self, token: str | None, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def execute(self, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation that must succeed; returns `data`."""
        response = await self.post(token, query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    async def errors(self, token: str, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run an operation that must fail with top-level errors; returns them."""
        body = (await self.post(token, query, variables)).json()
        assert body.get("errors"), body
        errors: list[dict[str, Any]] = body["errors"]
        return errors

    async def settle(self) -> None:
        """Run every job that is due now, as the background worker would (tests drive it explicitly)."""
        assert self.runtime.worker is not None
        await self.runtime.worker.run_until_idle()

    async def events(self, **filter: Any) -> list[dict[str, Any]]:
        db = self.runtime.db
        assert db is not None
        return await db.find("events", filter, sort=[("seq", 1)])

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every document of every collection: to assert that a refused request wrote nothing."""
        db = self.runtime.db
        assert db is not None
        names = ["partners", "templates", "customers", "locations", "subscribers", "events", "jobs", "counters",
                 "usage", "billing_reports", "billing_rows"]
        return {n: await db.find(n, {}, sort=[("_id", 1)]) for n in names}


@pytest.fixture
async def gateway(mongo_uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    # No background worker and no Webex-side latency: tests move the queue with `gateway.settle()`.
    # A test may change other settings with `@pytest.mark.settings(name=value, ...)`.
    marker = request.node.get_closest_marker("settings")
    overrides = marker.kwargs if marker else {}
    settings = load_settings(**{"mongodb_uri": mongo_uri, "database": f"t_{uuid.uuid4().hex[:12]}",
                                "jwt_secret": JWT_SECRET, "data_dir": tmp_path, "workers": 0,
                                "engine_latency_ms": 0, **overrides})
    clock = FixedClock(NOW)
    commands = CommandCounter()
    runtime = Runtime(settings, clock=clock, listeners=[commands])
    app = create_app(runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield Gateway(app, runtime, http, commands, clock)
        assert runtime.db is not None
        await runtime.db.drop()


@dataclass(frozen=True)
class Demo:
    partner: str
    sub_a: str
    sub_b: str


@pytest.fixture(scope="session")
async def demo_template(mongo_uri: str) -> AsyncIterator[Database]:
    """The demo, seeded once per session through the real workflows; each test gets a copy of it."""
    db = Database(mongo_uri, f"demo_{uuid.uuid4().hex[:12]}")
    await ensure_indexes(db)
    await seed_demo(Repositories.over(db, FixedClock(NOW)))
    yield db
    await db.drop()
    db.close()


@pytest.fixture
async def demo(gateway: Gateway, demo_template: Database) -> Demo:
    target = gateway.runtime.db
    assert target is not None
    for name in await demo_template.collection_names():
        docs = await demo_template.find(name, {})
        if docs:
            await target.collection(name).insert_many(docs)
    return Demo(DEMO_PARTNER_ID, *DEMO_SUB_PARTNER_IDS)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """The team's shared specs and tools: beside the repository, or where GATEWAY_SHARED_DIR says."""
    candidates = [Path(p) for p in (os.environ.get("GATEWAY_SHARED_DIR"),) if p]
    candidates += [Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")]
    found = next((c for c in candidates if (c / "spec" / "contract.graphql").is_file()), None)
    assert found is not None, f"the shared specs were not found in any of {candidates}"
    yield found
