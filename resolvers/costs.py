"""What each field costs the database, for the static cost estimate (gateway.cost) that admits or refuses operations.

A field is free unless it is declared here: what a resolver computes from the object it belongs to (a scalar,
an enum, an embedded object or list the entity document holds: `errors`, `packages`, `address`, `compliance`)
causes no database work. Every field whose resolver could reach the database (it takes `info` or is async) must
be declared: tests/unit/test_cost_model.py lists them from the schema and fails on any that is not, and the
estimator counts an undeclared one as `EACH` meanwhile.

Keys are `Type.field`; `Type.*` covers every field of a root type, `*.field` that field on every type. Whether a
field is one object, a list or a page (`first`) comes from the schema; this table says how its work scales.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum


class Work(Enum):
    MEMORY = "memory"
    """Computed from what the request already holds (the object, the caller, the settings): no database work."""
    BATCHED = "batched"
    """Through a DataLoader: one database command serves every parent object of the response."""
    EACH = "each"
    """A database command of its own for each parent object."""
    COUNT = "count"
    """A connection's `totalCount`: one more command, batched (or not) like the connection it belongs to."""
    WRITE = "write"
    """A mutation: reads, a transaction and its event, jobs."""


FIELD_WORK: Mapping[str, Work] = {
    # Roots: each root field is resolved once; a page of the root reads its documents in one command.
    "Query.*": Work.EACH,
    "Mutation.*": Work.WRITE,
    "Subscription.*": Work.EACH,
    "*.totalCount": Work.COUNT,
    # Related entities, loaded for every parent of the response at once (resolvers/loaders.py and friends).
    "BillingReport.subPartner": Work.BATCHED,
    "Customer.backgroundWork": Work.BATCHED,
    "Customer.locations": Work.BATCHED,
    "Customer.owner": Work.BATCHED,
    "Customer.setupAssistRequests": Work.BATCHED,
    "Customer.subscriberBatches": Work.BATCHED,
    "Customer.subscribers": Work.BATCHED,
    "Customer.template": Work.BATCHED,
    "Customer.workspaces": Work.BATCHED,
    "CustomerPackage.assigned": Work.BATCHED,
    "DeviceShipment.trial": Work.BATCHED,  # R-TRI-7
    "Location.customer": Work.BATCHED,
    "Location.subscriberCount": Work.BATCHED,
    "Location.workspaceCount": Work.BATCHED,
    "OnboardingTemplate.owner": Work.BATCHED,
    "Order.org": Work.EACH,  # R-ORD-4: the customer org, read per order
    "Order.owner": Work.BATCHED,
    "Order.trial": Work.BATCHED,
    "OnboardingTemplate.subscriptionId": Work.BATCHED,
    "Partner.parent": Work.BATCHED,
    "ProvisioningEvent.batch": Work.BATCHED,
    "ProvisioningEvent.billingReport": Work.BATCHED,
    "ProvisioningEvent.customer": Work.BATCHED,
    "ProvisioningEvent.deviceShipment": Work.BATCHED,
    "ProvisioningEvent.location": Work.BATCHED,
    "ProvisioningEvent.order": Work.BATCHED,
    "ProvisioningEvent.setupAssistRequest": Work.BATCHED,
    "ProvisioningEvent.subscriber": Work.BATCHED,
    "ProvisioningEvent.trial": Work.BATCHED,  # R-TRI-STATE
    "ProvisioningEvent.template": Work.BATCHED,
    "ProvisioningEvent.workspace": Work.BATCHED,
    "SetupAssistRequest.location": Work.BATCHED,
    "Trial.conversionOrder": Work.EACH,  # R-TRI-10: the order, read per converted trial
    "Trial.org": Work.BATCHED,
    "Trial.owner": Work.BATCHED,
    "Trial.shipments": Work.BATCHED,
    "Subscriber.backgroundWork": Work.BATCHED,
    "Subscriber.customer": Work.BATCHED,
    "Subscriber.location": Work.BATCHED,
    "SubscriberBatch.customer": Work.BATCHED,
    "SubscriberBatchRow.subscriber": Work.BATCHED,
    "Workspace.backgroundWork": Work.BATCHED,
    "Workspace.customer": Work.BATCHED,
    "Workspace.location": Work.BATCHED,
    "WebhookEndpoint.owner": Work.BATCHED,  # R-NOT-7
    # Pages read per parent object (one query each).
    "BillingReport.rows": Work.EACH,
    "Customer.events": Work.EACH,
    "Partner.customers": Work.EACH,
    "Partner.subPartners": Work.EACH,
    "SubscriberBatch.rows": Work.EACH,
    "WebhookEndpoint.deliveries": Work.EACH,  # R-NOT-9
    # They take `info` for the caller (resolved once per request) or the settings only.
    "BillingReport.createdBy": Work.MEMORY,
    "BillingReport.downloadUrl": Work.MEMORY,
    "ProvisioningEvent.actor": Work.MEMORY,
    "Trial.daysRemaining": Work.MEMORY,  # R-TRI-11: from endsAt and the clock
    "SubscriberBatch.createdBy": Work.MEMORY,
    "SubscriberBatch.resultDownloadUrl": Work.MEMORY,
}


def declared_work(type_name: str, field_name: str) -> Work | None:
    """The work declared for `type_name.field_name` (exact key first, then `Type.*`, then `*.field`)."""
    return (FIELD_WORK.get(f"{type_name}.{field_name}") or FIELD_WORK.get(f"{type_name}.*")
            or FIELD_WORK.get(f"*.{field_name}"))
