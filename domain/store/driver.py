"""The one place that knows which MongoDB driver is in use: PyMongo's native async client (the default) or Motor.

Everything driver-specific lives here: client creation, sessions and transactions, aggregation and list
cursors, change streams, closing. Repositories use only the collection operations that Motor and PyMongo's
native async client (`pymongo.AsyncMongoClient`, Motor's successor) share with the same call shape — find_one,
insert_one, insert_many, update_one, update_many, replace_one, delete_one, delete_many, count_documents,
find_one_and_update, bulk_write, all awaited, and `find(...)`, which both return as a cursor without awaiting —
plus the helpers below. Where the two differ in what must be awaited (start_session, start_transaction,
aggregate, watch, close), the difference is bridged here and nowhere else.

Motor reached its end of life in May 2026: it is an optional extra (`pip install 'wholesale-gateway[motor]'`),
imported only when a database is opened with driver="motor", and still tested in tests/integration.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar, get_args

from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

Document = dict[str, Any]
# The driver's "cannot reach the server" error, under a name that does not tie callers to one driver.
# Both clients raise pymongo's exception classes, so this (and DuplicateKey below) holds for either.
DatabaseUnavailable = ConnectionFailure
# A unique index refused a write; `.details["keyPattern"]` names the index's fields.
DuplicateKey = DuplicateKeyError
T = TypeVar("T")
R = TypeVar("R")
SortKeys = Sequence[tuple[str, int]]
# The two drivers' collection and session classes differ; callers use only what both have in common.
Collection = Any
Session = Any
Driver = Literal["motor", "pymongo"]
DRIVERS: tuple[Driver, ...] = get_args(Driver)


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying later: a write conflict, an aborted transaction, or the server out of reach."""
    if isinstance(exc, ConnectionFailure):
        return True
    return isinstance(exc, PyMongoError) and (
        exc.has_error_label("TransientTransactionError") or getattr(exc, "code", None) == 112)


async def _wait_within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """`asyncio.wait_for` as Python 3.12 has it: the awaitable runs in the caller's task, under a timeout."""
    async with asyncio.timeout(seconds):
        return await awaitable


def make_pymongo_condition_waits_cancellation_safe() -> bool:
    """PyMongo's async client on Python 3.11: wait on its internal conditions in the waiting task itself.

    PyMongo (4.20.1, the latest) waits on its asyncio conditions — server selection in the topology, a free slot
    in the connection pool — through `pymongo.lock._async_cond_wait`, i.e. `asyncio.wait_for(condition.wait(),
    timeout)`. Before Python 3.12, wait_for runs `condition.wait()` as a task of its own. When the wait times out
    (server selection re-checks every 0.5 s while the database is down), wait_for cancels that inner task and
    waits for it to re-acquire the condition's lock; if the waiting task is itself cancelled in that moment (as
    graphql-core cancels a field's sibling fields when one of them fails), wait_for returns at once and the
    caller's `async with` releases a lock it does not hold. The orphaned inner task then takes the lock and no task
    ever releases it: every later database call of the process waits forever (the deadlock after an outage).
    Awaiting `condition.wait()` in the caller's own task under `asyncio.timeout` (what wait_for is from 3.12 on)
    lets a cancellation reach `Condition.wait`, which re-acquires the lock before it lets the cancellation through.

    Returns whether the driver's waits are now safe: True on Python 3.12+ (nothing to do), False if PyMongo no
    longer waits this way (tests/unit/test_driver_cancellation.py then fails, to have this looked at again).
    """
    if sys.version_info >= (3, 12):
        return True
    import pymongo.lock as driver_locks

    if not hasattr(driver_locks, "_async_cond_wait") or not hasattr(driver_locks, "wait_for"):
        return False
    setattr(driver_locks, "wait_for", _wait_within)  # noqa: B010 (a private name of the driver, on purpose)
    return True


def _blocking_session(session: Session | None) -> Any:
    """The blocking PyMongo session behind a Motor session (None stays None)."""
    return getattr(session, "delegate", session)


class _OnTheWire(CommandListener):
    """Motor only: tells the event loop when a read it handed to a thread has its command on its way to the server.

    The thread needs the GIL to send, and the event loop holds it for as long as it computes: a read asked for
    just before the loop builds a page of objects would otherwise leave for the server only once the loop is done.
    `Database.sending` waits for this, so the database works while the loop builds. A started event is published
    by the thread that sends the command, just before it writes it.
    """

    def __init__(self) -> None:
        self._thread = threading.local()

    def sending(self, signal: Callable[[], None] | None) -> None:
        """`signal` is called at the next command this thread starts (None: no more)."""
        self._thread.signal = signal

    def started(self, event: CommandStartedEvent) -> None:
        signal: Callable[[], None] | None = getattr(self._thread, "signal", None)
        if signal is not None:
            self._thread.signal = None
            signal()

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def _client_class(driver: Driver) -> Any:
    if driver == "pymongo":
        make_pymongo_condition_waits_cancellation_safe()
        return AsyncMongoClient
    try:
        from motor.motor_asyncio import AsyncIOMotorClient
    except ImportError as exc:  # gateway.settings says so at start-up already; this is for direct callers
        raise ImportError("the motor driver needs Motor: pip install 'wholesale-gateway[motor]'") from exc
    return AsyncIOMotorClient


class Database:
    """A connected database: one client per process, opened at start-up and closed (awaited) at shutdown.

    `driver` picks the client: "pymongo" (PyMongo's native asyncio client, the default) or "motor" (Motor, which
    runs PyMongo's blocking client on a thread pool; the `motor` extra). Both take the same options and raise the
    same errors.
    """

    def __init__(
        self,
        uri: str,
        name: str,
        *,
        driver: Driver = "pymongo",
        listeners: Sequence[CommandListener] = (),
        server_selection_timeout_ms: int = 10_000,
        app_name: str = "wholesale-gateway",
    ) -> None:
        if driver not in DRIVERS:
            raise ValueError(f"unknown database driver {driver!r}: expected one of {', '.join(DRIVERS)}")
        self._on_the_wire = _OnTheWire()
        self._client: Any = _client_class(driver)(
            uri,
            tz_aware=True,
            event_listeners=[*listeners, self._on_the_wire] if driver == "motor" else list(listeners),
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            appname=app_name,
        )
        self._db = self._client[name]
        self.driver: Driver = driver
        self.name = name
        # Awaited with every session a transaction is about to use (domain.store.sessions puts it on record).
        self.on_session: Callable[[Session], Awaitable[None]] | None = None

    @property
    def _native(self) -> bool:
        return self.driver == "pymongo"

    @property
    def client_class(self) -> type:
        """The class of the client in use (to show which driver really serves this database)."""
        return type(self._client)

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
        if not self._native:  # Motor: the whole read in one trip to a thread (see `_threaded`)
            return await self._threaded(lambda: list(self._blocking(collection).find(
                filter, projection=projection, sort=list(sort) if sort else None, limit=limit,
                session=_blocking_session(session))))
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
        if not self._native:
            return await self._threaded(lambda: list(self._blocking(collection).aggregate(
                list(pipeline), session=_blocking_session(session))))
        cursor = await self._aggregate(collection, pipeline, session=session)
        docs: list[Document] = await cursor.to_list(length=None)
        return docs

    def _blocking(self, collection: str) -> Any:
        """Motor's own blocking PyMongo collection (its client's `delegate`: same pool, options and listeners)."""
        return self._client.delegate[self.name][collection]

    async def _threaded(self, read: Callable[[], R]) -> R:
        """Run a blocking read of Motor's PyMongo client on a thread, all of it: the command, every batch, the
        decoding. Motor's own cursor hops to its thread pool and back once per batch and then moves each document
        into the list on the event loop, in Python; reads are the gateway's hot path (the dashboard's page, its
        counts), so they take one hop and leave the loop free meanwhile. Writes and sessions stay Motor's.

        Until its first command starts (or the read ends without one) the read counts as not yet sent (`sending`)."""
        loop = asyncio.get_running_loop()
        sent: asyncio.Future[None] = loop.create_future()
        unsent = _UNSENT.get()
        if unsent is not None:
            unsent.add(sent)
            sent.add_done_callback(unsent.discard)

        def signal() -> None:
            loop.call_soon_threadsafe(_settle, sent)

        def run() -> R:
            self._on_the_wire.sending(signal)
            try:
                return read()
            finally:
                self._on_the_wire.sending(None)  # no command started (an error before it): the thread forgets it

        try:
            return await loop.run_in_executor(None, run)
        finally:
            _settle(sent)  # over, with or without a command: nothing left to wait for

    @contextlib.contextmanager
    def sending(self) -> Iterator[Callable[[], Awaitable[None]]]:
        """The reads asked for within (by this task, and by the tasks it starts meanwhile: DataLoaders' batches);
        `await sent()` waits until each is on its way to the server, so that it answers them while the caller
        computes. Motor sends from a thread, which waits for the GIL while the loop computes: `sent` waits for each
        threaded read's first command to start. PyMongo's async client sends from the event loop itself, in the
        turns the caller gives its coroutines (resolvers.customers.queries.SEND_TURNS): nothing to wait for."""
        unsent: set[asyncio.Future[None]] = set()
        token = _UNSENT.set(unsent)

        async def sent() -> None:
            if unsent:
                await asyncio.wait(list(unsent))

        try:
            yield sent
        finally:
            _UNSENT.reset(token)

    async def count(self, collection: str, filter: Mapping[str, Any]) -> int:
        if not self._native:
            return int(await self._threaded(lambda: self._blocking(collection).count_documents(dict(filter))))
        return int(await self._db[collection].count_documents(dict(filter)))

    async def aggregate_batches(
        self, collection: str, pipeline: Sequence[Mapping[str, Any]], size: int
    ) -> AsyncGenerator[list[Document], None]:
        """The pipeline's output `size` documents at a time, never all of it in memory at once.

        A large `$sort` may spill to disk on the server (allowDiskUse) rather than fail.
        """
        cursor = await self._aggregate(collection, pipeline, batchSize=size, allowDiskUse=True)
        async for batch in _batches(cursor, size):
            yield batch

    async def find_batches(self, collection: str, filter: Mapping[str, Any], sort: SortKeys, size: int
                           ) -> AsyncGenerator[list[Document], None]:
        async for batch in _batches(self._db[collection].find(filter, sort=list(sort), batch_size=size), size):
            yield batch

    async def _aggregate(self, collection: str, pipeline: Sequence[Mapping[str, Any]], **options: Any) -> Any:
        # Motor returns the cursor at once and sends the command on the first read; PyMongo async sends the
        # command when `aggregate` is awaited and returns the open cursor.
        cursor = self._db[collection].aggregate(list(pipeline), **options)
        return await cursor if self._native else cursor

    async def _start_session(self) -> Session:
        # Motor's start_session is a coroutine; PyMongo async's returns the session directly.
        return self._client.start_session() if self._native else await self._client.start_session()

    async def _start_transaction(self, session: Session) -> None:
        if self.on_session is not None:
            await self.on_session(session)
        await self._begin(session)

    async def admin_command(self, command: Mapping[str, Any]) -> Any:
        return await self._client.admin.command(dict(command))

    async def _begin(self, session: Session) -> None:
        # PyMongo async's start_transaction is a coroutine; Motor's is a plain call (its result, a context
        # manager, is not needed: commit and abort are explicit below).
        started = session.start_transaction()
        if self._native:
            await started

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session with an open transaction, committed when the block ends without an exception."""
        async with await self._start_session() as session:
            await self._start_transaction(session)
            try:
                yield session
            except BaseException:
                await _abort(session)
                raise
            await self._commit(session)

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
        conflict aborts the transaction and propagates; so does the server being out of reach
        (DatabaseUnavailable), at once, even during the commit (whose outcome is then unknown).
        """
        for attempt in range(1, max_attempts + 1):
            try:
                async with await self._start_session() as session:
                    await self._start_transaction(session)
                    try:
                        result = await work(session)
                        if tail is not None:
                            await tail(session)
                        await self._commit(session)
                    except BaseException:
                        await _abort(session)
                        raise
                    return result
            except PyMongoError as exc:
                # A server out of reach is labelled transient too, but waiting it out here would hold the caller
                # for attempts x the server-selection timeout: it is the caller's to answer (or retry later).
                if (isinstance(exc, ConnectionFailure) or not exc.has_error_label("TransientTransactionError")
                        or attempt == max_attempts):
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
                # Unknown outcome: commit again (it is idempotent), unless the server is out of reach.
                if isinstance(exc, ConnectionFailure) or not exc.has_error_label("UnknownTransactionCommitResult"):
                    raise

    async def create_indexes(self, collection: str, indexes: Sequence[IndexModel]) -> None:
        await self._db[collection].create_indexes(list(indexes))

    async def watch_inserts(self, collection: str, opened: Callable[[], None] | None = None
                            ) -> AsyncGenerator[Document, None]:
        """Every document inserted into `collection` from now on, in commit order (a change stream).

        `opened` is called once the stream is open on the server, i.e. from the moment nothing inserted can be
        missed any more (the stream opens on the first iteration, not when this generator is created).
        """
        pipeline = [{"$match": {"operationType": "insert"}}]
        # PyMongo async opens the stream when `watch` is awaited; Motor's opens on entering the `async with`.
        stream = self._db[collection].watch(pipeline)
        async with (await stream if self._native else stream) as changes:
            if opened is not None:
                opened()
            async for change in changes:
                yield change["fullDocument"]

    async def collection_names(self) -> list[str]:
        names: list[str] = await self._db.list_collection_names()
        return names

    async def drop(self) -> None:
        await self._client.drop_database(self.name)

    async def close(self) -> None:
        """Close the client and its connections (PyMongo async's close is a coroutine; Motor's is not)."""
        closing = self._client.close()
        if self._native:
            await closing


# The threaded reads (Motor) asked for within `Database.sending` and not yet on their way to the server.
_UNSENT: ContextVar[set[asyncio.Future[None]] | None] = ContextVar("unsent_reads", default=None)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _abort(session: Session) -> None:
    """Abort the session's transaction if one is still open; a failure to abort leaves it to the server to reap."""
    if session.in_transaction:
        with contextlib.suppress(PyMongoError):
            await session.abort_transaction()


async def _batches(cursor: Any, size: int) -> AsyncGenerator[list[Document], None]:
    batch: list[Document] = []
    try:
        async for doc in cursor:
            batch.append(doc)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        # A consumer that stops early leaves the server-side cursor open: close it now, not at garbage collection
        # (a cursor that cannot be closed any more is the server's to reap).
        with contextlib.suppress(PyMongoError):
            await cursor.close()
