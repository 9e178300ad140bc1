"""Dashboard counts (DOMAIN.md §17, R-DASH-1) in one aggregation: one database round trip, however many parts.

The aggregation starts on the first collection a wanted tally reads and brings in the others with `$unionWith`;
each entity turns into the keys it counts under (`{t: tally, k: value}`: its status, each package it holds), and
one `$group` counts every key. Retrying entities (see `domain.rules.dashboard`) come from the jobs collection: the
jobs that failed and wait to run again, each joined (`$lookup` on `_id`, an index on any MongoDB) to the entity it
works on, which must pass the same owner and customer filter as the entities counted; grouped by entity, an entity
with several such jobs counts once, and a last `$group` folds those into one count. At most a few dozen rows come
back: one reply, no `getMore`.

`$group` rather than `$facet`: a `$group` streams and may spill to disk on a real MongoDB, while a `$facet` holds
every input document of its sub-pipelines in one 100 MB stage. (SecantusDB runs both, and `$unionWith`, `$lookup`
with a sub-pipeline and `$cond`, as probed on 0.7.0b3 before this was written.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from domain.rules.background import NOT_WORK
from domain.rules.dashboard import Tally
from domain.store.repositories import Repositories
from domain.store.repositories.customers import CustomerRepository
from domain.store.repositories.jobs import JOBS, READY
from domain.store.repositories.subscribers import SubscriberRepository
from domain.store.repositories.workspaces import WORKSPACES

CUSTOMERS, SUBSCRIBERS = CustomerRepository.collection, SubscriberRepository.collection

# A job that failed at least once and is scheduled to run again, on the entity itself (R-DASH-2 terms).
RETRYING_JOB: dict[str, Any] = {"status": READY, "attempts": {"$gte": 1}, "lastError": {"$nin": [None, ""]},
                                "kind": {"$nin": sorted(NOT_WORK)}}


def _key(tally: Tally, value: Any) -> dict[str, Any]:
    return {"t": tally.value, "k": value}


def _held_keys(tally: Tally, names: Any) -> dict[str, Any]:
    """One key per package name in `names` (an expression giving an array), each name once."""
    return {"$map": {"input": {"$setUnion": [names]}, "as": "p", "in": _key(tally, "$$p")}}


def _entity_stages(match: Mapping[str, Any], status: Tally | None, held: tuple[Tally, Any] | None
                   ) -> list[dict[str, Any]]:
    keys: list[Any] = [[_key(status, "$status")]] if status is not None else []
    if held is not None:
        keys.append(_held_keys(*held))
    return [{"$match": dict(match)}, {"$project": {"_id": 0, "keys": {"$concatArrays": keys}}}]


def _retrying_stages(collection: str, match: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"$match": RETRYING_JOB},
        {"$lookup": {"from": collection, "localField": "entityId", "foreignField": "_id",
                     "pipeline": [{"$match": dict(match)}, {"$project": {"_id": 1}}], "as": "entity"}},
        {"$match": {"entity": {"$ne": []}}},
        {"$project": {"_id": 0, "keys": [_key(Tally.RETRYING, "$entityId")]}},
    ]


def counts_pipeline(owner: Mapping[str, Any], customer_id: str | None, wanted: Collection[Tally]
                    ) -> tuple[str, list[dict[str, Any]]] | None:
    """The collection to aggregate and the pipeline counting the `wanted` tallies of the entities of `owner`
    (and of one customer, `customer_id`); None when nothing is wanted."""
    def where(customer_field: str) -> dict[str, Any]:
        return {"$and": [dict(owner), {customer_field: customer_id}]} if customer_id is not None else dict(owner)

    def wants(tally: Tally) -> Tally | None:
        return tally if tally in wanted else None

    segments: list[tuple[str, list[dict[str, Any]]]] = []
    customer_package = wants(Tally.CUSTOMER_PACKAGE)
    if wants(Tally.CUSTOMER_STATUS) or customer_package:
        packages = {"$map": {"input": {"$ifNull": ["$packages", []]}, "as": "p", "in": "$$p.name"}}
        segments.append((CUSTOMERS, _entity_stages(where("_id"), wants(Tally.CUSTOMER_STATUS),
                                                   (customer_package, packages) if customer_package else None)))
    subscriber_package = wants(Tally.SUBSCRIBER_PACKAGE)
    if wants(Tally.SUBSCRIBER_STATUS) or subscriber_package:
        # R-ADD-1: a subscriber holds its base package and each of its add-ons.
        held = {"$concatArrays": [["$package"], {"$ifNull": ["$addOns", []]}]}
        segments.append((SUBSCRIBERS, _entity_stages(where("customerId"), wants(Tally.SUBSCRIBER_STATUS),
                                                     (subscriber_package, held) if subscriber_package else None)))
    if Tally.WORKSPACE_STATUS in wanted:
        segments.append((WORKSPACES, _entity_stages(where("customerId"), Tally.WORKSPACE_STATUS, None)))
    if Tally.RETRYING in wanted:
        segments += [(JOBS, _retrying_stages(CUSTOMERS, where("_id"))),
                     (JOBS, _retrying_stages(SUBSCRIBERS, where("customerId"))),
                     (JOBS, _retrying_stages(WORKSPACES, where("customerId")))]
    if not segments:
        return None
    (first, pipeline), rest = segments[0], segments[1:]
    retrying = {"$eq": ["$_id.t", Tally.RETRYING.value]}
    return first, [
        *pipeline,
        *({"$unionWith": {"coll": collection, "pipeline": stages}} for collection, stages in rest),
        {"$unwind": "$keys"},
        {"$group": {"_id": "$keys", "n": {"$sum": 1}}},
        # Retrying rows are one per entity: fold them into one count.
        {"$group": {"_id": {"t": "$_id.t", "k": {"$cond": [retrying, None, "$_id.k"]}},
                    "n": {"$sum": {"$cond": [retrying, 1, "$n"]}}}},
    ]


async def count(repos: Repositories, owner: Mapping[str, Any], customer_id: str | None, wanted: Collection[Tally]
                ) -> dict[str, dict[Any, int]]:
    """Per tally (its value), the count of each key, as `domain.rules.dashboard.shape` takes them; one command."""
    found = counts_pipeline(owner, customer_id, wanted)
    if found is None:
        return {}
    collection, pipeline = found
    counts: dict[str, dict[Any, int]] = {}
    for row in await repos.db.aggregate(collection, pipeline):
        counts.setdefault(str(row["_id"]["t"]), {})[row["_id"].get("k")] = int(row["n"])
    return counts
