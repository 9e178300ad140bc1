"""The background work of customers, subscribers and workspaces (DOMAIN.md §17, R-DASH-2), read in one query for a
whole page of them (the loaders batch it)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.rules.background import BackgroundWork
from domain.rules.background import background_work as work_of
from domain.store.repositories import Repositories


async def background_work(repos: Repositories, entities: Sequence[tuple[str, str]]) -> list[BackgroundWork | None]:
    """For each (entity id, its status): its background work now, or None when it is idle. The caller has already
    made sure it may see these entities (they come from its own reads)."""
    jobs = await repos.jobs.of_entities([entity_id for entity_id, _ in entities]) if entities else {}
    return [work_of(status, jobs.get(entity_id, [])) for entity_id, status in entities]
