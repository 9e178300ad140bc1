"""The baselines: bare Strawberry (stock `strawberry.asgi.GraphQL` views), with types named and shaped as ours.

* `stock_app(data)`: the dashboard's `customers`, served from memory (bench.own_cost compares our own cost to it);
* `naive_app()`: a naive broadcast server for `provisioningEvents` (bench.fanout), run as a process of its own by
  `serve_naive(port)`: one async generator reading its own unbounded asyncio.Queue per subscriber; POST /publish
  puts one event object into every queue, and every subscriber executes and serialises its own result.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from bench.support import _ours


def stock_enum(name: str, values: str) -> type[Enum]:
    """A GraphQL enum as ours is: named `name`, each of `values` (space-separated) a member of that name and value."""
    members = cast(type[Enum], Enum(name, [(value, value) for value in values.split()]))
    return strawberry.enum(members, name=name)


if TYPE_CHECKING:  # plain enums to the type checker: their members are made when this module is imported
    CustomerStatus: TypeAlias = Enum
    OrgKind: TypeAlias = Enum
    PackageName: TypeAlias = Enum
    PackageStatus: TypeAlias = Enum
    EntityType: TypeAlias = Enum
else:  # the same values as ours, read from our enums, so that a new status never breaks the baseline
    CustomerStatus = stock_enum("CustomerStatus", " ".join(m.value for m in _ours.CustomerStatus))
    OrgKind = stock_enum("OrgKind", " ".join(m.value for m in _ours.OrgKind))
    PackageName = stock_enum("PackageName", " ".join(m.value for m in _ours.PackageName))
    PackageStatus = stock_enum("PackageStatus", " ".join(m.value for m in _ours.PackageStatus))
    EntityType = stock_enum("EntityType", " ".join(m.value for m in _ours.EntityType))


@strawberry.type
class Named:
    """The fields every object type here starts with (not a type of the schemas itself: nothing returns it)."""

    id: strawberry.ID
    name: str


# --- the dashboard, from memory ---------------------------------------------------------------------------------------


@strawberry.type(name="Partner")
class StockPartner(Named):
    kind: OrgKind


@strawberry.type(name="OnboardingTemplate")
class StockTemplate(Named):
    country: str


@strawberry.type(name="CustomerPackage")
class StockPackage:
    name: PackageName
    status: PackageStatus
    limit: int | None
    assigned: int


@strawberry.type(name="SubscriberConnection")
class StockSubscriberConnection:
    total_count: int


@strawberry.type(name="Customer")
class StockCustomer(Named):
    external_id: str
    status: CustomerStatus
    last_status_change: datetime
    owner: StockPartner
    template: StockTemplate
    packages: list[StockPackage]
    subscriber_count: strawberry.Private[int]

    @strawberry.field
    def subscribers(self, first: int | None = 50, after: str | None = None) -> StockSubscriberConnection:
        return StockSubscriberConnection(total_count=self.subscriber_count)


@strawberry.type(name="CustomerEdge")
class StockEdge:
    cursor: str
    node: StockCustomer


@strawberry.type(name="PageInfo")
class StockPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="CustomerConnection")
class StockConnection:
    total_count: int
    page_info: StockPageInfo
    edges: list[StockEdge]


@strawberry.input(name="CustomerFilter")
class StockCustomerFilter:
    include_sub_partners: bool | None = False


def stock_customer(node: dict[str, Any]) -> StockCustomer:
    owner, template = node["owner"], node["template"]
    return StockCustomer(
        id=strawberry.ID(node["id"]), external_id=node["externalId"], name=node["name"],
        status=CustomerStatus(node["status"]), last_status_change=datetime.fromisoformat(node["lastStatusChange"]),
        owner=StockPartner(id=strawberry.ID(owner["id"]), name=owner["name"], kind=OrgKind(owner["kind"])),
        template=StockTemplate(id=strawberry.ID(template["id"]), name=template["name"], country=template["country"]),
        packages=[StockPackage(name=PackageName(p["name"]), status=PackageStatus(p["status"]), limit=p["limit"],
                               assigned=p["assigned"]) for p in node["packages"]],
        subscriber_count=node["subscribers"]["totalCount"])


def stock_connection(data: dict[str, Any]) -> StockConnection:
    """The objects behind a dashboard answer's `customers`, so that Strawberry resolves them field by field."""
    customers = data["customers"]
    edges = [StockEdge(cursor=edge["cursor"], node=stock_customer(edge["node"])) for edge in customers["edges"]]
    info = customers["pageInfo"]
    return StockConnection(total_count=customers["totalCount"], edges=edges,
                           page_info=StockPageInfo(has_next_page=info["hasNextPage"], end_cursor=info["endCursor"]))


def stock_app(data: dict[str, Any]) -> Starlette:
    """Stock Strawberry on Starlette: the `customers` of `data`, whatever the arguments."""
    connection = stock_connection(data)

    @strawberry.type(name="Query")
    class StockQuery:
        @strawberry.field
        def customers(self, filter: StockCustomerFilter | None = None, first: int | None = 50,
                      after: str | None = None) -> StockConnection:
            return connection

    view: GraphQL[None, None] = GraphQL(strawberry.Schema(query=StockQuery))
    return Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])])


# --- the naive broadcast server ---------------------------------------------------------------------------------------


@strawberry.type(name="Customer")
class NaiveCustomer(Named):
    status: CustomerStatus


@strawberry.input(name="EventFilter")
class NaiveEventFilter:
    """Of our EventFilter, what the naive server reads (the fan-out's document sends nothing else)."""

    entity_types: list[EntityType] | None = None


@strawberry.type(name="ProvisioningEvent")
class NaiveEvent:
    """Of our ProvisioningEvent, the fields the fan-out's document selects (each executed per subscriber)."""

    cursor: str
    entity_type: EntityType
    entity_id: strawberry.ID
    customer_id: strawberry.ID | None
    from_status: str | None
    to_status: str
    version: int
    occurred_at: datetime

    @strawberry.field
    def customer(self) -> NaiveCustomer | None:
        return NAIVE_CUSTOMERS.get(str(self.customer_id)) if self.customer_id else None


NAIVE_CUSTOMERS: dict[str, NaiveCustomer] = {}
NAIVE_QUEUES: list[asyncio.Queue[NaiveEvent]] = []  # one per subscriber, unbounded
NAIVE_SEQ = itertools.count(1)


@strawberry.type(name="Query")
class NaiveQuery:
    @strawberry.field
    def subscribers(self) -> int:
        return len(NAIVE_QUEUES)


@strawberry.type(name="Subscription")
class NaiveSubscription:
    @strawberry.subscription
    async def provisioning_events(self, filter: NaiveEventFilter | None = None,
                                  after: str | None = None) -> AsyncGenerator[NaiveEvent, None]:
        wanted = set(filter.entity_types) if filter is not None and filter.entity_types else None
        queue: asyncio.Queue[NaiveEvent] = asyncio.Queue()
        NAIVE_QUEUES.append(queue)
        try:
            while True:
                event = await queue.get()
                if wanted is None or event.entity_type in wanted:
                    yield event
        finally:
            NAIVE_QUEUES.remove(queue)


async def naive_publish(request: Request) -> JSONResponse:
    """One event for a new customer ({"customerId", "name"}), put into every subscriber's queue."""
    body = await request.json()
    customer = NaiveCustomer(id=strawberry.ID(body["customerId"]), name=body["name"],
                             status=CustomerStatus("provisioning"))
    NAIVE_CUSTOMERS[str(customer.id)] = customer
    seq = next(NAIVE_SEQ)
    event = NaiveEvent(cursor=f"naive:{seq:012d}", entity_type=EntityType("CUSTOMER"), entity_id=customer.id,
                       customer_id=customer.id, from_status=None, to_status="provisioning", version=1,
                       occurred_at=datetime.now(UTC))
    for queue in NAIVE_QUEUES:
        queue.put_nowait(event)
    return JSONResponse({"entityId": str(customer.id), "subscribers": len(NAIVE_QUEUES)})


async def naive_ready(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


def naive_app() -> Starlette:
    schema = strawberry.Schema(query=NaiveQuery, subscription=NaiveSubscription)
    view: GraphQL[None, None] = GraphQL(schema)
    return Starlette(routes=[
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/publish", naive_publish, methods=["POST"]),
        Route("/readyz", naive_ready, methods=["GET"]),
    ])


def serve_naive(port: int) -> int:
    # As `gateway serve` runs: uvicorn's defaults, log level info (it too logs every websocket), served from
    # inside asyncio.run, so on the standard library's event loop (uvicorn.run would pick uvloop).
    config = uvicorn.Config(naive_app(), host="127.0.0.1", port=port, log_level="info", lifespan="off")
    server = uvicorn.Server(config)
    asyncio.run(server.serve())
    return 0 if server.started else 1
