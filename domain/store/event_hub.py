"""Live provisioning events (R-EVT-2/3): one change stream per process, fanned out in memory.

A subscriber registers a predicate (its scope and filter, applied before anything is serialised)
and a bounded queue. Resuming after a cursor is scan-then-live: the subscriber is registered first,
then every later visible event is read from the outbox by `seq`, then the live queue takes over;
events seen in both are dropped by `seq`, so there is no gap and no duplicate at the seam.

Live events reach every local subscriber that may see them as one shared `Delivery`, so work that
depends only on the event and on what is asked of it (running the selection, encoding it) is done
once per process, not once per subscriber.

Riding (the fan-out's fast path): subscribers that give a `group` (what they see and what they ask, equal:
the presentation layer's key) and a `ride` (send a frame now, without a task) are woken for nothing while
they keep up. Of an idle group, one subscriber, the leader, receives each live event through its queue and
runs it as usual; the others, idle too, are its riders: once the leader's frame exists (`Delivery.serve`,
with the encoded result), each rider is sent it in the same step, in commit order. A rider whose send would
wait (its socket's buffer is full), a leader that falls behind, leaves, or whose result cannot be shared
(`serve(None)`), hand the events back: each rider then receives them through its own queue, in order,
exactly as a subscriber that never rode, and rides again once its queue is empty.

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
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from domain.services.reads import event_cursor
from domain.store.background import BackgroundTask
from domain.store.driver import Database, Document, is_transient
from domain.store.inbox import Inbox
from domain.store.repositories.events import EVENTS, EventRepository

log = logging.getLogger("gateway.events")

Predicate = Callable[[Document], bool]
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_RESUME_WINDOW_S = 60.0
# R-EVT-2 (amended 2026-12): a subscription may resume only from a cursor whose later events are this recent.
DEFAULT_CURSOR_LIFETIME = timedelta(days=7)
REPLAY_PAGE = 500
# A leader holding this many undelivered events hands its riders back (they go on, each at its own pace).
LEADER_BACKLOG = 8
# Sends the encoded result of an event to one rider now: None once sent, else an awaitable for the send still
# under way (nothing more may be sent to that subscriber before it is done).
Ride = Callable[[str], Awaitable[None] | None]


@dataclass(eq=False)
class Delivery:
    """One committed event as a subscriber receives it; live ones are the same object for every local subscriber."""

    doc: Document
    shared: dict[Hashable, Any] = field(default_factory=dict)  # per-event work the presentation layer does once
    # Only on a leader's own copy: its riders, until served or handed back (EventHub).
    riders: list[_Subscriber] | None = None
    serve_riders: Callable[[str | None], None] | None = None

    @property
    def seq(self) -> int:
        return int(self.doc["seq"])

    def serve(self, text: str | None) -> None:
        """The leader's frame exists: `text` is its encoded result, sent to every rider; None when it is not to be
        shared (each rider then receives the event through its own queue). Once; later calls do nothing."""
        if self.serve_riders is not None:
            serve, self.serve_riders = self.serve_riders, None
            serve(text)

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


@dataclass(eq=False, slots=True)
class _Subscriber:
    accepts: Predicate
    queue: Inbox[Delivery | None]  # None only wakes the subscriber up to look at its flags
    overflowed: bool = False
    resync: bool = False  # the stream was reopened: replay from the outbox what may have been missed
    unavailable: bool = False
    last: int = 0  # seq of the last event it was given (through its queue, or ridden)
    group: Hashable | None = None  # subscribers that may ride with each other (None: never rides)
    ride: Ride | None = None
    riding: bool = False  # idle with an empty queue: live events are sent to it by its group's leader
    barrier: Awaitable[None] | None = None  # a ridden send still under way: awaited before its next event
    carried: list[Delivery] = field(default_factory=list)  # as a leader: events whose riders it has not served
    gone: bool = False

    def wake(self) -> None:
        self.riding = False
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
    # Called with every committed event first (e.g. to forget records read a moment ago that it changed).
    on_event: Callable[[Document], None] | None = None
    _subscribers: set[_Subscriber] = field(default_factory=set, init=False)
    _leaders: dict[Hashable, _Subscriber] = field(default_factory=dict, init=False)
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
            for leader in self._leaders.values():  # every rider replays from its own last event instead
                for carried in leader.carried:
                    carried.riders = carried.serve_riders = None
                leader.carried = []
            self._leaders.clear()
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
        if self.on_event is not None:
            self.on_event(delivery.doc)
        groups: dict[Hashable, list[_Subscriber]] = {}
        led: set[Hashable] = set()  # groups whose leader takes this event
        for subscriber in self._subscribers:
            if subscriber.overflowed or not subscriber.accepts(delivery.doc):
                continue
            group = subscriber.group
            if group is not None and (subscriber.riding or self._leaders.get(group) is subscriber):
                groups.setdefault(group, []).append(subscriber)
                if self._leaders.get(group) is subscriber:
                    led.add(group)
            else:
                self._put(subscriber, delivery)
            if self.observer is not None:
                self.observer(time.perf_counter() - received)
        for group, members in groups.items():
            self._carry(group, members, group in led, delivery)

    def _put(self, subscriber: _Subscriber, delivery: Delivery) -> bool:
        subscriber.riding = False
        try:
            subscriber.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            subscriber.overflowed = True
            return False
        return True

    def _carry(self, group: Hashable, members: list[_Subscriber], led: bool, delivery: Delivery) -> None:
        """One live event for the idle members of a group (and its leader, when it takes it): the leader receives
        it, the others ride."""
        leader = self._leaders.get(group)
        if leader is not None and (not led or leader.queue.qsize() >= LEADER_BACKLOG):
            self._abdicate(leader)  # its riders are handed back what it carried; they take this one themselves too
            leader = None
        riders: list[_Subscriber] = []
        for member in members:
            if member is leader:
                continue
            if member.riding:
                riders.append(member)
            else:
                self._put(member, delivery)
        if leader is None:
            if not riders:
                return
            leader = self._leaders[group] = riders.pop()
        if not riders:
            self._put(leader, delivery)
            return
        carried = Delivery(delivery.doc, delivery.shared, riders=riders)
        carried.serve_riders = lambda text: self._serve(leader, carried, text)
        leader.carried.append(carried)
        if not self._put(leader, carried):
            self._abdicate(leader)

    def _abdicate(self, leader: _Subscriber) -> None:
        """The leader stops leading: each of its riders receives what it had not been sent yet, in order, itself."""
        if self._leaders.get(leader.group) is leader:
            del self._leaders[leader.group]
        carried, leader.carried = leader.carried, []
        for delivery in carried:
            riders = delivery.riders or []
            delivery.riders = delivery.serve_riders = None
            plain = Delivery(delivery.doc, delivery.shared)
            for rider in riders:
                if not rider.gone:
                    self._put(rider, plain)

    def _serve(self, leader: _Subscriber, carried: Delivery, text: str | None) -> None:
        if text is None:  # not shareable: this event and the rest of what the leader carries go back to the riders
            self._abdicate(leader)
            return
        with contextlib.suppress(ValueError):
            leader.carried.remove(carried)  # the first one: served in order
        riders, carried.riders = carried.riders or [], None
        for rider in riders:
            if rider.gone:
                continue
            try:
                pending = rider.ride(text) if rider.ride is not None else None
            except Exception:  # never the others' loss: this rider is dropped, its socket's read loop ends it
                log.exception("sending an event to a riding subscriber failed")
                rider.gone = True
                continue
            rider.last = carried.seq
            if pending is not None:  # its socket is behind: it goes on through its own queue, after this send
                rider.barrier = pending
                self._unride(rider, leader)

    def _unride(self, rider: _Subscriber, leader: _Subscriber) -> None:
        """`rider` stops riding: what `leader` still carries for it is put in its own queue, in order."""
        rider.riding = False
        plain: Delivery | None = None
        for delivery in leader.carried:
            if delivery.riders is not None and rider in delivery.riders:
                delivery.riders.remove(rider)
                plain = Delivery(delivery.doc, delivery.shared)
                self._put(rider, plain)

    def _leave(self, subscriber: _Subscriber) -> None:
        subscriber.gone = True
        self._subscribers.discard(subscriber)
        if subscriber.carried or self._leaders.get(subscriber.group) is subscriber:
            self._abdicate(subscriber)

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

    async def subscribe(self, accepts: Predicate, replay_filter: Mapping[str, Any], after: int | None, *,
                        group: Hashable | None = None, ride: Ride | None = None) -> AsyncGenerator[Delivery, None]:
        """Every visible event after `after` (or from now), exactly once, in commit order, then live.

        With a `group` and a `ride`, live events may be sent to it by another subscriber of the group (riding,
        see the module's docstring) rather than yielded here; `group` must then stand for everything a live
        event's frame depends on (what `accepts` admits, the selection, the scope)."""
        self.start()
        await self._until_ready(after or 0)
        # The starting point is fixed before registering, and everything after it is read from the outbox once
        # registered: an event committed in between is in the replay, the queue, or both (deduplicated).
        last = after if after is not None else await self.head()
        subscriber = _Subscriber(accepts, Inbox(self.queue_size), last=last,
                                 group=group if ride is not None else None, ride=ride)
        self._subscribers.add(subscriber)
        try:
            replay = True
            while True:
                if replay:
                    replay = False
                    async for doc in self._replay(replay_filter, subscriber.last):
                        await self._settled(subscriber)
                        subscriber.last = doc["seq"]
                        yield Delivery(doc)
                if subscriber.group is not None and subscriber.queue.empty():
                    subscriber.riding = True  # everything before was sent: the group's leader may send the next
                item = await subscriber.queue.get()
                subscriber.riding = False
                if subscriber.unavailable:
                    raise FeedUnavailable("the event stream is unavailable; resume from the cursor later",
                                          subscriber.last)
                if subscriber.overflowed:
                    raise SlowConsumer(f"fell more than {self.queue_size} events behind; resume from the cursor",
                                       subscriber.last)
                if subscriber.resync:
                    subscriber.resync = False
                    await self._until_ready(subscriber.last)
                    while not subscriber.queue.empty():  # all of it is in the outbox too: free it now
                        subscriber.queue.get_nowait()
                    replay = True
                    continue
                if item is None or item.seq <= subscriber.last:
                    continue  # a wake-up, or already replayed
                await self._settled(subscriber)
                subscriber.last = item.seq
                yield item
        finally:
            self._leave(subscriber)

    @staticmethod
    async def _settled(subscriber: _Subscriber) -> None:
        """Until a ridden send to `subscriber` that was still under way is done (its events stay in order)."""
        if subscriber.barrier is not None:
            barrier, subscriber.barrier = subscriber.barrier, None
            with contextlib.suppress(Exception):  # a failed send is the socket's end, seen by its read loop
                await barrier
