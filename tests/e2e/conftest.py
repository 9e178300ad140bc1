"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.store.driver import Database
from gateway.processes import DatabaseProcess, Processes
from tests.e2e.test_provisioning_processes import Cluster


@pytest.fixture
async def processes() -> AsyncIterator[Processes]:
    """Whatever the test starts (gateway.processes), stopped at its end, database children included."""
    async with Processes() as started:
        yield started


@pytest.fixture
async def own_cluster(tmp_path: Path) -> AsyncIterator[tuple[Cluster, DatabaseProcess]]:
    """A gateway cluster on a SecantusDB process of the test's own (never the session's server)."""
    async with DatabaseProcess(tmp_path / "secantus") as server:
        processes = Processes()
        db = Database(server.url, f"e2e_{uuid.uuid4().hex[:12]}", server_selection_timeout_ms=2_000)
        try:
            yield Cluster(server.url, db.name, db, processes, tmp_path), server
        finally:
            try:
                await processes.close()
            finally:
                await db.close()
