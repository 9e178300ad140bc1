"""`Query.workspace` (R-WS): one workspace by id, as the caller may see it (R-ORG-6)."""

from __future__ import annotations

import strawberry

from domain.model.principal import Scope
from domain.services import reads
from resolvers.context import Info
from resolvers.workspaces.types import WorkspaceType


@strawberry.type
class WorkspaceQueries:
    @strawberry.field(description="One workspace; null when it does not exist or the caller may not see it.")
    async def workspace(self, info: Info, id: strawberry.ID) -> WorkspaceType | None:
        reads.require_scope(await info.context.caller(), Scope.SUBSCRIBERS_READ)
        doc = await info.context.loaders.workspaces.visible.load(id)
        return WorkspaceType.of_doc(doc) if doc else None
