"""The events outbox (R-EVT-1): one document per status change, committed with the change itself.

Every transaction that changes a status goes through `Repositories.atomic`, which hands the work a
`Tx`. The work records its changes on the `Tx`; just before the commit they are stamped with
sequence numbers from a counter document and inserted in the same transaction. Because every such
transaction increments that one counter, two of them cannot both commit with overlapping numbers:
sequence order is commit order, across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from domain.model.audit import Actor, EventAction, FieldChange, current_actor, stamped

if TYPE_CHECKING:
    from domain.model.entities import ProvisioningError

# What a removed entity's last event says it became ("removed" is not a status of the entity itself).
DELETED = "deleted"


class EntityType(str, Enum):
    CUSTOMER = "CUSTOMER"
    CUSTOMER_PACKAGE = "CUSTOMER_PACKAGE"
    SUBSCRIBER = "SUBSCRIBER"
    BILLING_REPORT = "BILLING_REPORT"
    SUB_PARTNER = "SUB_PARTNER"
    WORKSPACE = "WORKSPACE"
    LOCATION = "LOCATION"
    ONBOARDING_TEMPLATE = "ONBOARDING_TEMPLATE"
    SUBSCRIBER_BATCH = "SUBSCRIBER_BATCH"
    SETUP_ASSIST_REQUEST = "SETUP_ASSIST_REQUEST"
    TRIAL = "TRIAL"
    DEVICE_SHIPMENT = "DEVICE_SHIPMENT"
    ORDER = "ORDER"
    WEBHOOK_ENDPOINT = "WEBHOOK_ENDPOINT"


@dataclass(frozen=True)
class Change:
    """One status change of one entity, as the outbox stores it."""

    entity_type: EntityType
    entity_id: str
    owner_org_id: str
    root_org_id: str
    from_status: str | None
    to_status: str
    version: int
    customer_id: str | None = None
    errors: Sequence[ProvisioningError] = ()
    reason: str | None = None
    # Facts later consumers need without reading the entity back (e.g. the package, for billing).
    details: dict[str, Any] = field(default_factory=dict)
    # R-AUD-1: what kind of change (status changes unless said), who made it (default: whoever is acting
    # when the change is committed) and, for an UPDATE, the fields it changed.
    action: EventAction = EventAction.STATUS_CHANGE
    actor: Actor | None = None
    changes: Sequence[FieldChange] = ()

    def to_doc(self, seq: int, at: datetime, worker: str | None) -> dict[str, Any]:
        return {
            "_id": f"evt_{seq:012d}",
            "seq": seq,
            "entityType": self.entity_type.value,
            "entityId": self.entity_id,
            "customerId": self.customer_id,
            "ownerOrgId": self.owner_org_id,
            "rootOrgId": self.root_org_id,
            "fromStatus": self.from_status,
            "toStatus": self.to_status,
            "version": self.version,
            "errors": [e.model_dump() for e in self.errors],
            "reason": self.reason,
            "occurredAt": at,
            "worker": worker,
            "action": self.action.value,
            "actor": stamped(self.actor or current_actor(), self.owner_org_id).to_doc(),
            **({"changes": [c.to_doc() for c in self.changes]} if self.changes else {}),
            **({"details": self.details} if self.details else {}),
        }


def package_entity_id(customer_id: str, package: str) -> str:
    """Customer packages have no id of their own: the customer's id and the package name make one."""
    return f"{customer_id}:{package}"
