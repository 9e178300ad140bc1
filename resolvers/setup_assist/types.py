"""Setup Assist requests as the API shows them (DOMAIN.md §18, R-SA-1/2)."""

from __future__ import annotations

import weakref
from datetime import date, datetime

import strawberry
from strawberry.dataloader import DataLoader

from domain.model.entities import Location
from domain.model.setup_assist import SetupAssistRequest
from domain.services import reads
from domain.store.driver import Document
from resolvers.common import Node
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.enums import SetupAssistSku, SetupAssistStatus
from resolvers.loaders import Loaders


class SetupAssistLoaders:
    """Per-request loaders: a batch of customers' requests in one query; requests by id as the caller may see them."""

    def __init__(self, info: Info) -> None:
        self._info = info
        self.by_customer = DataLoader(self._by_customer)
        self.visible = DataLoader(self._visible)

    async def _by_customer(self, customer_ids: list[str]) -> list[list[Document]]:
        grouped = await self._info.context.repos.setup_assist.by_customers(customer_ids)
        return [grouped.get(c, []) for c in customer_ids]

    async def _visible(self, ids: list[str]) -> list[Document | None]:
        context = self._info.context
        return await reads.visible_by_ids(context.repos, await context.caller(), reads.Record.SETUP_ASSIST, ids)


_LOADERS: weakref.WeakKeyDictionary[Loaders, SetupAssistLoaders] = weakref.WeakKeyDictionary()


def setup_assist_loaders(info: Info) -> SetupAssistLoaders:
    """The request's Setup Assist loaders (made on first use, dropped with the request's other loaders)."""
    loaders = info.context.loaders
    found = _LOADERS.get(loaders)
    if found is None:
        found = _LOADERS[loaders] = SetupAssistLoaders(info)
    return found


@strawberry.type(name="SetupAssistRequest")
class SetupAssistRequestType(Node):
    model: strawberry.Private[SetupAssistRequest]
    id: strawberry.ID
    sku: SetupAssistSku = strawberry.field(description="EXPRESS up to 5 seats (flat), STANDARD beyond (per seat).")
    seats: int = strawberry.field(description="Calling subscribers and workspaces of the location when requested.")
    contact_name: str
    contact_email: str
    target_date: date
    status: SetupAssistStatus
    created_at: datetime
    completed_at: datetime | None
    version: int

    @classmethod
    def of_doc(cls, doc: Document) -> SetupAssistRequestType:
        return cls.of(SetupAssistRequest.from_doc(doc))

    @classmethod
    def of(cls, r: SetupAssistRequest) -> SetupAssistRequestType:
        return cls(model=r, id=strawberry.ID(r.id), sku=r.sku, seats=r.seats, contact_name=r.contact_name,
                   contact_email=r.contact_email, target_date=r.target_date, status=r.status,
                   created_at=r.created_at, completed_at=r.completed_at, version=r.version)

    @strawberry.field(description="The location as it is now; as it was when requested if it was deleted since.")
    async def location(self, info: Info) -> LocationType:
        doc = await info.context.loaders.visible_location.load(self.model.location_id)
        if doc is not None:
            return LocationType.of_doc(doc)
        return LocationType.of(Location.from_doc(self.model.location_snapshot))
