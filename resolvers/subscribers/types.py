"""Subscribers (DOMAIN.md §7)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model import entities as models
from domain.store.driver import Document
from resolvers.common import Connection, Node, ProvisioningError
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.enums import SubscriberPackage, SubscriberStatus

if TYPE_CHECKING:
    from resolvers.customers.types import CustomerType


@strawberry.input
class SubscriberFilter:
    customer_id: strawberry.ID | None = None
    email: str | None = None
    status: SubscriberStatus | None = None
    package: SubscriberPackage | None = None
    external_customer_id: str | None = None
    last_status_change_after: datetime | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False


@strawberry.type(name="Subscriber")
class SubscriberType(Node):
    model: strawberry.Private[models.Subscriber]
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    package: SubscriberPackage
    primary_phone_number: str | None
    extension: str | None
    is_admin: bool
    status: SubscriberStatus
    errors: list[ProvisioningError]
    version: int
    created_at: datetime
    last_status_change: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> SubscriberType:
        return cls.of(models.Subscriber.from_doc(doc))

    @classmethod
    def of(cls, s: models.Subscriber) -> SubscriberType:
        return cls(
            model=s, id=strawberry.ID(s.id), email=s.email, first_name=s.first_name, last_name=s.last_name,
            package=SubscriberPackage(s.package), primary_phone_number=s.primary_phone_number,
            extension=s.extension, is_admin=s.is_admin, status=s.status,
            errors=[ProvisioningError.of(e) for e in s.errors], version=s.version, created_at=s.created_at,
            last_status_change=s.last_status_change,
        )

    @strawberry.field
    async def location(self, info: Info) -> LocationType | None:
        if self.model.location_id is None:
            return None
        doc = await info.context.loaders.visible_location.load(self.model.location_id)
        return LocationType.of_doc(doc) if doc else None

    @strawberry.field
    async def customer(
        self, info: Info
    ) -> Annotated[CustomerType, strawberry.lazy("resolvers.customers.types")]:
        from resolvers.customers.types import CustomerType

        doc = await info.context.loaders.visible_customer.load(self.model.customer_id)
        assert doc is not None, f"subscriber {self.model.id} is visible but its customer is not"
        return CustomerType.of_doc(doc)


@strawberry.type
class SubscriberConnection(Connection[SubscriberType]):
    pass
