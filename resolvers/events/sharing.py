"""Run a subscription's selection once per event for every subscriber that asked the same thing.

Live events reach all local subscribers as one shared `Delivery` (domain.store.event_hub). Subscribers
whose selection (with the variables it uses) and whose scope are the same get the same result, so
the first of them to handle an event executes the selection and the others take its result, and
the websocket handlers encode that result to JSON once (`encoded`). A subscriber whose selection
or scope differs gets its own execution: sharing never crosses what a caller may see.

Riding (domain.store.event_hub): an idle subscriber whose handler gave a `RIDE` (its socket and operation
id) joins the group of subscribers that asked the same thing with the same filter, and is sent the frame of
its group's leader, with its own id, without a task of its own waking up. The leader's execution leaves its
`Delivery.serve` in `SERVE`; the handler calls it with the encoded result as it sends its own frame.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, GraphQLResolveInfo, Node, VariableNode, print_ast
from graphql.language import Visitor, visit
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from domain.model.principal import Principal


@dataclass
class SharingStats:
    executed: int = 0  # selections run for a live event
    reused: int = 0  # times another subscriber's result was taken instead
    encoded: int = 0  # JSON encodings of a shared result
    reencoded: int = 0  # times an encoding was taken instead
    ridden: int = 0  # frames sent to a riding subscriber (neither executed nor encoded for it)


STATS = SharingStats()


class _Uses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.fragments: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.variables.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.fragments.add(node.name.value)


# The printed selection and the variables it uses, per document text and root field position: dashboards open the
# same subscription on thousands of sockets, which then print it once and hold one copy of the text between them.
_SELECTIONS: OrderedDict[tuple[str, tuple[int, ...]], tuple[str, tuple[str, ...]]] = OrderedDict()
SELECTIONS_KEPT = 256
SELECTION_SOURCE_CHARS = 16 * 1024  # longer documents are printed every time rather than kept (memory bound)


def selection_key(info: GraphQLResolveInfo[Any], variable_values: Mapping[str, Any],
                  principal: Principal) -> Hashable:
    """What an event's result depends on besides the event: the selection, the variables it uses, the scope.

    The selection is the root field as written — its alias (the response is keyed by it), directives and
    selection — and every fragment it spreads, with the values of the variables they use. The root field's
    arguments (filter, cursor) only choose which events a subscriber gets, not the shape of an event's result,
    so subscribers resumed from different cursors still share.
    """
    printed, used = _selection(info)
    variables = tuple((name, json.dumps(variable_values.get(name), sort_keys=True, default=str)) for name in used)
    return printed, variables, principal.org_id, principal.roles, principal.scopes


def _selection(info: GraphQLResolveInfo[Any]) -> tuple[str, tuple[str, ...]]:
    source = info.operation.loc.source.body if info.operation.loc is not None else None
    starts = tuple(n.loc.start for n in info.field_nodes if n.loc is not None)
    if source is None or len(starts) != len(info.field_nodes) or len(source) > SELECTION_SOURCE_CHARS:
        return _printed(info)
    key = (source, starts)  # the same text and root fields: the same selection and fragments
    found = _SELECTIONS.get(key)
    if found is None:
        found = _SELECTIONS[key] = _printed(info)
        if len(_SELECTIONS) > SELECTIONS_KEPT:
            _SELECTIONS.popitem(last=False)
    else:
        _SELECTIONS.move_to_end(key)
    return found


def _printed(info: GraphQLResolveInfo[Any]) -> tuple[str, tuple[str, ...]]:
    roots = [FieldNode(alias=n.alias, name=n.name, directives=n.directives, selection_set=n.selection_set,
                       arguments=()) for n in info.field_nodes]
    nodes: list[Node] = list(roots)
    uses = _Uses()
    seen: set[str] = set()
    while nodes:
        node = nodes.pop()
        visit(node, uses)
        for name in sorted(uses.fragments - seen):
            seen.add(name)
            if name in info.fragments:
                nodes.append(info.fragments[name])
    printed = "\n".join(print_ast(n) for n in roots)
    printed += "\n".join(print_ast(info.fragments[name]) for name in sorted(seen) if name in info.fragments)
    return printed, tuple(sorted(uses.variables))


@dataclass(frozen=True)
class Share:
    """Carried by the object a subscription yields: where results of this event are kept, and under which key."""

    results: dict[Hashable, Any]
    key: Hashable
    serve: Callable[[str | None], None] | None = None  # the leader's: its riders' frames, once its own is made


# Set by the websocket handlers for the operation task they start: sends an event's encoded result to that
# operation's socket now (domain.store.event_hub.Ride). None elsewhere (no riding).
RIDE: ContextVar[Callable[[str], Awaitable[None] | None] | None] = ContextVar("ride", default=None)
# The `serve` of the event an operation task executed last, for the handler to call as it sends the result.
SERVE: ContextVar[Callable[[str | None], None] | None] = ContextVar("serve", default=None)


async def _shared(future: asyncio.Future[Any]) -> Any:
    return await asyncio.shield(future)  # one subscriber leaving must not cancel the others' result


class SharingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, taking an event's result from an earlier subscriber with the same key."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        share: Share | None = getattr(self.root_value, "share", None)
        if share is None:
            return super().execute_operation(serially)
        SERVE.set(share.serve)
        existing = share.results.get(share.key)
        if existing is not None:
            STATS.reused += 1
            return _shared(existing) if isinstance(existing, asyncio.Future) else existing
        STATS.executed += 1
        result = super().execute_operation(serially)
        if not self.is_awaitable(result):
            share.results[share.key] = result
            return result
        future = share.results[share.key] = asyncio.ensure_future(result)
        return _shared(future)


class _Encodings:
    """A small cache of JSON encodings of shared result data, looked up by identity."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[object, str]] = OrderedDict()

    def encode(self, data: object) -> str:
        entry = self._items.get(id(data))
        if entry is not None and entry[0] is data:
            STATS.reencoded += 1
            return entry[1]
        STATS.encoded += 1
        text = json.dumps(data, separators=(",", ":"), default=str)
        self._items[id(data)] = (data, text)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return text


ENCODINGS = _Encodings()
