"""Workspaces (DOMAIN.md §14) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model.principal import Scope
from domain.model.workspaces import Workspace
from domain.rules.pagination import PageRequest
from domain.services import reads
from domain.store.driver import Document
from resolvers.background import BackgroundWork, background_work_of
from resolvers.common import Connection, Node, ProvisioningError, connection_of
from resolvers.context import Info
from resolvers.customers.locations import LocationType
from resolvers.enums import PackageName, WorkspaceStatus
from resolvers.workspaces.loaders import WorkspacePageKey

if TYPE_CHECKING:
    from resolvers.customers.types import CustomerType


@strawberry.type(name="Workspace", description="A common-area device place of a customer (R-WS-1).")
class WorkspaceType(Node):
    model: strawberry.Private[Workspace]
    id: strawberry.ID
    name: str
    package: PackageName
    primary_phone_number: str | None
    extension: str | None
    status: WorkspaceStatus
    errors: list[ProvisioningError]
    version: int
    created_at: datetime
    last_status_change: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> WorkspaceType:
        return cls.of(Workspace.from_doc(doc))

    @classmethod
    def of(cls, w: Workspace) -> WorkspaceType:
        return cls(model=w, id=strawberry.ID(w.id), name=w.name, package=PackageName(w.package),
                   primary_phone_number=w.primary_phone_number, extension=w.extension, status=w.status,
                   errors=[ProvisioningError.of(e) for e in w.errors], version=w.version, created_at=w.created_at,
                   last_status_change=w.last_status_change)

    @strawberry.field(description="What it waits for while it is not settled; null when idle (R-DASH-2).")
    def background_work(self, info: Info) -> BackgroundWork | None:
        return background_work_of(info, self.model.id, self.model.status.value)  # type: ignore[return-value]

    @strawberry.field
    async def location(self, info: Info) -> LocationType:
        doc = await info.context.loaders.visible_location.load(self.model.location_id)
        assert doc is not None, f"workspace {self.model.id} is visible but its location is not"
        return LocationType.of_doc(doc)

    @strawberry.field
    async def customer(
        self, info: Info
    ) -> Annotated[CustomerType, strawberry.lazy("resolvers.customers.types")]:
        from resolvers.customers.types import CustomerType

        doc = await info.context.loaders.visible_customer.load(self.model.customer_id)
        assert doc is not None, f"workspace {self.model.id} is visible but its customer is not"
        return CustomerType.of_doc(doc)


@strawberry.type
class WorkspaceConnection(Connection[WorkspaceType]):
    pass


async def customer_workspaces(info: Info, customer_id: str, first: int | None, after: str | None
                              ) -> WorkspaceConnection:
    """A visible customer's workspaces, oldest first; batched across every customer of a page."""
    reads.require_scope(await info.context.caller(), Scope.SUBSCRIBERS_READ)
    request = PageRequest.of(first, after)
    loaders = info.context.loaders.workspaces
    page = await loaders.page.load(WorkspacePageKey(customer_id, request))

    async def count() -> int:
        return await loaders.count.load(customer_id)

    return connection_of(WorkspaceConnection, page, [WorkspaceType.of_doc(d) for d in page.docs], count)
