"""Workspace mutations (DOMAIN.md §14, R-WS-1/2): provision, update, delete; each answers at once and the
background work moves the workspace on."""

from __future__ import annotations

import strawberry

from domain.services import workspaces
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.subscribers.mutations import DeletePayload
from resolvers.workspaces.types import WorkspaceType


@strawberry.input
class ProvisionWorkspaceInput:
    customer_id: strawberry.ID
    name: str
    location_id: strawberry.ID | None = strawberry.field(default=None, description="Default: the headquarters.")
    primary_phone_number: str | None = None
    extension: str | None = None

    def to_domain(self) -> workspaces.NewWorkspace:
        return workspaces.NewWorkspace(
            customer_id=str(self.customer_id), name=self.name,
            location_id=str(self.location_id) if self.location_id else None,
            primary_phone_number=self.primary_phone_number, extension=self.extension)


@strawberry.input(description="Fields left out keep their value; an empty number or extension removes it.")
class UpdateWorkspaceInput:
    name: str | None = None
    location_id: strawberry.ID | None = None
    primary_phone_number: str | None = None
    extension: str | None = None

    def to_domain(self) -> workspaces.WorkspaceUpdate:
        return workspaces.WorkspaceUpdate(
            name=self.name, location_id=str(self.location_id) if self.location_id else None,
            primary_phone_number=self.primary_phone_number, extension=self.extension)


@strawberry.type
class WorkspacePayload:
    workspace: WorkspaceType | None
    errors: list[UserError]


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(description="Answers at once with the workspace in `provisioning`; it waits for its "
                                     "customer if that is still being provisioned (R-WS-2).")
    @refused_as(WorkspacePayload)
    async def provision_workspace(
        self, info: Info, input: ProvisionWorkspaceInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> WorkspacePayload:
        workspace = await workspaces.provision_workspace(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        return WorkspacePayload(workspace=WorkspaceType.of(workspace), errors=[])

    @strawberry.mutation(description="`provisioned` → `updating` → `provisioned` | `error`; a new `locationId` "
                                     "moves the workspace (R-LOCN-2).")
    @refused_as(WorkspacePayload)
    async def update_workspace(
        self, info: Info, id: strawberry.ID, input: UpdateWorkspaceInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> WorkspacePayload:
        workspace = await workspaces.update_workspace(
            info.context.repos, await info.context.caller(), id, input.to_domain(), on_behalf_of_sub_partner_org_id)
        return WorkspacePayload(workspace=WorkspaceType.of(workspace), errors=[])

    @strawberry.mutation(description="Starts removing the workspace; `deletedId` is its id once accepted.")
    @refused_as(DeletePayload)
    async def delete_workspace(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> DeletePayload:
        workspace = await workspaces.delete_workspace(
            info.context.repos, await info.context.caller(), id, on_behalf_of_sub_partner_org_id)
        return DeletePayload(deleted_id=strawberry.ID(workspace.id), errors=[])
