"""Live provisioning events (R-EVT-2/3): one change stream per process, fanned out in memory.

A subscriber registers a predicate (its scope and filter, applied before anything is serialised)
and a bounded queue. Resuming after a cursor is scan-then-live: the subscriber is registered first,
then every later visible event is read from the outbox by `seq`, then the live queue takes over;
events seen in both are dropped by `seq`, so there is no gap and no duplicate at the seam.

Live events reach every local subscriber that may see them as one shared `Delivery`, so work that
depends only on the event and on what is asked of it (running the selection, encoding it) is done
once per process, not once per subscriber.

Policies:
- slow consumer: a subscriber whose queue holds `queue_size` undelivered events is ended with
  `SlowConsumer` carrying the last `seq` it received; it resumes from there (memory stays bounded);
- the change stream fails (database restart, failover): it is reopened with backoff, and every
  subscriber then replays from the outbox what it may have missed, and goes on live without an
  error. If the database stays out of reach longer than `resume_window` seconds, subscribers end
  with `FeedUnavailable` carrying their last `seq`;
- a cursor after which events the subscriber may see are older than `cursor_lifetime` (7 days), or were removed
  by retention (≥ 5 years), is refused before subscribing (`reads.event_position`: CURSOR_EXPIRED; other
  tenants' events do not count). Queries are not limited by the window: events are history (R-AUD-2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from domain.services.reads import event_cursor
from domain.store.background import BackgroundTask
from domain.store.driver import Database, Document, is_transient
from domain.store.repositories.events import EVENTS, EventRepository

log = logging.getLogger("gateway.events")

Predicate = Callable[[Document], bool]
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_RESUME_WINDOW_S = 60.0
# R-EVT-2 (amended 2026-12): a subscription may resume only from a cursor whose later events are this recent.
DEFAULT_CURSOR_LIFETIME = timedelta(days=7)
REPLAY_PAGE = 500


@dataclass(eq=False)
class Delivery:
    """One committed event as a subscriber receives it; live ones are the same object for every local subscriber."""

    doc: Document
    shared: dict[Hashable, Any] = field(default_factory=dict)  # per-event work the presentation layer does once

    @property
    def seq(self) -> int:
        return int(self.doc["seq"])

    @cached_property
    def cursor(self) -> str:
        """The opaque resume position after this event (encoded once, whoever receives it)."""
        return event_cursor(self.seq)


class FeedInterrupted(Exception):
    """The feed ended before the subscriber left; it resumes after `last_seq`, the last event it received."""

    code = "FEED_INTERRUPTED"

    def __init__(self, message: str, last_seq: int) -> None:
        super().__init__(message)
        self.last_seq = last_seq


class SlowConsumer(FeedInterrupted):
    code = "SLOW_CONSUMER"


class FeedUnavailable(FeedInterrupted):
    code = "EVENTS_UNAVAILABLE"


@dataclass(eq=False)
class _Subscriber:
    accepts: Predicate
    queue: asyncio.Queue[Delivery | None]  # None only wakes the subscriber up to look at its flags
    overflowed: bool = False
    resync: bool = False  # the stream was reopened: replay from the outbox what may have been missed
    unavailable: bool = False

    def wake(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a full queue is being read: the flags are seen anyway
            self.queue.put_nowait(None)


@dataclass
class EventHub:
    events: EventRepository
    queue_size: int = DEFAULT_QUEUE_SIZE
    resume_window: float = DEFAULT_RESUME_WINDOW_S
    # R-EVT-2: how old the events a resuming subscriber would be replayed may be (older: CURSOR_EXPIRED).
    cursor_lifetime: timedelta = DEFAULT_CURSOR_LIFETIME
    # Told, for each delivery, the seconds from the hub receiving the event to its landing in a subscriber's queue
    # (the gateway feeds a histogram with it; the domain knows nothing of metrics).
    observer: Callable[[float], None] | None = None
    _subscribers: set[_Subscriber] = field(default_factory=set, init=False)
    _follower: BackgroundTask = field(init=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _opened: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._follower = BackgroundTask(self._follow, "event-hub")

    @property
    def db(self) -> Database:
        return self.events.db

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()
        self._ready.clear()

    def _on_open(self) -> None:
        self._opened += 1
        if self._opened > 1:  # reopened: what was committed while the stream was down is only in the outbox
            log.info("event change stream reopened; %d subscribers replay what they missed", self.subscribers)
            for subscriber in self._subscribers:
                subscriber.resync = True
                subscriber.wake()
        self._ready.set()

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        down_since: float | None = None
        delay = 0.5
        while True:
            try:
                async for doc in self.db.watch_inserts(EVENTS, opened=self._on_open):
                    down_since, delay = None, 0.5
                    self._dispatch(Delivery(doc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away; subscribers catch up from the outbox when it is back
                self._ready.clear()
                now = loop.time()
                down_since = now if down_since is None else down_since
                log.warning("event change stream failed (%s: %s); reopening it", type(exc).__name__, exc)
                if now - down_since > self.resume_window:
                    for subscriber in self._subscribers:
                        subscriber.unavailable = True
                        subscriber.wake()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _dispatch(self, delivery: Delivery) -> None:
        received = time.perf_counter()
        for subscriber in self._subscribers:
            if subscriber.overflowed or not subscriber.accepts(delivery.doc):
                continue
            try:
                subscriber.queue.put_nowait(delivery)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                continue
            if self.observer is not None:
                self.observer(time.perf_counter() - received)

    async def head(self) -> int:
        return await self.events.head()

    async def _until_ready(self, last: int) -> None:
        try:  # not wait_for: on Python 3.11 it drops a cancellation that comes as the wait ends (a closed socket)
            async with asyncio.timeout(self.resume_window):
                await self._ready.wait()
        except TimeoutError:
            raise FeedUnavailable("the event stream is unavailable; resume from the cursor later", last) from None

    async def _replay(self, filter: Mapping[str, Any], last: int) -> AsyncIterator[Document]:
        """Everything matching `filter` after `last` from the outbox, retrying while the database is away."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resume_window
        while True:
            try:
                docs = await self.events.after(filter, last, REPLAY_PAGE)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if loop.time() > deadline:
                    raise FeedUnavailable("the event store is unavailable; resume from the cursor later",
                                          last) from exc
                await asyncio.sleep(0.5)
                continue
            for doc in docs:
                last = doc["seq"]
                yield doc
            if len(docs) < REPLAY_PAGE:
                return

    async def subscribe(self, accepts: Predicate, replay_filter: Mapping[str, Any],
                        after: int | None) -> AsyncGenerator[Delivery, None]:
        """Every visible event after `after` (or from now), exactly once, in commit order, then live."""
        self.start()
        await self._until_ready(after or 0)
        # The starting point is fixed before registering, and everything after it is read from the outbox once
        # registered: an event committed in between is in the replay, the queue, or both (deduplicated).
        last = after if after is not None else await self.head()
        subscriber = _Subscriber(accepts, asyncio.Queue(self.queue_size))
        self._subscribers.add(subscriber)
        try:
            replay = True
            while True:
                if replay:
                    replay = False
                    async for doc in self._replay(replay_filter, last):
                        last = doc["seq"]
                        yield Delivery(doc)
                item = await subscriber.queue.get()
                if subscriber.unavailable:
                    raise FeedUnavailable("the event stream is unavailable; resume from the cursor later", last)
                if subscriber.overflowed:
                    raise SlowConsumer(f"fell more than {self.queue_size} events behind; resume from the cursor",
                                       last)
                if subscriber.resync:
                    subscriber.resync = False
                    await self._until_ready(last)
                    while not subscriber.queue.empty():  # all of it is in the outbox too: free it now
                        subscriber.queue.get_nowait()
                    replay = True
                    continue
                if item is None or item.seq <= last:
                    continue  # a wake-up, or already replayed
                last = item.seq
                yield item
        finally:
            self._subscribers.discard(subscriber)
