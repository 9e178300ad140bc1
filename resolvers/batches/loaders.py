"""Per-request DataLoaders of subscriber batches: each customer's first page and count, batched across every customer
of a page into one query each (`Customer.subscriberBatches`)."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from domain.rules.pagination import Page, PageRequest
from domain.store.repositories import Repositories


@dataclass(frozen=True)
class BatchPageKey:
    customer_id: str
    request: PageRequest


class BatchLoaders:
    def __init__(self, repos: Repositories) -> None:
        self._repos = repos
        self.page = DataLoader(self._pages)
        self.count = DataLoader(self._counts)

    async def _pages(self, keys: list[BatchPageKey]) -> list[Page]:
        groups: dict[PageRequest, list[BatchPageKey]] = {}
        for key in keys:
            groups.setdefault(key.request, []).append(key)
        pages: dict[BatchPageKey, Page] = {}
        for request, members in groups.items():
            found = await self._repos.batches.first_pages([k.customer_id for k in members], request)
            for key in members:
                pages[key] = found[key.customer_id]
        return [pages[k] for k in keys]

    async def _counts(self, customer_ids: list[str]) -> list[int]:
        found = await self._repos.batches.counts_by_customer(customer_ids)
        return [found.get(c, 0) for c in customer_ids]
