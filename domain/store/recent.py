"""Records read moments ago, for the reads every request repeats: the caller's org, a page's owners and templates.

A dashboard asks for the same few partners and templates with every request; reading them each time costs a
database round trip per request and a model validation per record. `Recent` keeps each record it was handed for
`ttl` seconds (wall clock), and no longer:

* a write through the owning repository forgets the record at once (and any read already on its way back is not
  kept, so it cannot put the old version back);
* a committed change of that record in any process forgets it when its event reaches this process's event hub
  (the runtime wires `Repositories.forget_changed`), which covers writes made elsewhere;
* `ttl` bounds what either could miss (the hub reconnecting, a write that records no event).

Only reads that show a record or identify the caller use it. A use case that decides on a record's state reads it
from the database, as before.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

M = TypeVar("M")

DEFAULT_TTL_S = 2.0
DEFAULT_LIMIT = 10_000  # records kept at most; beyond it everything is dropped (a cache, not a copy)


class Recent(Generic[M]):
    def __init__(self, ttl_s: float = DEFAULT_TTL_S, limit: int = DEFAULT_LIMIT,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.limit = limit
        self._now = now
        self._kept: dict[str, tuple[float, M]] = {}
        self._generation = 0  # moves on at every forget: a read that started before one is not kept

    def split(self, ids: Sequence[str]) -> tuple[dict[str, M], list[str], int]:
        """The records still fresh, the ids to read, and the generation to hand `keep` with what was read."""
        now = self._now()
        found: dict[str, M] = {}
        missing: list[str] = []
        for record_id in ids:
            entry = self._kept.get(record_id)
            if entry is not None and now - entry[0] < self.ttl_s:
                found[record_id] = entry[1]
            elif record_id not in missing:
                missing.append(record_id)
        return found, missing, self._generation

    def keep(self, records: Mapping[str, M], generation: int) -> None:
        """Keep what a read returned, unless something was forgotten since it started."""
        if generation != self._generation or not records:
            return
        if len(self._kept) + len(records) > self.limit:
            self._kept.clear()
        at = self._now()
        for record_id, record in records.items():
            self._kept[record_id] = (at, record)

    def forget(self, ids: Iterable[str]) -> None:
        self._generation += 1
        for record_id in ids:
            self._kept.pop(record_id, None)

    async def read_through(self, ids: Sequence[str], read: Callable[[list[str]], Awaitable[Mapping[str, M]]]
                           ) -> dict[str, M]:
        """The records of `ids` found (absent ones left out): the fresh ones kept, the others `read` and kept."""
        found, missing, generation = self.split(ids)
        if missing:
            fetched = await read(missing)
            self.keep(fetched, generation)
            found.update(fetched)
        return found
