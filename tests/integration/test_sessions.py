"""A process that dies inside a transaction: its open transaction is ended by another process's session reaper
(domain.store.sessions) as soon as its heartbeat is stale, instead of holding its writes for the server's 60 s."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import PyMongoError

from domain.store.driver import Database, Driver
from domain.store.sessions import PROCESSES, SESSIONS, SessionReaper

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def two_processes(mongo_uri: str, driver: Driver) -> AsyncIterator[tuple[Database, Database]]:
    name = f"sessions_{uuid.uuid4().hex[:12]}"
    first, second = Database(mongo_uri, name, driver=driver), Database(mongo_uri, name, driver=driver)
    try:
        yield first, second
    finally:
        await first.drop()
        await first.close()
        await second.close()


async def _write_in_one_attempt(db: Database) -> None:
    async with db.transaction() as session:
        await db.collection("counters").update_one({"_id": "events"}, {"$inc": {"seq": 1}}, session=session)


async def test_the_open_transaction_of_a_silent_process_is_ended_and_the_others_write_again(
        two_processes: tuple[Database, Database]) -> None:
    dead_db, live_db = two_processes
    await dead_db.collection("counters").insert_one({"_id": "events", "seq": 0})
    clock = Clock()
    dead = SessionReaper(dead_db, "dead-process", stale=15, now=clock)
    live = SessionReaper(live_db, "live-process", stale=15, now=clock)
    dead_db.on_session = dead.note
    live_db.on_session = live.note

    # The first process beats once, then writes the shared counter in a transaction and never ends it (as if
    # killed there, before its next beat): the session went on record as the transaction began.
    await dead.tick()
    held = dead_db.transaction()
    session = await held.__aenter__()
    await dead_db.collection("counters").update_one({"_id": "events"}, {"$inc": {"seq": 1}}, session=session)
    assert [s["process"] for s in await live_db.find(SESSIONS, {})] == ["dead-process"]

    # Meanwhile every other transaction on that document conflicts.
    with pytest.raises(PyMongoError) as conflict:
        await _write_in_one_attempt(live_db)
    assert conflict.value.has_error_label("TransientTransactionError")

    # Not yet stale: nothing is ended.
    clock.now = T0 + timedelta(seconds=10)
    assert await live.tick() == []
    # Stale: its sessions are ended, its records forgotten, and the others' transactions commit again.
    clock.now = T0 + timedelta(seconds=16)
    assert await live.tick() == ["dead-process"]
    await _write_in_one_attempt(live_db)
    assert (await live_db.find("counters", {}))[0]["seq"] == 1  # the dead transaction's increment never landed
    assert [p["_id"] for p in await live_db.find(PROCESSES, {})] == ["live-process"]
    assert await live_db.find(SESSIONS, {"process": "dead-process"}) == []

    # Had it been alive after all, its transaction is gone: it cannot commit what it wrote.
    with contextlib.suppress(PyMongoError):
        await held.__aexit__(None, None, None)
    assert (await live_db.find("counters", {}))[0]["seq"] == 1
    # And its next beat finds it forgotten: it notes its sessions again.
    await dead.tick()
    assert await live_db.find(SESSIONS, {"process": "dead-process"}) != []


async def test_a_session_is_put_on_record_once_however_many_transactions_reuse_it(
        two_processes: tuple[Database, Database]) -> None:
    db, _ = two_processes
    reaper = SessionReaper(db, "a-process")
    db.on_session = reaper.note
    await _write_in_one_attempt(db)
    [recorded] = await db.find(SESSIONS, {})
    await db.collection(SESSIONS).delete_many({})  # behind its back: a second write would bring it back
    for _ in range(3):
        await _write_in_one_attempt(db)  # the driver's pool hands out the same session again
    assert await db.find(SESSIONS, {}) == []
    assert recorded["process"] == "a-process"
