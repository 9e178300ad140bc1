"""Subscribers (DOMAIN.md §7)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model import entities as models
from domain.rules.addons import with_add_ons
from domain.store.driver import Document
from resolvers.background import BackgroundWork, background_work_of
from resolvers.common import Connection, Node, ProvisioningError
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.enums import PackageName, SubscriberPackage, SubscriberStatus

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
    add_on: PackageName | None = strawberry.field(default=None, description="Holding this add-on (R-ADD-1).")
    location_id: strawberry.ID | None = strawberry.field(default=None, description="Placed at this location.")
    person_id: strawberry.ID | None = strawberry.field(default=None, description="The subscriber with this Webex "
                                                       "person id (R-IDS-1).")


@strawberry.type(name="ConsentState", description="The consent emails of a free account asked to join the org, and "
                                                  "its answer (R-CONS-1/2).")
class ConsentStateType:
    emails_sent: int
    last_email_sent_at: datetime | None
    answered_at: datetime | None

    @classmethod
    def of(cls, c: models.ConsentState) -> ConsentStateType:
        return cls(emails_sent=c.emails_sent, last_email_sent_at=c.last_email_sent_at, answered_at=c.answered_at)


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

    @strawberry.field(description="Its Webex person id: null until it is first provisioned (R-IDS-1).")
    def person_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.model.person_id) if self.model.person_id is not None else None

    @strawberry.field(description="What the gateway did differently from the request, e.g. ORG_USER_SETTINGS_KEPT: "
                                  "an attached org's Calling user kept its own number and location (R-ATT-3).")
    def warnings(self) -> list[ProvisioningError]:
        return [ProvisioningError.of(w) for w in self.model.warnings]

    @strawberry.field(description="User add-ons beside the base package (R-ADD-1).")
    def add_ons(self) -> list[PackageName]:
        return [PackageName(a) for a in self.model.add_ons]

    @strawberry.field(description="Every package it holds: the base package first, then its add-ons.")
    def packages(self) -> list[PackageName]:
        return [PackageName(p) for p in with_add_ons(self.model.package, self.model.add_ons)]

    @strawberry.field(description="null unless it entered `pending_user_migration` (R-CONS-1).")
    def consent(self) -> ConsentStateType | None:
        return ConsentStateType.of(self.model.consent) if self.model.consent is not None else None

    @strawberry.field(description="What it waits for while it is not settled; null when idle (R-DASH-2).")
    def background_work(self, info: Info) -> BackgroundWork | None:
        return background_work_of(info, self.model.id, self.model.status.value)  # type: ignore[return-value]

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
