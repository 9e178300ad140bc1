"""Live provisioning events (R-EVT-2/3): one change stream per process, fanned out in memory.

A subscriber registers a predicate (its scope and filter, applied before anything is serialised)
and a bounded queue. Resuming after a cursor is scan-then-live: the subscriber is registered first,
then every later visible event is read from the outbox by `seq`, then the live queue takes over;
events seen in both are dropped by `seq`, so there is no gap and no duplicate at the seam.
A subscriber that falls more than `queue_size` events behind is ended (slow-consumer policy): it
gets `SlowConsumer` with the last cursor it received and resumes from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.driver import Database, Document
from domain.events import EVENTS

log = logging.getLogger("gateway.events")

Predicate = Callable[[Document], bool]
DEFAULT_QUEUE_SIZE = 1000


class SlowConsumer(Exception):
    """The subscriber fell too far behind; it should resume from its last cursor."""


@dataclass(eq=False)
class _Subscriber:
    accepts: Predicate
    queue: asyncio.Queue[Document]
    overflowed: bool = False


@dataclass
class EventHub:
    db: Database
    queue_size: int = DEFAULT_QUEUE_SIZE
    _subscribers: set[_Subscriber] = field(default_factory=set, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self) -> None:
        while True:
            try:
                stream = self.db.watch_inserts(EVENTS)
                self._ready.set()
                async for doc in stream:
                    self._dispatch(doc)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: subscribers resume from the outbox when it is back
                log.exception("event change stream failed; reopening it")
                self._ready.clear()
                for subscriber in list(self._subscribers):
                    subscriber.overflowed = True
                    with contextlib.suppress(asyncio.QueueFull):
                        subscriber.queue.put_nowait({})
                await asyncio.sleep(1)

    def _dispatch(self, doc: Document) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.overflowed or not subscriber.accepts(doc):
                continue
            try:
                subscriber.queue.put_nowait(doc)
            except asyncio.QueueFull:
                subscriber.overflowed = True

    async def head(self) -> int:
        docs = await self.db.find(EVENTS, {}, sort=[("seq", -1)], limit=1, projection={"seq": 1})
        return int(docs[0]["seq"]) if docs else 0

    async def subscribe(self, accepts: Predicate, replay_filter: Mapping[str, Any],
                        after: int | None) -> AsyncIterator[Document]:
        """Every visible event after `after` (or from now), exactly once, in commit order, then live."""
        self.start()
        await asyncio.wait_for(self._ready.wait(), 30)
        # The starting point is fixed before registering, and everything after it is read from the outbox once
        # registered: an event committed in between is in the replay, the queue, or both (deduplicated).
        last = after if after is not None else await self.head()
        subscriber = _Subscriber(accepts, asyncio.Queue(self.queue_size))
        self._subscribers.add(subscriber)
        try:
            while True:  # replay in pages from the outbox
                docs = await self.db.find(EVENTS, {"$and": [dict(replay_filter), {"seq": {"$gt": last}}]},
                                          sort=[("seq", 1)], limit=500)
                for doc in docs:
                    last = doc["seq"]
                    yield doc
                if len(docs) < 500:
                    break
            while True:
                doc = await subscriber.queue.get()
                if subscriber.overflowed:
                    raise SlowConsumer(f"fell behind after seq {last}")
                if doc["seq"] <= last:
                    continue  # already replayed
                last = doc["seq"]
                yield doc
        finally:
            self._subscribers.discard(subscriber)


def compile_filter(filter: Mapping[str, Any]) -> Predicate:
    """The Python twin of the simple Mongo filters the read side builds ($and, equality, $in)."""
    if "$and" in filter:
        parts = [compile_filter(f) for f in filter["$and"]]
        return lambda doc: all(p(doc) for p in parts)
    checks: list[Predicate] = []
    for key, condition in filter.items():
        if isinstance(condition, Mapping):
            if set(condition) != {"$in"}:
                raise ValueError(f"unsupported condition on {key}: {condition}")
            allowed = set(condition["$in"])
            checks.append(lambda doc, k=key, a=allowed: doc.get(k) in a)  # type: ignore[misc]
        else:
            checks.append(lambda doc, k=key, v=condition: doc.get(k) == v)  # type: ignore[misc]
    return lambda doc: all(c(doc) for c in checks)
