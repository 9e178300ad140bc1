"""Limits on what one operation may ask for, checked before anything runs, over HTTP and websockets alike.

Two kinds of checks:
- on the raw request, by the transports (gateway.http_graphql and the websocket handlers): the per-caller
  token bucket (RATE_LIMITED, with a retry hint) and the lexical token count (QUERY_TOO_COMPLEX), both before
  the document is parsed;
- on the parsed document, by `OperationLimits` (a Strawberry extension that runs in the validation phase, so
  subscriptions get it too): depth, aliases, root fields, list arguments and a static cost estimate. A refused
  operation gets QUERY_TOO_COMPLEX naming the limit, and no resolver runs. The estimate is reported in the
  response's `extensions.cost` for every operation, refused or not.

The cost estimate (gateway.cost) counts the database work the operation will cause: commands and the documents
they read; fields of objects already read cost (next to) nothing.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    Visitor,
    parse,
    visit,
)
from graphql.language import BREAK, Lexer, Source, TokenKind
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from gateway.cost import Measure, TooDeep, Walker
from gateway.settings import Settings
from gateway.text_inputs import check_text, written_arguments

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True)
class Limits:
    depth: int
    aliases: int
    tokens: int
    root_fields: int
    cost: int
    input_list: int

    @classmethod
    def of(cls, s: Settings) -> Limits:
        return cls(depth=s.max_depth, aliases=s.max_aliases, tokens=s.max_tokens, root_fields=s.max_root_fields,
                   cost=s.max_cost, input_list=s.max_input_list)


def too_complex(message: str, limit: str, maximum: int, **extra: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX, "limit": limit, "max": maximum, **extra})


def rate_limited(retry_after: float) -> GraphQLError:
    seconds = max(1, math.ceil(retry_after))
    return GraphQLError(f"Too many requests: retry in {seconds} s",
                        extensions={"code": RATE_LIMITED, "retryAfter": seconds})


def count_tokens(source: str, stop_after: int) -> int:
    """The document's lexical tokens (punctuators, names, values), counting no further than `stop_after` + 1.

    Cheap by construction: a hostile document is read only up to the limit. A document that does not lex
    counts as what was read so far; the parser reports the syntax error itself.
    """
    lexer = Lexer(Source(source))
    count = 0
    try:
        while count <= stop_after:
            if lexer.advance().kind == TokenKind.EOF:
                break
            count += 1
    except GraphQLError:
        pass
    return count


def check_tokens(source: str, limits: Limits) -> GraphQLError | None:
    if count_tokens(source, limits.tokens) > limits.tokens:
        return too_complex(f"The document has more than {limits.tokens} tokens", "tokens", limits.tokens)
    return None


class TokenBuckets:
    """A token bucket per caller: `burst` operations at once, refilled at `rate` per second.

    Memory is bounded: at most `max_callers` buckets are kept, the least recently used one is dropped first
    (a dropped caller starts again with a full bucket, which only ever errs towards letting work through).
    """

    def __init__(self, rate: float, burst: int, *, max_callers: int = 100_000,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self._now = now
        self._buckets: OrderedDict[Any, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, caller: Any) -> float:
        """Spend one operation for `caller`: 0.0 when allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = self._now()
        tokens, stamp = self._buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[caller] = (tokens, now)
        if len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        return wait


def caller_key(principal: Any) -> tuple[str | None, str] | None:
    """Whose bucket an operation spends: the token's org and subject (so a fresh token does not reset it)."""
    if principal is None:
        return None
    return (principal.org_id, principal.subject)


def admit(buckets: TokenBuckets, principal: Any, query: object, limits: Limits) -> GraphQLError | None:
    """The checks on a raw operation, cheapest first: the caller's rate limit, then the document's size."""
    wait = buckets.take(caller_key(principal))
    if wait:
        return rate_limited(wait)
    return check_tokens(query, limits) if isinstance(query, str) else None


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def root_field_count(walker: Walker, node: SelectionSetNode) -> int:
    count = 0
    for selection in node.selections:
        if isinstance(selection, FieldNode):
            count += 1
        elif isinstance(selection, InlineFragmentNode):
            count += root_field_count(walker, selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = walker.fragments.get(selection.name.value)
            if fragment is not None and selection.name.value not in walker.visiting:
                walker.visiting.add(selection.name.value)
                count += root_field_count(walker, fragment.selection_set)
                walker.visiting.discard(selection.name.value)
    return count


def _long_lists(value: Any, path: list[str], maximum: int) -> Iterator[list[str]]:
    """Paths of lists longer than `maximum` in a variable's value (JSON), without recursion (JSON may nest deep)."""
    pending: list[tuple[Any, list[str]]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, list):
            if len(current) > maximum:
                yield where
                continue
            pending.extend((item, [*where, str(i)]) for i, item in enumerate(current))
        elif isinstance(current, dict):
            pending.extend((item, [*where, str(key)]) for key, item in current.items())


def _long_literals(value: ValueNode, path: list[str], maximum: int) -> Iterator[list[str]]:
    pending: list[tuple[ValueNode, list[str]]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, ListValueNode):
            if len(current.values) > maximum:
                yield where
                continue
            pending.extend((item, [*where, str(i)]) for i, item in enumerate(current.values))
        elif isinstance(current, ObjectValueNode):
            pending.extend((field.value, [*where, field.name.value]) for field in current.fields)


class _HugeInt(Visitor):
    def __init__(self, digits: int) -> None:
        super().__init__()
        self.digits = digits
        self.found: IntValueNode | None = None

    def enter_int_value(self, node: IntValueNode, *_: Any) -> Any:
        if len(node.value.lstrip("-")) > self.digits:
            self.found = node
            return BREAK
        return None


def huge_int_literal(document: DocumentNode) -> GraphQLError | None:
    """An Int literal longer than Python converts to an int (`sys.get_int_max_str_digits()`, 4300 digits by default).

    graphql-core's Int coercion and the cost estimate (`first`) would fail on it with a ValueError, an unexpected
    error, rather than refuse it; it is no 32-bit Int, so it is refused here as validation would refuse 2**31.
    """
    digits = sys.get_int_max_str_digits()
    source = document.loc.source.body if document.loc is not None else None
    # Only from the start of a run of digits: linear (unanchored, 60 runs of 4300 digits took 4 s).
    if not digits or (source is not None and not re.search(rf"(?<!\d)\d{{{digits + 1}}}", source)):
        return None
    finder = _HugeInt(digits)
    visit(document, finder)
    if finder.found is None:
        return None
    return GraphQLError(f"An Int literal has more than {digits} digits", nodes=[finder.found],
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED"})


def measure_operation(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                      variables: Mapping[str, Any] | None, limits: Limits) -> tuple[int | None, GraphQLError | None]:
    """The operation's estimated cost, and the first limit it exceeds (None when within all of them).

    An operation that cannot be selected (several without a name, an unknown name) is left to validation.
    """
    if (huge := huge_int_literal(document)) is not None:
        return None, huge
    operation = select_operation(document, operation_name)
    if operation is None:
        return None, None
    values = dict(variables or {})
    for name, value in values.items():
        for path in _long_lists(value, [name], limits.input_list):
            return None, too_complex(f"A list argument has more than {limits.input_list} items",
                                     "inputList", limits.input_list, field=path)
    walker = Walker(schema, document, values, limits.depth)
    for where, literal in written_arguments(operation, walker.fragments):
        for path in _long_literals(literal, where, limits.input_list):
            return None, too_complex(f"A list argument has more than {limits.input_list} items",
                                     "inputList", limits.input_list, field=path)
    roots = root_field_count(walker, operation.selection_set)
    if roots > limits.root_fields:
        return None, too_complex(f"The operation selects {roots} top-level fields; at most {limits.root_fields} "
                                 "are allowed", "rootFields", limits.root_fields)
    root_type = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
                 OperationType.SUBSCRIPTION: schema.subscription_type}[operation.operation]
    try:
        measured = walker.selection_set(operation.selection_set, root_type)
    except TooDeep:
        measured = Measure(depth=limits.depth + 1)
    if measured.depth > limits.depth:
        return None, too_complex(f"The operation nests more than {limits.depth} levels deep", "depth", limits.depth)
    if measured.aliases > limits.aliases:
        return measured.cost, too_complex(f"The operation uses {measured.aliases} aliases; at most "
                                          f"{limits.aliases} are allowed", "aliases", limits.aliases)
    if measured.cost > limits.cost:
        return measured.cost, too_complex(f"The operation's estimated cost is {measured.cost}; at most "
                                          f"{limits.cost} is allowed (the database work it would cause)",
                                          "cost", limits.cost, cost=measured.cost)
    return measured.cost, None


# Dashboards send the same few documents over and over: each is parsed and validated once, then reused. Bounded
# (least recently used first out), so a stream of distinct documents costs what it would without the caches.
DOCUMENT_CACHE_SIZE = 512


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parsed(source: str, max_tokens: int) -> DocumentNode:
    return parse(source, max_tokens=max_tokens)


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _validated(schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]) -> list[GraphQLError]:
    # Keyed by the document object itself: only documents from `_parsed` (the same object for the same text) hit.
    return validate_document(schema, document, rules)


def operation_limits(limits: Limits) -> type[SchemaExtension]:
    """The Strawberry extension enforcing `limits` on every operation, before validation's own rules run.

    It also parses and validates through small caches (a document's validity does not change between requests).
    """

    class OperationLimits(SchemaExtension):
        cost: int | None = None
        subscription = False

        def on_parse(self) -> Iterator[None]:
            ctx = self.execution_context
            if ctx.graphql_document is None and ctx.query:
                # A document that does not parse is left to Strawberry, which reports the syntax error.
                with contextlib.suppress(GraphQLError):
                    ctx.graphql_document = _parsed(ctx.query, limits.tokens)
            yield

        def on_validate(self) -> Iterator[None]:
            ctx = self.execution_context
            if ctx.graphql_document is not None and ctx.pre_execution_errors is None:
                self.cost, refusal = measure_operation(ctx.schema._schema, ctx.graphql_document,
                                                       ctx.operation_name, ctx.variables, limits)
                operation = select_operation(ctx.graphql_document, ctx.operation_name)
                if refusal is None and operation is not None:
                    refusal = check_text(ctx.graphql_document, operation, ctx.variables)
                self.subscription = operation is not None and operation.operation == OperationType.SUBSCRIPTION
                # Set before Strawberry's own validation step, which then does nothing: a refused operation is
                # never validated (some rules cost more than linear time on hostile documents) nor executed.
                ctx.pre_execution_errors = ([refusal] if refusal is not None else
                                            _validated(ctx.schema._schema, ctx.graphql_document,
                                                       tuple(ctx.validation_rules)))
            yield

        def get_results(self) -> dict[str, Any]:
            # Not on each event of a subscription: those results are shared by all its subscribers and encoded
            # once (resolvers.events.sharing), which needs them to be `data` alone.
            if self.cost is None or self.subscription:
                return {}
            return {"cost": {"estimated": self.cost, "limit": limits.cost}}

    return OperationLimits
