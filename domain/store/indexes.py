"""Indexes, declared in code and created (idempotently) at start-up.

Uniqueness the rules depend on is enforced here, so two concurrent requests cannot both win.
"""

from __future__ import annotations

from pymongo import ASCENDING as ASC
from pymongo import DESCENDING as DESC
from pymongo import IndexModel

from domain.store.driver import Database

INDEXES: dict[str, list[IndexModel]] = {
    "partners": [
        IndexModel([("kind", ASC), ("createdAt", ASC), ("_id", ASC)]),
        IndexModel([("parentId", ASC), ("createdAt", ASC), ("_id", ASC)]),
    ],
    "templates": [
        IndexModel([("provisioningId", ASC)], unique=True),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
    ],
    "customers": [
        IndexModel([("ownerOrgId", ASC), ("externalId", ASC)], unique=True),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("ownerOrgId", ASC), ("nameSort", ASC), ("_id", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("lastStatusChange", DESC), ("_id", DESC)]),
        IndexModel([("orgId", ASC)], sparse=True),
    ],
    "locations": [
        IndexModel([("customerId", ASC), ("isHeadquarters", DESC), ("createdAt", ASC)]),
    ],
    "subscribers": [
        IndexModel([("email", ASC)], unique=True),
        IndexModel([("customerId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("ownerOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("rootOrgId", ASC), ("createdAt", DESC), ("_id", DESC)]),
        IndexModel([("customerId", ASC), ("primaryPhoneNumber", ASC)], unique=True,
                   partialFilterExpression={"primaryPhoneNumber": {"$type": "string"}}),
        IndexModel([("customerId", ASC), ("extension", ASC)], unique=True,
                   partialFilterExpression={"extension": {"$type": "string"}}),
    ],
    "events": [
        IndexModel([("seq", ASC)], unique=True),
        IndexModel([("customerId", ASC), ("seq", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("seq", ASC)]),
        IndexModel([("rootOrgId", ASC), ("seq", ASC)]),
        IndexModel([("occurredAt", ASC)]),  # retention purge
    ],
    "events_purged": [  # _id: the owner org
        IndexModel([("ownerOrgId", ASC), ("seq", DESC)]),
        IndexModel([("rootOrgId", ASC), ("seq", DESC)]),
    ],
    "usage": [
        IndexModel([("rootOrgId", ASC), ("start", ASC)]),
        IndexModel([("ownerOrgId", ASC), ("start", ASC)]),
        IndexModel([("subscriberId", ASC), ("end", ASC)]),
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
    "jobs": [
        IndexModel([("status", ASC), ("runAt", ASC)]),
        IndexModel([("status", ASC), ("leaseUntil", ASC)]),
        IndexModel([("waitFor", ASC)], sparse=True),
    ],
}


async def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        await db.create_indexes(collection, indexes)
