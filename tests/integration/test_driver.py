"""The driver switch: Motor or PyMongo's native async client, the same behaviour through `domain.store.driver.Database`.

Each test runs once per driver (the `driver` fixture); the first one proves the parametrization really switches
the client, so the other runs cannot silently test Motor twice.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson.errors import InvalidDocument
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import AutoReconnect, PyMongoError
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from domain.store.driver import DRIVERS, Database, DatabaseUnavailable, Driver, DuplicateKey, Session, is_transient
from tests.conftest import Gateway

DEADLINE_S = 30.0  # a failure bound, not a timing assertion
CLIENT_CLASSES: dict[Driver, type] = {"motor": AsyncIOMotorClient, "pymongo": AsyncMongoClient}


@pytest.fixture
async def db(mongo_uri: str, driver: Driver) -> AsyncIterator[Database]:
    """A fresh database on the session's server, through the driver of this run."""
    database = Database(mongo_uri, f"drv_{uuid.uuid4().hex[:12]}", driver=driver)
    try:
        yield database
        await database.drop()
    finally:
        await database.close()


def test_both_drivers_are_offered() -> None:
    assert DRIVERS == ("motor", "pymongo")


async def test_the_gateway_talks_to_the_database_through_the_driver_its_settings_select(
        gateway: Gateway, driver: Driver) -> None:
    assert gateway.runtime.settings.driver == driver
    db = gateway.runtime.db
    assert db is not None and db.driver == driver
    assert db.client_class is CLIENT_CLASSES[driver]
    # And the work a request does goes through it: the command listener sees the request's reads.
    gateway.commands.enabled = True
    await gateway.execute(gateway.token(None, "platform_admin"), "{ partners { totalCount } }")
    assert gateway.commands.commands


async def test_find_sorts_limits_and_projects(db: Database) -> None:
    await db.collection("things").insert_many([{"_id": i, "n": i % 3, "x": "y"} for i in range(6)])
    found = await db.find("things", {"n": {"$gt": 0}}, sort=[("n", -1), ("_id", 1)], limit=3, projection={"x": 0})
    assert found == [{"_id": 2, "n": 2}, {"_id": 5, "n": 2}, {"_id": 1, "n": 1}]


async def test_a_collection_cursor_can_be_iterated_directly(db: Database) -> None:
    await db.collection("things").insert_many([{"_id": i} for i in range(3)])
    seen = [doc["_id"] async for doc in db.collection("things").find({}, sort=[("_id", -1)])]
    assert seen == [2, 1, 0]


async def test_aggregate_returns_the_pipeline_output(db: Database) -> None:
    await db.collection("things").insert_many([{"_id": i, "n": i % 2} for i in range(5)])
    groups = await db.aggregate("things", [{"$group": {"_id": "$n", "count": {"$sum": 1}}}, {"$sort": {"_id": 1}}])
    assert groups == [{"_id": 0, "count": 3}, {"_id": 1, "count": 2}]


async def test_batches_come_in_the_asked_size_and_order_and_may_be_left_early(db: Database) -> None:
    await db.collection("things").insert_many([{"_id": i} for i in range(5)])
    by_find = [[d["_id"] for d in batch] async for batch in db.find_batches("things", {}, [("_id", 1)], 2)]
    by_aggregate = [[d["_id"] for d in batch]
                    async for batch in db.aggregate_batches("things", [{"$sort": {"_id": -1}}], 2)]
    assert by_find == [[0, 1], [2, 3], [4]]
    assert by_aggregate == [[4, 3], [2, 1], [0]]

    batches = db.find_batches("things", {}, [("_id", 1)], 2)
    async for first in batches:
        assert [d["_id"] for d in first] == [0, 1]
        break
    await batches.aclose()  # closes the server-side cursor of a consumer that stopped early


async def test_a_transaction_commits_all_of_its_writes_or_none(db: Database) -> None:
    things = db.collection("things")
    async with db.transaction() as session:
        await things.insert_one({"_id": "kept"}, session=session)
        await things.insert_one({"_id": "also kept"}, session=session)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await things.insert_one({"_id": "dropped"}, session=session)
            raise RuntimeError("the work failed")

    async def failing(session: Session) -> None:
        await things.insert_one({"_id": "dropped too"}, session=session)
        raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        await db.run_transaction(failing)
    assert sorted(d["_id"] for d in await db.find("things", {})) == ["also kept", "kept"]


async def test_a_write_conflict_between_transactions_is_transient_and_retried_until_it_commits(db: Database) -> None:
    things = db.collection("things")
    await things.insert_one({"_id": "x", "n": 0})
    attempts = 0

    async def increment(session: Session) -> None:
        nonlocal attempts
        attempts += 1
        await things.update_one({"_id": "x"}, {"$inc": {"n": 10}}, session=session)

    async with db.transaction() as holder:
        await things.update_one({"_id": "x"}, {"$inc": {"n": 1}}, session=holder)
        with pytest.raises(PyMongoError) as conflict:
            async with db.transaction() as other:
                await things.update_one({"_id": "x"}, {"$inc": {"n": 100}}, session=other)
        assert is_transient(conflict.value)
        retrying = asyncio.create_task(db.run_transaction(increment))
        async with asyncio.timeout(DEADLINE_S):
            while attempts < 2:  # noqa: ASYNC110 - it conflicted at least once while the holder is open
                await asyncio.sleep(0.01)
    await asyncio.wait_for(retrying, DEADLINE_S)
    assert (await things.find_one({"_id": "x"})) == {"_id": "x", "n": 11}


async def test_a_transaction_cut_off_from_the_server_is_given_up_at_once_rather_than_retried(db: Database) -> None:
    attempts = 0

    async def cut_off(session: Session) -> None:
        nonlocal attempts
        attempts += 1
        await db.collection("things").insert_one({"_id": attempts}, session=session)
        # What the driver raises when the connection goes inside a transaction: labelled transient, like a conflict.
        raise AutoReconnect("connection closed", {"errorLabels": ["TransientTransactionError"]})

    with pytest.raises(DatabaseUnavailable):
        await db.run_transaction(cut_off)
    assert attempts == 1  # the caller answers "unavailable" now, instead of waiting out the outage attempt by attempt
    assert await db.find("things", {}) == []


async def test_a_unique_index_refuses_a_second_document_as_a_duplicate_key(db: Database) -> None:
    await db.create_indexes("things", [IndexModel([("email", 1)], unique=True)])
    await db.collection("things").insert_one({"_id": 1, "email": "a@example.com"})
    with pytest.raises(DuplicateKey) as refused:
        await db.collection("things").insert_one({"_id": 2, "email": "a@example.com"})
    assert refused.value.details is not None and refused.value.details["keyPattern"] == {"email": 1}
    assert not is_transient(refused.value)


async def test_the_change_stream_delivers_what_is_inserted_after_it_opened(db: Database) -> None:
    things = db.collection("things")
    await things.insert_one({"_id": "before"})
    opened = asyncio.Event()
    stream = db.watch_inserts("things", opened=opened.set)

    async def next_insert() -> dict[str, Any]:
        return await anext(stream)

    first = asyncio.create_task(next_insert())
    try:
        await asyncio.wait_for(opened.wait(), DEADLINE_S)
        await things.update_one({"_id": "before"}, {"$set": {"changed": True}})  # not an insert: not delivered
        await things.insert_one({"_id": "after"})
        assert await asyncio.wait_for(first, DEADLINE_S) == {"_id": "after"}
    finally:
        first.cancel()
        await stream.aclose()


async def test_collections_are_listed_and_dropped_with_their_database(db: Database) -> None:
    await db.collection("one").insert_one({})
    await db.collection("two").insert_one({})
    assert sorted(await db.collection_names()) == ["one", "two"]
    await db.drop()
    assert await db.collection_names() == []


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_server_out_of_reach_is_reported_as_unavailable_and_transient(driver: Driver) -> None:
    nowhere = Database(f"mongodb://127.0.0.1:{unused_port()}/?directConnection=true", "nothing", driver=driver,
                       server_selection_timeout_ms=200)
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            await nowhere.ping()
        assert is_transient(refused.value)
    finally:
        await nowhere.close()


def test_an_unknown_driver_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'mongo'"):
        Database("mongodb://127.0.0.1:1", "x", driver="mongo")  # type: ignore[arg-type]


class _Started(CommandListener):
    """The commands started, each noted `delay` seconds after it starts (a command slow to leave: the race made
    wide, where Motor's thread or the loop would otherwise decide it)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.names: list[str] = []
        self.delay = delay

    def started(self, event: CommandStartedEvent) -> None:
        time.sleep(self.delay)
        self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def test_reads_asked_for_are_on_their_way_once_sent_returns(mongo_uri: str, driver: Driver) -> None:
    """`Database.sending`: a read asked for within has its command started once `sent()` returns, so the server works
    while the caller computes. Motor sends from a thread, which needs the GIL the event loop holds while computing;
    PyMongo's async client sends from the loop, in the turns the caller gives it."""
    listener = _Started()
    database = Database(mongo_uri, f"drv_{uuid.uuid4().hex[:12]}", driver=driver, listeners=[listener])
    try:
        await database.collection("things").insert_many([{"_id": i} for i in range(3)])
        listener.names.clear()
        listener.delay = 0.05
        with database.sending() as sent:
            read = asyncio.ensure_future(database.find("things", {}))
            for _ in range(3):
                await asyncio.sleep(0)
            await asyncio.wait_for(sent(), DEADLINE_S)
        assert listener.names == ["find"]  # before the loop goes on to compute
        assert len(await read) == 3
        await database.drop()
    finally:
        await database.close()


async def test_a_read_that_fails_before_its_command_is_not_waited_for(db: Database) -> None:
    """A read refused before any command leaves (a filter BSON cannot encode) does not hold `sent()` up."""
    with db.sending() as sent:
        read = asyncio.ensure_future(db.find("things", {"x": object()}))
        await asyncio.sleep(0)  # the read is asked for
        await asyncio.wait_for(sent(), DEADLINE_S)
    with pytest.raises(InvalidDocument):
        await read
