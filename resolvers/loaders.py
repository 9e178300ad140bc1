"""Per-request DataLoaders: each batches one kind of lookup into a single `$in` query or aggregation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

from domain.model.entities import OnboardingTemplate, Partner
from domain.model.workspaces import WORKSPACE_PACKAGE
from domain.rules.background import BackgroundWork
from domain.rules.pagination import Page, PageRequest
from domain.rules.tenancy import Caller
from domain.services import background, reads
from domain.store.driver import Document
from domain.store.repositories import Repositories
from domain.store.repositories.subscribers import SUBSCRIBER_ORDERS, SubscriberCriteria
from resolvers.batches.loaders import BatchLoaders
from resolvers.plan import Later
from resolvers.workspaces.loaders import WorkspaceLoaders


@dataclass(frozen=True)
class SubscriberPageKey:
    customer_id: str
    criteria: SubscriberCriteria
    order: str
    request: PageRequest

    def batch(self) -> Hashable:
        return (self.criteria, self.order, self.request)


@dataclass(frozen=True)
class SubscriberCountKey:
    customer_id: str
    criteria: SubscriberCriteria


CallerFn = Callable[[], Awaitable[Caller]]
K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def now_or_later(loader: DataLoader[K, V], key: K, convert: Callable[[V], R]) -> R | Later:
    """`convert` of the loader's value for `key`: at once when the loader already holds it, else a `Later` of it.

    A field answered at once costs graphql-core no task and no await; fifty customers' owners awaited one
    by one cost fifty tasks per page. Lists prefetch what their items will ask for (`prefetch`). A leaf's `Later`
    (a count) lets a planned execution complete the rest of the page while the database computes it.
    """
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())
    return Later(loader.load(key), convert)


def selected_names(selections: Iterable[Selection], path: Sequence[str]) -> set[str]:
    """The field names selected at `path` (e.g. ("edges", "node")) under `selections`, fragments included."""
    names: set[str] = set()
    pending: list[tuple[Iterable[Selection], Sequence[str]]] = [(selections, path)]
    while pending:
        current, rest = pending.pop()
        for selection in current:
            if not isinstance(selection, SelectedField):  # a fragment: its fields are at the same level
                pending.append((selection.selections, rest))
            elif not rest:
                names.add(selection.name)
            elif selection.name == rest[0]:
                pending.append((selection.selections, rest[1:]))
    return names


def selected_fields(selections: Iterable[Selection], path: Sequence[str]) -> list[SelectedField]:
    """The fields selected at `path` (its last name is the field's), under `selections`, fragments included."""
    found: list[SelectedField] = []
    pending: list[tuple[Iterable[Selection], Sequence[str]]] = [(selections, path)]
    while pending:
        current, rest = pending.pop()
        for selection in current:
            if not isinstance(selection, SelectedField):
                pending.append((selection.selections, rest))
            elif selection.name == rest[0]:
                if len(rest) == 1:
                    found.append(selection)
                else:
                    pending.append((selection.selections, rest[1:]))
    return found


def made_once(made: dict[tuple[str, str], object], kind: str, id: str, make: Callable[[], R]) -> R:
    """The API object of record `id` of `kind` built once per request (`Loaders.made`), then shared."""
    key = (kind, id)
    if key not in made:
        made[key] = make()
    return made[key]  # type: ignore[return-value]


class Loaders:
    def __init__(self, repos: Repositories, caller: CallerFn) -> None:
        self._repos = repos
        self._caller = caller
        # Related objects of an object the caller already sees (its owner, template, locations...)
        self.partner_by_id = DataLoader(self._partners)
        self.template_by_id = DataLoader(self._templates)
        self.locations_by_customer = DataLoader(self._locations_by_customer)
        self.assigned_by_customer = DataLoader(self._assigned_by_customer)
        self.subscriber_page = DataLoader(self._subscriber_pages)
        self.subscriber_count = DataLoader(self._subscriber_counts)
        self.subscriber_stats = DataLoader(self._subscriber_stats)
        # R-DASH-2: keyed by (entity id, its status); a page of entities is one query of their jobs.
        self.background_work = DataLoader(self._background_work)
        # Entry points by id: narrowed to what the caller may see (R-ORG-6)
        self.visible_partner = DataLoader(self._visible_partners)
        self.visible_customer = DataLoader(self._visible(reads.Record.CUSTOMER))
        self.visible_subscriber = DataLoader(self._visible(reads.Record.SUBSCRIBER))
        self.visible_location = DataLoader(self._visible(reads.Record.LOCATION))
        self.visible_template = DataLoader(self._visible(reads.Record.TEMPLATE))
        self.visible_billing_report = DataLoader(self._visible(reads.Record.BILLING_REPORT))
        self.workspaces = WorkspaceLoaders(repos, caller)  # R-WS: by id, and each customer's page and count
        # API objects made from loaded records, by (kind, id): a page's fifty customers share their few owners'.
        self.made: dict[tuple[str, str], object] = {}
        self.batches = BatchLoaders(repos)  # R-BULK: each customer's page of batches and their count

    async def _partners(self, ids: list[str]) -> list[Partner | None]:
        found = await self._repos.partners.recent_by_ids(ids)  # shown: as read a moment ago at most
        return [found.get(i) for i in ids]

    async def _templates(self, ids: list[str]) -> list[OnboardingTemplate | None]:
        found = await self._repos.templates.recent_by_ids(ids)  # shown: as read a moment ago at most
        return [found.get(i) for i in ids]

    async def _locations_by_customer(self, customer_ids: list[str]) -> list[list[Document]]:
        grouped = await self._repos.locations.by_customers(customer_ids)
        return [grouped.get(c, []) for c in customer_ids]

    async def _subscriber_stats(self, customer_ids: list[str]) -> list[tuple[int, dict[str, int]]]:
        """Each customer's subscriber count (unfiltered) and the subscribers holding each of its packages: the two
        things a dashboard's customer asks of its subscribers, in one command for a page of customers."""
        totals, held = await self._repos.subscribers.stats(customer_ids)
        per_customer: dict[str, dict[str, int]] = {c: {} for c in customer_ids}
        for (customer_id, package), n in held.items():
            per_customer[customer_id][package] = n
        return [(totals.get(c, 0), per_customer[c]) for c in customer_ids]

    async def _assigned_by_customer(self, customer_ids: list[str]) -> list[dict[str, int]]:
        # The two reads at once: neither needs the other, and each would otherwise wait out the other's round trip.
        stats, holding = await asyncio.gather(self.subscriber_stats.load_many(customer_ids),
                                              self._repos.workspaces.holding_counts(customer_ids))
        per_customer = {c: dict(held) for c, (_, held) in zip(customer_ids, stats, strict=True)}
        # R-WS-1: common_area_calling is held by workspaces (its limit counts them).
        for customer_id, n in holding.items():
            per_customer[customer_id][WORKSPACE_PACKAGE] = n
        return [per_customer[c] for c in customer_ids]

    async def _subscriber_pages(self, keys: list[SubscriberPageKey]) -> list[Page]:
        groups: dict[Hashable, list[SubscriberPageKey]] = {}
        for key in keys:
            groups.setdefault(key.batch(), []).append(key)
        pages: dict[SubscriberPageKey, Page] = {}
        for members in groups.values():
            head = members[0]
            found = await self._repos.subscribers.first_pages(
                [k.customer_id for k in members], head.criteria.to_filter(), SUBSCRIBER_ORDERS[head.order],
                head.request,
            )
            for key in members:
                pages[key] = found[key.customer_id]
        return [pages[k] for k in keys]

    async def _subscriber_counts(self, keys: list[SubscriberCountKey]) -> list[int]:
        groups: dict[SubscriberCriteria, list[SubscriberCountKey]] = {}
        for key in keys:
            groups.setdefault(key.criteria, []).append(key)
        counts: dict[SubscriberCountKey, int] = {}
        for criteria, members in groups.items():
            if not criteria.to_filter():  # every subscriber: the count comes with the package counts (one command)
                stats = await self.subscriber_stats.load_many([k.customer_id for k in members])
                counts.update((key, total) for key, (total, _) in zip(members, stats, strict=True))
                continue
            found = await self._repos.subscribers.counts_by_customer(
                [k.customer_id for k in members], criteria.to_filter())
            for key in members:
                counts[key] = found.get(key.customer_id, 0)
        return [counts[k] for k in keys]

    async def _background_work(self, keys: list[tuple[str, str]]) -> list[BackgroundWork | None]:
        return await background.background_work(self._repos, keys)

    async def _visible_partners(self, ids: list[str]) -> Sequence[Partner | None]:
        return await reads.partners_by_ids(self._repos, await self._caller(), ids)

    def _visible(self, record: reads.Record) -> Callable[[list[str]], Awaitable[list[Document | None]]]:
        async def load(ids: list[str]) -> list[Document | None]:
            return await reads.visible_by_ids(self._repos, await self._caller(), record, ids)

        return load


