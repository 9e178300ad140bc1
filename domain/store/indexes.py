"""Indexes, declared in code and created (idempotently) at start-up.

Uniqueness the rules depend on is enforced here, so two concurrent requests cannot both win.
"""

from __future__ import annotations

from pymongo import ASCENDING as ASC
from pymongo import DESCENDING as DESC
from pymongo import IndexModel

from domain.store.driver import Database

_NUMBER_LOOKUPS = [IndexModel([("customerId", ASC), (field, ASC), ("_id", ASC)])
                   for field in ("primaryPhoneNumber", "extension")]

INDEXES: dict[str, list[IndexModel]] = {
    "partners": [
        IndexModel([("kind", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("parentId", ASC), ("createdAt", ASC), ("_id", ASC)]),
    ],
    "templates": [
        IndexModel([("provisioningId", ASC)], unique=True),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        # R-TPL-3: names unique among an owner's active templates (a retired one's nameKey is null).
        IndexModel([("ownerOrgId", ASC), ("nameKey", ASC)], unique=True,
                   partialFilterExpression={"nameKey": {"$type": "string"}}),
    ],
    "customers": [
        IndexModel([("ownerOrgId", ASC), ("externalId", ASC)], unique=True),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("ownerOrgId", ASC), ("nameSort", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("lastStatusChange", DESC), ("_id", DESC)]),
        IndexModel([("orgId", ASC)], sparse=True),
        IndexModel([("primaryEmail", ASC)]),  # R-TRI-4: orgLookup finds a wholesale customer's admin
    ],
    "locations": [
        IndexModel([("customerId", ASC), ("isHeadquarters", DESC), ("createdAt", ASC)]),
    ],
    "trials": [  # R-TRI-4: one open trial per org and partner; lists by owner and end
        IndexModel([("openKey", ASC)], unique=True, sparse=True),
        IndexModel([("ownerOrgId", ASC), ("endsAtKey", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("rootOrgId", ASC), ("endsAtKey", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("orgId", ASC)], sparse=True),
    ],
    # §10/§12: resale customer orgs, found by a member's email (R-TRI-4); members and name claims (R-ORD-6) are
    # unique by their _id.
    "customer_orgs": [IndexModel([("memberEmails", ASC)])],
    "org_directory": [IndexModel([("orgUsers.email", ASC)], sparse=True)],  # R-TRI-4: the wholesale side's users
    "device_shipments": [  # R-TRI-7: one shipment per device type per trial, ever; unique tracking numbers
        IndexModel([("trialId", ASC), ("deviceType", ASC)], unique=True),
        IndexModel([("trackingNumber", ASC)], unique=True, sparse=True),
    ],
    "orders": [  # R-ORD-8: lists newest first by owner or root org; a trial's conversion order
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("trialId", ASC)], sparse=True),
    ],
    "notifications": [  # R-NOT-1: one per (kind, audience, entity, occasion); the sender's queue; R-NOT-5 lists
        IndexModel([("key", ASC)], unique=True),
        IndexModel([("status", ASC), ("nextAttemptAt", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("createdAt", DESC), ("_id", DESC)]),
    ],
    "setup_assist_requests": [  # R-SA-1: one open request per location
        IndexModel([("openKey", ASC)], unique=True, sparse=True),
        IndexModel([("customerId", ASC), ("createdAt", DESC), ("_id", DESC)]),
    ],
    "subscribers": [
        IndexModel([("email", ASC)], unique=True),
        IndexModel([("personId", ASC)], sparse=True),  # R-IDS-1: SubscriberFilter.personId
        IndexModel([("locationId", ASC), ("package", ASC)], sparse=True),  # R-LOCN-2: who sits at a location
        IndexModel([("customerId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("customerId", ASC), ("primaryPhoneNumber", ASC)], unique=True,
                   partialFilterExpression={"primaryPhoneNumber": {"$type": "string"}}),
        IndexModel([("customerId", ASC), ("extension", ASC)], unique=True,
                   partialFilterExpression={"extension": {"$type": "string"}}),
        # The number lookups before a write (R-SUB-1, R-WS-1): query planners (SecantusDB's among them) do not use
        # the partial unique indexes above for them, and a bulk import into a customer of 10,000 then scans it all.
        *_NUMBER_LOOKUPS,
    ],
    "workspaces": [  # R-WS-1: names and numbers unique per customer
        IndexModel([("customerId", ASC), ("nameKey", ASC)], unique=True),
        IndexModel([("customerId", ASC), ("primaryPhoneNumber", ASC)], unique=True,
                   partialFilterExpression={"primaryPhoneNumber": {"$type": "string"}}),
        IndexModel([("customerId", ASC), ("extension", ASC)], unique=True,
                   partialFilterExpression={"extension": {"$type": "string"}}),
        IndexModel([("customerId", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("rootOrgId", ASC)]),  # R-DASH-1: a parent's counts with its sub-partners'
        *_NUMBER_LOOKUPS,
    ],
    "events": [
        IndexModel([("seq", ASC)], unique=True),
        IndexModel([("customerId", ASC), ("seq", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("seq", ASC)]),
        IndexModel([("rootOrgId", ASC), ("seq", ASC)]),
        IndexModel([("occurredAt", ASC)]),  # retention purge
    ],
    "webhook_endpoints": [  # R-NOT-7: at most 10 per org, one per slot; the sender's due list
        IndexModel([("ownerOrgId", ASC), ("slot", ASC)], unique=True),
        IndexModel([("ownerOrgId", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("state", ASC), ("dueAt", ASC), ("_id", ASC)]),
    ],
    "webhook_deliveries": [  # R-NOT-9: newest first per endpoint; kept 7 days after the last attempt
        IndexModel([("endpointId", ASC), ("eventSeq", DESC), ("_id", DESC)]),
        IndexModel([("lastAttemptAt", ASC)]),
    ],
    "events_purged": [  # _id: the owner org
        IndexModel([("ownerOrgId", ASC), ("seq", DESC)]),
        IndexModel([("rootOrgId", ASC), ("seq", DESC)]),
    ],
    "usage": [
        IndexModel([("rootOrgId", ASC), ("start", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("start", ASC)]),
        IndexModel([("subscriberId", ASC), ("end", ASC)]),
        IndexModel([("workspaceId", ASC), ("end", ASC)], sparse=True),
        IndexModel([("customerId", ASC), ("end", ASC)]),
    ],
    "billing_reports": [
        IndexModel([("activeKey", ASC)], unique=True, sparse=True),  # R-BIL-3: one live report per key
        IndexModel([("ownerOrgId", ASC), ("billingStartDate", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("billingEndDate", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("status", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
    ],
    "billing_rows": [
        IndexModel([("reportId", ASC), ("n", ASC)], unique=True),
    ],
    # R-BULK: batches, their rows, uploads and idempotency keys leave by TTL on `expireAt`.
    "subscriber_batches": [
        IndexModel([("customerId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("customerId", ASC), ("status", ASC), ("createdAt", ASC)]),
        IndexModel([("expireAt", ASC)], expireAfterSeconds=0),
    ],
    "subscriber_batch_rows": [
        IndexModel([("batchId", ASC), ("rowNumber", ASC)], unique=True),
        IndexModel([("batchId", ASC), ("status", ASC), ("rowNumber", ASC)]),
        IndexModel([("expireAt", ASC)], expireAfterSeconds=0),
    ],
    "uploads": [IndexModel([("expireAt", ASC)], expireAfterSeconds=0)],
    "idempotency_keys": [IndexModel([("expireAt", ASC)], expireAfterSeconds=0)],
    "jobs": [
        IndexModel([("status", ASC), ("runAt", ASC)]),
        IndexModel([("status", ASC), ("leaseUntil", ASC)]),
        IndexModel([("waitFor", ASC)], sparse=True),
        IndexModel([("entityId", ASC)]),  # R-DASH-2: an entity's background work
    ],
}


async def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        await db.create_indexes(collection, indexes)
