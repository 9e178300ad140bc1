"""Riding (domain.store.event_hub): idle subscribers of one group are sent their leader's frame, in commit order,
and whatever cannot ride (a send that would wait, a leader that leaves, a result that is not shared) reaches
them through their own queue, still in order and exactly once. A fake change stream: no database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from domain.store.event_hub import Delivery, EventHub

DEADLINE_S = 5.0


class FakeDb:
    def __init__(self) -> None:
        self.inserts: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def watch_inserts(self, _collection: str, opened: Callable[[], None]) -> AsyncIterator[dict[str, Any]]:
        opened()
        while True:
            yield await self.inserts.get()


class FakeEvents:
    def __init__(self) -> None:
        self.db = FakeDb()

    async def head(self) -> int:
        return 0

    async def after(self, _filter: object, _last: int, _limit: int) -> list[dict[str, Any]]:
        return []


class Member:
    """One subscriber: what it was given, by its own feed (`own`) or ridden, as seqs in arrival order."""

    def __init__(self, hub: EventHub, serve: bool = True) -> None:
        self.got: list[int] = []
        self.own: list[int] = []
        self.pending: asyncio.Future[None] | None = None  # set: the next ride waits on it
        self.serve = serve
        self.feed = hub.subscribe(lambda doc: True, {}, None, group="same", ride=self.ride)
        self.task = asyncio.ensure_future(self.consume())

    def ride(self, text: str) -> asyncio.Future[None] | None:
        self.got.append(int(text))
        pending, self.pending = self.pending, None
        return pending

    async def consume(self) -> None:
        async for delivery in self.feed:
            self.got.append(delivery.seq)
            self.own.append(delivery.seq)
            if self.serve:
                delivery.serve(str(delivery.seq))

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def started(n: int, **kwargs: Any) -> tuple[EventHub, FakeDb, list[Member]]:
    events = FakeEvents()
    hub = EventHub(cast(Any, events))
    members = [Member(hub, **kwargs) for _ in range(n)]
    await until(lambda: hub.subscribers == n and all(s.riding for s in hub._subscribers))
    return hub, events.db, members


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def commit(db: FakeDb, *seqs: int) -> None:
    for seq in seqs:
        db.inserts.put_nowait({"seq": seq, "entityType": "CUSTOMER"})


async def test_idle_subscribers_of_a_group_are_sent_the_leaders_frame_in_order_and_run_nothing_themselves() -> None:
    hub, db, members = await started(3)
    try:
        commit(db, 1, 2, 3)
        await until(lambda: all(len(m.got) == 3 for m in members))
        assert [m.got for m in members] == [[1, 2, 3]] * 3
        assert sorted(len(m.own) for m in members) == [0, 0, 3]  # one leader ran them; the others only rode
    finally:
        for m in members:
            await m.close()
        await hub.stop()


async def test_a_rider_whose_send_would_wait_goes_on_through_its_own_queue_after_that_send_in_order() -> None:
    hub, db, members = await started(3)
    try:
        commit(db, 1)
        await until(lambda: all(len(m.got) == 1 for m in members))
        rider = next(m for m in members if not m.own)
        rider.pending = held = asyncio.get_running_loop().create_future()
        commit(db, 2, 3, 4)
        await until(lambda: all(len(m.got) >= 2 for m in members))
        await asyncio.sleep(0.05)
        assert rider.got == [1, 2]  # 3 and 4 wait for its send of 2
        held.set_result(None)
        await until(lambda: all(len(m.got) == 4 for m in members))
        assert [m.got for m in members] == [[1, 2, 3, 4]] * 3
        assert rider.own == [3, 4]
        commit(db, 5)  # its queue emptied: it rides again
        await until(lambda: all(len(m.got) == 5 for m in members))
        assert rider.own == [3, 4]
    finally:
        for m in members:
            await m.close()
        await hub.stop()


async def test_riders_take_back_what_a_departing_leader_had_not_sent_them() -> None:
    hub, db, members = await started(3, serve=False)  # leaders that never serve: they only leave
    try:
        commit(db, 1, 2)
        await until(lambda: any(len(m.own) == 2 for m in members))
        leader = next(m for m in members if m.own)
        await leader.close()
        others = [m for m in members if m is not leader]
        await until(lambda: all(len(m.got) == 2 for m in others))
        assert [m.got for m in others] == [[1, 2]] * 2
        assert hub.subscribers == 2
    finally:
        for m in members:
            await m.close()
        await hub.stop()


async def test_a_result_that_is_not_shared_is_run_by_each_rider_itself() -> None:
    hub, db, members = await started(2)
    try:
        commit(db, 1)
        await until(lambda: all(len(m.got) == 1 for m in members))
        leader = next(m for m in members if m.own)
        rider = next(m for m in members if m is not leader)
        leader.serve = False
        commit(db, 2)
        await until(lambda: len(leader.own) == 2)
        carried = cast(Any, hub._leaders.get("same"))
        assert carried is not None and carried.carried  # served by nobody yet
        delivery: Delivery = carried.carried[0]
        delivery.serve(None)
        await until(lambda: len(rider.got) == 2)
        assert rider.got == [1, 2] and rider.own == [2]
    finally:
        for m in members:
            await m.close()
        await hub.stop()
