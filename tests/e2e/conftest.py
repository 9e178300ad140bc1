"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.store.driver import Database
from gateway.embedded import EmbeddedDatabase
from tests.e2e.test_gateway_process import Processes
from tests.e2e.test_provisioning_processes import Cluster


@pytest.fixture
async def own_cluster(tmp_path: Path) -> AsyncIterator[tuple[Cluster, EmbeddedDatabase]]:
    """A gateway cluster on a SecantusDB process of the test's own (never the session's server)."""
    server = EmbeddedDatabase(tmp_path / "secantus")
    processes = Processes()
    db: Database | None = None
    try:
        await server.start()
        db = Database(server.uri, f"e2e_{uuid.uuid4().hex[:12]}", server_selection_timeout_ms=2_000)
        yield Cluster(server.uri, db.name, db, processes, tmp_path), server
    finally:
        try:
            await processes.close()
        finally:
            if db is not None:
                await db.close()
            await server.stop()
