"""Workspaces (DOMAIN.md §14, R-WS-1/2): common-area device places (a hallway, a door, a shop phone) of a customer.

A workspace holds the customer's `common_area_calling` package, sits at one of the customer's locations and has a
phone number, an extension or both. Its status moves through the machine in `domain.model.status.WORKSPACE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from domain.model.audit import EventAction, field_changes
from domain.model.changes import DELETED, Change, EntityType
from domain.model.entities import ProvisioningError, _Entity
from domain.model.status import WORKSPACE, WorkspaceStatus, require_move

# The one package a workspace holds (R-WS-1).
WORKSPACE_PACKAGE = "common_area_calling"

# Workspaces in these states hold their package (count towards its limit, R-WS-1 / R-PKG-6).
HOLDING_WORKSPACE_STATUSES: tuple[WorkspaceStatus, ...] = (
    WorkspaceStatus.PROVISIONING, WorkspaceStatus.PROVISIONED, WorkspaceStatus.UPDATING)

# The fields an update may change, as stored (what an UPDATE event lists, R-AUD-1).
EDITABLE_FIELDS: tuple[str, ...] = ("name", "locationId", "primaryPhoneNumber", "extension")


def name_key(name: str) -> str:
    """What makes two workspace names the same (R-WS-1, decision): case and surrounding blanks do not count."""
    return " ".join(name.split()).casefold()


class Workspace(_Entity):
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    name: str
    name_key: str = Field(alias="nameKey")
    package: str = WORKSPACE_PACKAGE
    primary_phone_number: str | None = Field(default=None, alias="primaryPhoneNumber")
    extension: str | None = None
    location_id: str = Field(alias="locationId")
    status: WorkspaceStatus
    errors: list[ProvisioningError] = []
    version: int
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    def move(self, to: WorkspaceStatus, at: datetime, *, reason: str | None = None,
             **fields: Any) -> tuple[Workspace, Change]:
        """The one way a workspace changes status (R-WS-2): checked against the machine, its version bumped,
        stamped, `fields` applied; returns the workspace as it becomes and the event that says so."""
        require_move(WORKSPACE, self.status, to, "workspace")
        moved = self.model_copy(update={**fields, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def change(self, from_status: WorkspaceStatus | None, *, reason: str | None = None) -> Change:
        """The event of this workspace having come from `from_status` (None: it is new) to its status."""
        return Change(EntityType.WORKSPACE, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      customer_id=self.customer_id, errors=list(self.errors), reason=reason,
                      details={"package": self.package})

    def update_event(self, before: Workspace, fields: Sequence[str] = EDITABLE_FIELDS) -> Change | None:
        """The UPDATE event of the fields that differ from `before` (None when nothing did), R-AUD-1."""
        changes = field_changes(before.to_doc(), self.to_doc(), fields)
        if not changes:
            return None
        return Change(EntityType.WORKSPACE, self.id, self.owner_org_id, self.root_org_id, self.status.value,
                      self.status.value, self.version, customer_id=self.customer_id, action=EventAction.UPDATE,
                      changes=changes, details={"package": self.package})

    def removal(self, *, reason: str | None = None) -> Change:
        """The last event of a workspace that left (its deletion completed, or its customer's)."""
        return Change(EntityType.WORKSPACE, self.id, self.owner_org_id, self.root_org_id, self.status.value,
                      DELETED, self.version + 1, customer_id=self.customer_id, errors=list(self.errors),
                      reason=reason, details={"package": self.package})
