"""Customer locations (DOMAIN.md §6, R-LOCN-1/2)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.model import entities as models
from domain.store.driver import Document
from domain.store.repositories import Repositories
from resolvers.common import Address, Node
from resolvers.context import Info
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from resolvers.customers.types import CustomerType


class LocationCounts:
    """Per-request loaders of what sits at each location: one aggregation per batch of locations."""

    def __init__(self, repos: Repositories) -> None:
        self._repos = repos
        self.subscribers = DataLoader(self._subscribers)
        self.workspaces = DataLoader(self._workspaces)

    async def _subscribers(self, ids: list[str]) -> list[int]:
        counts = await self._repos.locations.subscriber_counts(ids)
        return [counts.get(i, 0) for i in ids]

    async def _workspaces(self, ids: list[str]) -> list[int]:
        counts = await self._repos.locations.workspace_counts(ids)
        return [counts.get(i, 0) for i in ids]


# Kept beside the request's loaders (and dropped with them), so a count is never served to another request.
_COUNTS: weakref.WeakKeyDictionary[Loaders, LocationCounts] = weakref.WeakKeyDictionary()


def location_counts(info: Info) -> LocationCounts:
    loaders = info.context.loaders
    counts = _COUNTS.get(loaders)
    if counts is None:
        counts = _COUNTS[loaders] = LocationCounts(info.context.repos)
    return counts


@strawberry.type(name="Location")
class LocationType(Node):
    model: strawberry.Private[models.Location]
    id: strawberry.ID
    name: str
    address: Address
    timezone: str
    language: str
    is_headquarters: bool
    emergency_location_identifier: str | None
    version: int = strawberry.field(description="Bumped by every change of the location (R-LOCN-1).")

    @classmethod
    def of_doc(cls, doc: Document) -> LocationType:
        return cls.of(models.Location.from_doc(doc))

    @classmethod
    def of(cls, loc: models.Location) -> LocationType:
        return cls(model=loc, id=strawberry.ID(loc.id), name=loc.name, address=Address.of(loc.address),
                   timezone=loc.timezone, language=loc.language, is_headquarters=loc.is_headquarters,
                   emergency_location_identifier=loc.emergency_location_identifier, version=loc.version)

    @strawberry.field(description="The customer it belongs to.")
    async def customer(
        self, info: Info
    ) -> Annotated[CustomerType, strawberry.lazy("resolvers.customers.types")]:
        from resolvers.customers.types import CustomerType

        doc = await info.context.loaders.visible_customer.load(self.model.customer_id)
        assert doc is not None, f"location {self.model.id} is visible but its customer is not"
        return CustomerType.of_doc(doc)

    @strawberry.field(description="Subscribers placed at this location, in any status (R-LOCN-2).")
    async def subscriber_count(self, info: Info) -> int:
        return await location_counts(info).subscribers.load(self.model.id)

    @strawberry.field(description="Workspaces placed at this location, in any status (R-LOCN-2).")
    async def workspace_count(self, info: Info) -> int:
        return await location_counts(info).workspaces.load(self.model.id)
