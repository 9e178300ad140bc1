"""Execution plans (resolvers.plan) answer exactly what graphql-core's executor answers, errors included.

Each case runs one document on two copies of the same Strawberry schema: one executed with PlannedExecutionContext,
one with the executor it replaces (SharingExecutionContext). The results must be equal: data, and every error's
message, path and locations, in order. The cases are the ones the plan handles itself (plain attributes, resolvers
called directly, arguments converted once per execution) and every way a value can go wrong on them.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from resolvers.events.sharing import SharingExecutionContext
from resolvers.plan import BASIC, DIRECT, PLANS, SLOW, Later, PlannedExecutionContext, plan_field


def on_its_way(value: object, convert: Callable[[Any], Any] | None = None, turns: int = 1) -> Later:
    """A `Later` whose future settles `turns` loop turns after the resolver returns (an exception: it fails)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(left: int) -> None:
        if left > 1:
            loop.call_soon(settle, left - 1)
        elif isinstance(value, Exception):
            future.set_exception(value)
        else:
            future.set_result(value)

    loop.call_soon(settle, turns)
    return Later(future, convert) if convert else Later(future)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    size: int | None
    tags: list[str]

    @strawberry.field
    def doubled(self) -> int:
        if self.size is None:
            raise ValueError(f"{self.name} has no size")
        return self.size * 2

    # Leaves on their way (a count the database is computing): they fail without a size.
    @strawberry.field
    def weight(self) -> int:
        return on_its_way(ValueError(f"{self.name} weighs nothing") if self.size is None  # type: ignore[return-value]
                          else self.size * 10)

    @strawberry.field
    def maybe_weight(self) -> int | None:
        return on_its_way(ValueError(f"{self.name} weighs nothing") if self.size is None  # type: ignore[return-value]
                          else self.size * 10)

    @strawberry.field
    def label(self) -> str | None:
        return on_its_way(self.size, lambda size: None if size is None  # type: ignore[return-value]
                          else f"{self.name}-{size}")


@strawberry.input
class Window:
    first: int = 2
    colour: Colour | None = None


@strawberry.type
class Branch(Named):
    colour: Colour
    at: datetime
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    strict: list[int]
    weird: Any = strawberry.field(graphql_type=str | None, default=None)

    @strawberry.field
    def first_leaf(self, info: Info) -> Leaf:
        return self.leaves[0] if self.leaves else None  # type: ignore[return-value]

    @strawberry.field
    async def later(self) -> Leaf | None:
        await asyncio.sleep(0)
        return self.leaves[-1] if self.leaves else None

    @strawberry.field
    def window(self, info: Info, window: Window | None = None, label: str = "w") -> list[str]:
        picked = self.leaves[: (window.first if window else 2)]
        colour = window.colour.value if window and window.colour else "-"
        return [f"{label}:{colour}:{leaf.name}:{info.path.key}" for leaf in picked]

    @strawberry.field
    def soon(self) -> list[Leaf]:
        async def one(leaf: Leaf) -> Leaf:
            await asyncio.sleep(0)
            return leaf

        return [one(leaf) for leaf in self.leaves]  # type: ignore[misc]

    @strawberry.field
    def named(self) -> Named:
        return self.leaves[0]

    @strawberry.field
    def counted(self) -> int:
        """The leaves' count on its way: one future, shared by every alias of the field (as a loader's is)."""
        if not hasattr(self, "_count"):
            self._count = on_its_way(list(self.leaves)).future
        return Later(self._count, len)  # type: ignore[return-value]

    @strawberry.field
    async def shared_count(self, info: Info) -> int:
        """Awaits a future shared through the request's context, as a resolver awaiting a loader's does; it
        settles a few turns after the leaves' weights."""
        key = ("shared", self.name)
        if key not in info.context:
            info.context[key] = on_its_way(len(self.leaves), turns=5).future
        return await info.context[key]  # type: ignore[no-any-return]

    @strawberry.field
    def badly_counted(self) -> int:
        return on_its_way("many")  # type: ignore[return-value]


class NotABranch:
    name = "impostor"


def branches() -> list[Any]:
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    good = Branch(name="good", colour=Colour.RED, at=at, leaves=[Leaf(name="a", size=1, tags=["x"]),
                                                                   Leaf(name="b", size=None, tags=[])],
                  maybe_leaves=[None, Leaf(name="c", size=3, tags=["y", "z"])], strict=[1, 2])
    broken = Branch(name=None, colour="green", at=at, leaves=[Leaf(name="d", size=4, tags=[None])],  # type: ignore
                    maybe_leaves=None, strict=[1, None], weird=object())  # type: ignore[list-item]
    empty = Branch(name="empty", colour=Colour.BLUE, at=at, leaves=[], maybe_leaves=[], strict=(3, 4))  # type: ignore
    return [good, broken, empty, NotABranch(), None]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch | None]:
        return branches()

    @strawberry.field
    def strict_branches(self) -> list[Branch]:
        return branches()[:3]

    @strawberry.field
    def not_a_list(self) -> Branch:
        return Branch(name="odd", colour=Colour.RED, at=datetime(2026, 1, 1, tzinfo=UTC),
                      leaves=iter([Leaf(name="g", size=1, tags=[])]), maybe_leaves=None, strict=[])  # type: ignore


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, info: Info, count: int = 2) -> AsyncGenerator[Branch, None]:
        for branch in branches()[:count]:
            yield branch


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    return (strawberry.Schema(query=Query, subscription=Subscription, types=[Leaf],
                              execution_context_class=PlannedExecutionContext),
            strawberry.Schema(query=Query, subscription=Subscription, types=[Leaf],
                              execution_context_class=SharingExecutionContext))


DOCUMENTS = {
    "plain fields, lists, nested objects, enums, dates": """{ strictBranches { name colour at strict
        leaves { name size tags doubled } maybeLeaves { name tags } } }""",
    "null propagation in nullable list items": "{ branches { name colour strict leaves { tags } } }",
    "resolvers called directly, sync and async": "{ branches { firstLeaf { name size } later { name doubled } } }",
    "arguments from literals and variables": """query($w: WindowInput, $l: String!) { branches {
        a: window b: window(window: {first: 1, colour: BLUE}, label: "lit") c: window(window: $w, label: $l) } }""",
    "awaitable list items": "{ branches { soon { name doubled } } }",
    "abstract types stay with the executor": "{ branches { named { __typename name ... on Leaf { size } } } }",
    "a value that is not a list": "{ notAList { name leaves { name } } }",
    "a custom scalar that cannot coerce": "{ branches { name weird } }",
    "aliases and merged fields": """{ branches { x: name name ... on Branch { leaves { name } leaves { size } } } }""",
    "leaves on their way, all well": "{ branches { counted again: counted name leaves { name label } } }",
    "a nullable leaf on its way fails": "{ branches { colour leaves { name maybeWeight size } } }",
    "a non-null leaf on its way fails (the object is executed again)":
        "{ branches { counted weird leaves { name weight tags } } }",
    "a leaf on its way that does not coerce": "{ branches { name badlyCounted counted } }",
    "leaves on their way beside awaited fields": "{ branches { counted later { name weight } soon { label } } }",
}


def _canonical(result: Any) -> str:
    errors = [{"message": e.message, "path": e.path, "locations": [(loc.line, loc.column) for loc in e.locations or []]}
              for e in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, sort_keys=False, default=str)


@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_a_planned_execution_answers_what_the_executor_answers(name: str) -> None:
    planned, stock = schemas()
    variables = {"w": {"first": 1, "colour": "RED"}, "l": "var"}
    ours = await planned.execute(DOCUMENTS[name], variable_values=variables)
    theirs = await stock.execute(DOCUMENTS[name], variable_values=variables)
    assert _canonical(ours) == _canonical(theirs)
    assert ours.data is not None or ours.errors  # every case answers something
    again = await planned.execute(DOCUMENTS[name], variable_values=variables)  # from the cached plans
    assert _canonical(again) == _canonical(theirs)


async def test_the_error_cases_really_are_errors() -> None:
    """The cases above are not vacuous: the broken branch produces the errors the executor would."""
    planned, _ = schemas()
    result = await planned.execute("{ branches { name colour strict leaves { tags } } }")
    messages = [e.message for e in result.errors or []]
    assert any("Cannot return null for non-nullable field Branch.name." == m for m in messages)
    assert any("Expected value of type 'Branch' but got" in m for m in messages)
    assert result.data is not None and result.data["branches"][1] is None and result.data["branches"][4] is None


async def test_leaves_on_their_way_are_filled_in_not_awaited_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deferred path really runs: with plans, no `Later` of a well-behaved document is awaited by the executor
    (each would be a task of its own); the whole object waits once. Without plans, graphql-core awaits each."""
    awaited: list[Later] = []
    plain_await = Later.__await__

    def counting(self: Later) -> Any:
        awaited.append(self)
        return plain_await(self)

    monkeypatch.setattr(Later, "__await__", counting)
    planned, stock = schemas()
    document = DOCUMENTS["leaves on their way, all well"]
    ours = await planned.execute(document)
    assert awaited == []
    assert ours.data is not None and ours.data["branches"][0]["counted"] == 2
    assert ours.data["branches"][0]["leaves"] == [{"name": "a", "label": "a-1"}, {"name": "b", "label": None}]
    await stock.execute(document)
    assert len(awaited) > 6


async def test_a_failed_leaf_on_its_way_is_reported_once() -> None:
    """The object executed again after a deferred leaf failed does not repeat the errors its first attempt met
    (the broken branch's `weird` and its leaf's null tag, the impostor's type)."""
    planned, _ = schemas()
    result = await planned.execute(DOCUMENTS["a non-null leaf on its way fails (the object is executed again)"])
    messages = [e.message for e in result.errors or []]
    assert messages.count("b weighs nothing") == 1
    assert len(messages) == len(set(messages)) == 4, messages


async def test_a_retry_after_a_failed_leaf_finds_what_it_shares_with_the_first_attempt_intact() -> None:
    """A deferred leaf fails while another field of the first attempt still awaits a future it shares with the
    retry (a loader's): that field is let end, not cancelled (a cancelled future would fail the retry)."""
    planned, stock = schemas()
    document = "{ branches { sharedCount leaves { name weight } } }"
    ours = await planned.execute(document, context_value={})
    theirs = await stock.execute(document, context_value={})
    assert _canonical(ours) == _canonical(theirs)
    assert ours.data is not None and ours.data["branches"][2] == {"sharedCount": 0, "leaves": []}


async def test_a_subscription_s_events_are_executed_as_by_the_executor() -> None:
    """The root field of a subscription hands on each event (its resolver is the generator): never called directly."""
    planned, stock = schemas()
    document = "subscription { ticks(count: 2) { name colour leaves { name tags } firstLeaf { size } } }"
    answers = []
    for schema in (planned, stock):
        stream = await schema.subscribe(document)
        answers.append([_canonical(result) async for result in stream])
    assert answers[0] == answers[1]
    assert len(answers[0]) == 2 and '"good"' in answers[0][0] and "Cannot return null" in answers[0][1]


def test_plans_classify_fields() -> None:
    planned, _ = schemas()
    schema = planned._schema
    branch = schema.type_map["Branch"]

    class Details:
        def __init__(self, node: Any) -> None:
            self.node, self.fragment_variable_values = node, None

    from graphql import parse

    document = parse("{ name leaves firstLeaf window(label: \"x\") named later }")
    nodes = {n.name.value: n for n in document.definitions[0].selection_set.selections}  # type: ignore[attr-defined]
    kinds = {name: plan_field(branch, name, [Details(node)], schema).kind for name, node in nodes.items()}  # type: ignore
    assert kinds == {"name": BASIC, "leaves": BASIC, "firstLeaf": DIRECT, "window": DIRECT, "later": DIRECT,
                     "named": SLOW}
    assert PLANS.size > 0
