"""A bounded first-in-first-out inbox with one reader: what each event subscriber waits on.

`asyncio.Queue` would do, but it is built for many readers and writers: two deques of waiting getters and
putters, its buffer deque and an `Event` for `join`, about 3 KB before it holds anything. A gateway holds one
per subscribed socket, thousands of them idle. This holds a list and, while its reader waits, one future.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    __slots__ = ("_items", "_waiter", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: list[T] = []
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        """Add `item` at the end; asyncio.QueueFull (and nothing added) when `maxsize` items wait already."""
        if len(self._items) >= self.maxsize:
            raise asyncio.QueueFull
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> T:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> T:
        """The first item, once there is one. Cancelled while it waits, it takes nothing out."""
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("an Inbox has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)
