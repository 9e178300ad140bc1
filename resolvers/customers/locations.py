"""Customer locations (DOMAIN.md §6)."""

from __future__ import annotations

import strawberry

from domain.model import entities as models
from domain.store.driver import Document
from resolvers.common import Address, Node


@strawberry.type(name="Location")
class LocationType(Node):
    id: strawberry.ID
    name: str
    address: Address
    timezone: str
    language: str
    is_headquarters: bool

    @classmethod
    def of_doc(cls, doc: Document) -> LocationType:
        loc = models.Location.from_doc(doc)
        return cls(id=strawberry.ID(loc.id), name=loc.name, address=Address.of(loc.address), timezone=loc.timezone,
                   language=loc.language, is_headquarters=loc.is_headquarters)
