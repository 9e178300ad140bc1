"""What an UPDATE event says changed (R-AUD-1): the fields a user sees of an entity, before and after."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.model.audit import EventAction, field_changes
from domain.model.changes import Change
from domain.model.entities import Customer

# The customer's own settings as an edit changes them (statuses, versions and times are the status events' part).
CUSTOMER_FIELDS = ("externalId", "address", "packages", "meetingsTimezone", "billingStartDate")


def _customer_view(customer: Customer) -> dict[str, Any]:
    doc = customer.to_doc()
    view = {name: doc.get(name) for name in CUSTOMER_FIELDS}
    view["packages"] = sorted(({"name": p.name, "limit": p.limit} for p in customer.packages),
                              key=lambda p: str(p["name"]))
    return view


def customer_update(before: Customer, after: Customer, status_change: Change) -> Change | None:
    """The UPDATE event of an edit of a customer, beside the status change it causes; None when no field changed
    (an edit that repeats the current values)."""
    edits = field_changes(_customer_view(before), _customer_view(after), CUSTOMER_FIELDS)
    if not edits:
        return None
    return replace(status_change, action=EventAction.UPDATE, changes=tuple(edits), errors=(), reason=None)
