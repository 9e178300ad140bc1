"""The one place that knows which MongoDB driver is in use (Motor, per the design card).

Everything driver-specific lives here: client creation, sessions and transactions, aggregation and
list cursors. Repositories use only the operations that Motor and PyMongo's native async client
share (find_one, insert_one, update_one, count_documents, ...) plus the helpers below, so swapping
the driver is a change to this module alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import IndexModel
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.monitoring import CommandListener

Document = dict[str, Any]
# The driver's "cannot reach the server" error, under a name that does not tie callers to one driver.
DatabaseUnavailable = ConnectionFailure
# A unique index refused a write; `.details["keyPattern"]` names the index's fields.
DuplicateKey = DuplicateKeyError
T = TypeVar("T")
SortKeys = Sequence[tuple[str, int]]
# Motor's classes are untyped; the alias keeps that fact in one place.
Collection = Any
Session = Any


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying later: a write conflict, an aborted transaction, or the server out of reach."""
    if isinstance(exc, ConnectionFailure):
        return True
    return isinstance(exc, PyMongoError) and (
        exc.has_error_label("TransientTransactionError") or getattr(exc, "code", None) == 112)


class Database:
    """A connected database: one client per process, opened at start-up and closed at shutdown."""

    def __init__(
        self,
        uri: str,
        name: str,
        *,
        listeners: Sequence[CommandListener] = (),
        server_selection_timeout_ms: int = 10_000,
        app_name: str = "wholesale-gateway",
    ) -> None:
        self._client: Any = AsyncIOMotorClient(
            uri,
            tz_aware=True,
            event_listeners=list(listeners),
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            appname=app_name,
        )
        self._db = self._client[name]
        self.name = name

    def collection(self, name: str) -> Collection:
        return self._db[name]

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: SortKeys | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
        session: Session | None = None,
    ) -> list[Document]:
        cursor = self._db[collection].find(filter, projection=projection, session=session)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        docs: list[Document] = await cursor.to_list(length=None)
        return docs

    async def aggregate(
        self, collection: str, pipeline: Sequence[Mapping[str, Any]], *, session: Session | None = None
    ) -> list[Document]:
        cursor = self._db[collection].aggregate(list(pipeline), session=session)
        docs: list[Document] = await cursor.to_list(length=None)
        return docs

    async def aggregate_batches(
        self, collection: str, pipeline: Sequence[Mapping[str, Any]], size: int
    ) -> AsyncIterator[list[Document]]:
        """The pipeline's output `size` documents at a time, never all of it in memory at once.

        A large `$sort` may spill to disk on the server (allowDiskUse) rather than fail.
        """
        async for batch in _batches(self._db[collection].aggregate(list(pipeline), batchSize=size,
                                                                   allowDiskUse=True), size):
            yield batch

    async def find_batches(self, collection: str, filter: Mapping[str, Any], sort: SortKeys, size: int
                           ) -> AsyncIterator[list[Document]]:
        async for batch in _batches(self._db[collection].find(filter, sort=list(sort), batch_size=size), size):
            yield batch

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session with an open transaction, committed when the block ends without an exception."""
        async with await self._client.start_session() as session, session.start_transaction():
            yield session

    async def run_transaction(
        self,
        work: Callable[[Session], Awaitable[T]],
        *,
        tail: Callable[[Session], Awaitable[None]] | None = None,
        max_attempts: int = 100,
    ) -> T:
        """Run `work(session)` in a transaction and commit it, retrying the whole of it on transient conflicts.

        `tail`, when given, runs last, just before the commit (writes every transaction shares, such as
        a sequence counter, are best kept short). Any exception that is not a transient database
        conflict aborts the transaction and propagates.
        """
        for attempt in range(1, max_attempts + 1):
            try:
                async with await self._client.start_session() as session:
                    session.start_transaction()
                    try:
                        result = await work(session)
                        if tail is not None:
                            await tail(session)
                        await self._commit(session)
                    except BaseException:
                        if session.in_transaction:
                            with contextlib.suppress(PyMongoError):
                                await session.abort_transaction()
                        raise
                    return result
            except PyMongoError as exc:
                if not exc.has_error_label("TransientTransactionError") or attempt == max_attempts:
                    raise
                # Jittered backoff: concurrent writers of one document spread out instead of colliding again.
                await asyncio.sleep(random.uniform(0, min(0.002 * 2 ** min(attempt, 6), 0.1)))
        raise AssertionError("unreachable")

    @staticmethod
    async def _commit(session: Session) -> None:
        while True:
            try:
                await session.commit_transaction()
                return
            except PyMongoError as exc:
                if not exc.has_error_label("UnknownTransactionCommitResult"):
                    raise

    async def create_indexes(self, collection: str, indexes: Sequence[IndexModel]) -> None:
        await self._db[collection].create_indexes(list(indexes))

    async def watch_inserts(self, collection: str, opened: Callable[[], None] | None = None
                            ) -> AsyncIterator[Document]:
        """Every document inserted into `collection` from now on, in commit order (a change stream).

        `opened` is called once the stream is open on the server, i.e. from the moment nothing inserted can be
        missed any more (the stream opens on the first iteration, not when this generator is created).
        """
        pipeline = [{"$match": {"operationType": "insert"}}]
        async with self._db[collection].watch(pipeline) as stream:
            if opened is not None:
                opened()
            async for change in stream:
                yield change["fullDocument"]

    async def collection_names(self) -> list[str]:
        names: list[str] = await self._db.list_collection_names()
        return names

    async def drop(self) -> None:
        await self._client.drop_database(self.name)

    def close(self) -> None:
        self._client.close()


async def _batches(cursor: Any, size: int) -> AsyncIterator[list[Document]]:
    batch: list[Document] = []
    async for doc in cursor:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
