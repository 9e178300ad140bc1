"""Setup Assist requests (DOMAIN.md §18, R-SA-1/2): Cisco's paid help setting up one location of a customer."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import Field

from domain.model.changes import Change, EntityType
from domain.model.entities import _Entity
from domain.model.status import SETUP_ASSIST, SetupAssistStatus, require_move

# Requests in these states are open: a location has at most one (R-SA-1).
OPEN_STATUSES: frozenset[SetupAssistStatus] = frozenset({SetupAssistStatus.SUBMITTED, SetupAssistStatus.IN_PROGRESS})


class SetupAssistSku(str, Enum):
    """R-SA-1: EXPRESS (a flat fee, up to 5 seats) or STANDARD (per seat, beyond 5)."""

    EXPRESS = "EXPRESS"
    STANDARD = "STANDARD"


class SetupAssistRequest(_Entity):
    customer_id: str = Field(alias="customerId")
    location_id: str = Field(alias="locationId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    sku: SetupAssistSku
    seats: int
    contact_name: str = Field(alias="contactName")
    contact_email: str = Field(alias="contactEmail")
    target_date: date = Field(alias="targetDate")
    status: SetupAssistStatus
    version: int
    created_at: datetime = Field(alias="createdAt")
    completed_at: datetime | None = Field(default=None, alias="completedAt")
    last_status_change: datetime = Field(alias="lastStatusChange")
    # The location as it was when the request was made: the request outlives a branch deleted later (R-LOCN-2).
    location_snapshot: dict[str, Any] = Field(default_factory=dict, alias="locationSnapshot")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_doc(self) -> dict[str, Any]:
        doc = super().to_doc()
        # One open request per location, kept by a unique sparse index on this key (R-SA-1).
        doc["openKey"] = self.location_id if self.is_open else None
        if doc["openKey"] is None:
            del doc["openKey"]
        return doc

    def move(self, to: SetupAssistStatus, at: datetime, *, reason: str | None = None) -> tuple[SetupAssistRequest,
                                                                                                 Change]:
        """The one way a request changes status (R-SA-2): checked, version bumped, stamped; with its event."""
        require_move(SETUP_ASSIST, self.status, to, "Setup Assist request")
        update: dict[str, Any] = {"status": to, "version": self.version + 1, "last_status_change": at}
        if to is SetupAssistStatus.COMPLETED:
            update["completed_at"] = at
        moved = self.model_copy(update=update)
        return moved, moved.change(self.status, reason=reason)

    def change(self, from_status: SetupAssistStatus | None, *, reason: str | None = None) -> Change:
        return Change(EntityType.SETUP_ASSIST_REQUEST, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      customer_id=self.customer_id, reason=reason,
                      details={"locationId": self.location_id, "sku": self.sku.value, "seats": self.seats})
