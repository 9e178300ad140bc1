"""The event subscriber's inbox (domain/store/inbox.py): bounded, first in first out, one reader."""

from __future__ import annotations

import asyncio
import sys

import pytest

from domain.store.inbox import Inbox


async def test_items_come_out_in_the_order_they_went_in_and_a_full_inbox_refuses_more() -> None:
    inbox: Inbox[int] = Inbox(3)
    for i in range(3):
        inbox.put_nowait(i)
    with pytest.raises(asyncio.QueueFull):
        inbox.put_nowait(3)
    assert inbox.qsize() == 3
    assert [await inbox.get(), inbox.get_nowait(), await inbox.get()] == [0, 1, 2]
    assert inbox.empty()
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()


async def test_a_waiting_reader_gets_what_is_put_later() -> None:
    inbox: Inbox[str] = Inbox(2)
    reading = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reading.done()
    inbox.put_nowait("event")
    assert await asyncio.wait_for(reading, 1) == "event"


async def test_a_reader_cancelled_while_waiting_takes_nothing_and_the_next_one_gets_it() -> None:
    inbox: Inbox[str] = Inbox(2)
    reading = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    inbox.put_nowait("event")
    assert await inbox.get() == "event"


async def test_a_second_reader_at_once_is_refused() -> None:
    inbox: Inbox[str] = Inbox(2)
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await inbox.get()
    inbox.put_nowait("event")
    assert await first == "event"


def test_an_empty_inbox_is_a_fraction_of_an_asyncio_queue() -> None:
    def size(obj: object) -> int:
        return sys.getsizeof(obj) + sum(sys.getsizeof(v) for v in getattr(obj, "__dict__", {}).values())

    inbox: Inbox[int] = Inbox(100)
    ours = sys.getsizeof(inbox) + sys.getsizeof(inbox._items)
    assert ours * 5 < size(asyncio.Queue(100))
