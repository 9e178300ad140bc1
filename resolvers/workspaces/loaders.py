"""Per-request DataLoaders of workspaces: by id (as the caller may see them) and each customer's first page and count,
batched across every customer of a page into one query each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from domain.rules.pagination import Page, PageRequest
from domain.rules.tenancy import Caller
from domain.services.workspaces import visible_workspaces
from domain.store.driver import Document
from domain.store.repositories import Repositories


@dataclass(frozen=True)
class WorkspacePageKey:
    customer_id: str
    request: PageRequest


class WorkspaceLoaders:
    def __init__(self, repos: Repositories, caller: Callable[[], Awaitable[Caller]]) -> None:
        self._repos = repos
        self._caller = caller
        self.visible = DataLoader(self._visible)
        self.page = DataLoader(self._pages)
        self.count = DataLoader(self._counts)
        self.held = DataLoader(self._held)

    async def _visible(self, ids: list[str]) -> list[Document | None]:
        return await visible_workspaces(self._repos, await self._caller(), ids)

    async def _pages(self, keys: list[WorkspacePageKey]) -> list[Page]:
        groups: dict[Hashable, list[WorkspacePageKey]] = {}
        for key in keys:
            groups.setdefault(key.request, []).append(key)
        pages: dict[WorkspacePageKey, Page] = {}
        for request, members in groups.items():
            assert isinstance(request, PageRequest)
            found = await self._repos.workspaces.first_pages([k.customer_id for k in members], request)
            for key in members:
                pages[key] = found[key.customer_id]
        return [pages[k] for k in keys]

    async def _counts(self, customer_ids: list[str]) -> list[int]:
        found = await self._repos.workspaces.counts_by_customer(customer_ids)
        return [found.get(c, 0) for c in customer_ids]

    async def _held(self, customer_ids: list[str]) -> list[int]:
        """Workspaces holding common_area_calling, per customer (its `assigned`)."""
        found = await self._repos.workspaces.holding_counts(customer_ids)
        return [found.get(c, 0) for c in customer_ids]
