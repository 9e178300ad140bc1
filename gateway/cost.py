"""The static cost estimate of an operation: the database work it will cause, known before anything runs.

Units: a database command (a round trip) costs ROUND_TRIP, each document it reads DOCUMENT. What each field does
is declared next to the resolvers (resolvers/costs.py, `Work`); a field not declared there computes from what
is already in memory and costs nothing. Per field:

- MEMORY: 0. An in-memory list (a customer's `errors`, introspection's `types`) is assumed UNPAGED_LIST_LENGTH
  long: what it selects is multiplied by that, and each item costs IN_MEMORY_ITEM.
- BATCHED (a DataLoader): one ROUND_TRIP for the whole operation, whatever the number of parent objects, plus a
  DOCUMENT per parent (per item of its page or list).
- EACH: a ROUND_TRIP plus its documents per parent object.
- WRITE (a mutation): WRITE.
- A connection (a field with `first`) reads `first` documents (its default page size when not given) and
  multiplies what its `edges` / `nodes` select by that; its `totalCount` (COUNT) is one more command, batched
  like the connection.

So a measure keeps two sums: `fixed`, work done once per operation, and `each`, work per object of the parent
type (multiplied by the enclosing pages and lists). `customers(first: 50) { totalCount edges { node { name
errors { code } } } }` costs 10 + 50 * (1 + 20 * 0.01) + 10 = 80.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from domain.rules.pagination import DEFAULT_PAGE_SIZE
from resolvers.costs import Work, declared_work

ROUND_TRIP = 10.0
DOCUMENT = 1.0
WRITE = 50.0
IN_MEMORY_ITEM = 0.01
# The length assumed for a list without `first` (its length is not known before it runs).
UNPAGED_LIST_LENGTH = 20


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    fixed: float = 0.0
    each: float = 0.0
    counts: int = 0  # `totalCount`s selected on a connection: the connection field prices them

    def add(self, other: Measure, times: float = 1.0) -> None:
        """Adds a sibling selection, `times` per object of this measure's type."""
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.fixed += other.fixed
        self.each += times * other.each
        self.counts += other.counts

    @property
    def cost(self) -> int:
        """The whole operation's cost (at the root: one parent object), rounded up."""
        return math.ceil(round(self.fixed + self.each + ROUND_TRIP * self.counts, 6))


class TooDeep(Exception):
    """The walk went past the depth limit: the operation is refused, no need to measure the rest."""


def may_reach_database(field: GraphQLField) -> bool:
    """Whether the field's resolver could do database work: it takes `info` (the loaders, the repositories) or
    it is async. Fields without a resolver of their own are attributes of an object already built."""
    definition = field.extensions.get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    if resolver is None:
        return False
    return bool(resolver.is_async or resolver.info_parameter is not None
                or inspect.isasyncgenfunction(resolver.wrapped_func))


@lru_cache(maxsize=8)
def field_work(schema: GraphQLSchema) -> dict[tuple[str, str], Work]:
    """The work of every field of the schema's object and interface types (introspection's are in memory)."""
    work: dict[tuple[str, str], Work] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            declared = declared_work(type_.name, name)
            work[(type_.name, name)] = declared or (Work.EACH if may_reach_database(field) else Work.MEMORY)
    return work


def undeclared_fields(schema: GraphQLSchema) -> list[str]:
    """Fields that may reach the database but declare no work in resolvers/costs.py (the estimator takes EACH)."""
    return sorted(f"{type_.name}.{name}" for type_ in schema.type_map.values()
                  if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)) and not type_.name.startswith("__")
                  for name, field in type_.fields.items()
                  if may_reach_database(field) and declared_work(type_.name, name) is None)


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


class Walker:
    """Measures one operation, expanding fragments (each fragment measured once, then reused).

    It stops as soon as it nests deeper than `max_depth`, so neither a deep document nor a chain of fragments
    can make it recurse further than the limit.
    """

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any],
                 max_depth: int) -> None:
        self.schema = schema
        self.work = field_work(schema)
        self.max_depth = max_depth
        self.level = 0
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, Measure] = {}
        self.page_memo: dict[str, tuple[Measure, Measure]] = {}
        self.visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> Measure:
        total = Measure()
        if node is None:
            return total
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total.add(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total.add(self.selection_set(selection.selection_set,
                                             self.schema.get_type(condition.name.value) if condition else parent))
            elif isinstance(selection, FragmentSpreadNode):
                total.add(self.fragment(selection.name.value))
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # unknown or cyclic: validation refuses it anyway
            return Measure()
        self.visiting.add(name)
        measured = self.selection_set(definition.selection_set,
                                      self.schema.get_type(definition.type_condition.name.value))
        self.visiting.discard(name)
        self.memo[name] = measured
        return measured

    def page_parts(self, node: SelectionSetNode, parent: Any) -> tuple[Measure, Measure]:
        """A connection's selections split in two: what it selects once, and what it selects per item (what
        `edges` and `nodes` select), fragments on the connection type included."""
        once, item = Measure(), Measure()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in ("edges", "nodes"):
                    item.add(self.field(selection, parent, counted=True))
                else:
                    once.add(self.field(selection, parent))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                parts = self.page_parts(selection.selection_set,
                                        self.schema.get_type(condition.name.value) if condition else parent)
            elif isinstance(selection, FragmentSpreadNode):
                parts = self.page_fragment(selection.name.value)
            else:
                continue
            once.add(parts[0])
            item.add(parts[1])
        return once, item

    def page_fragment(self, name: str) -> tuple[Measure, Measure]:
        if name in self.page_memo:
            return self.page_memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Measure(), Measure()
        self.visiting.add(name)
        parts = self.page_parts(definition.selection_set, self.schema.get_type(definition.type_condition.name.value))
        self.visiting.discard(name)
        self.page_memo[name] = parts
        return parts

    def definition(self, node: FieldNode, parent: Any) -> GraphQLField | None:
        name = node.name.value
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        fields = parent.fields if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) else {}
        found: GraphQLField | None = fields.get(name)
        return found

    def field(self, node: FieldNode, parent: Any, counted: bool = False) -> Measure:
        """`counted`: the field is a connection's edges/nodes list, whose length its connection already counted."""
        definition = self.definition(node, parent)
        work = Work.MEMORY if parent is None else self.work.get((parent.name, node.name.value), Work.MEMORY)
        alias = 1 if node.alias is not None else 0
        if node.selection_set is None:
            if work is Work.COUNT:
                return Measure(depth=1, aliases=alias, counts=1)
            listed = definition is not None and _is_list(definition.type)
            return self.priced(work, Measure(aliases=alias), reads=UNPAGED_LIST_LENGTH if listed else 1)
        self.level += 1
        try:
            if self.level >= self.max_depth:
                raise TooDeep
            return self.priced(work, *self.children(node, definition, counted), alias=alias)
        finally:
            self.level -= 1

    def children(self, node: FieldNode, definition: GraphQLField | None, counted: bool) -> tuple[Measure, int]:
        """What the field selects, per object of the field's parent, and how many items it reads."""
        assert node.selection_set is not None
        child_type = get_named_type(definition.type) if definition is not None else None
        if definition is not None and "first" in definition.args:
            default = definition.args["first"].default_value
            size = self.first(node, default if isinstance(default, int) and default > 0 else DEFAULT_PAGE_SIZE)
            once, item = self.page_parts(node.selection_set, child_type)
            once.add(item, times=size)
            return once, size
        selected = self.selection_set(node.selection_set, child_type)
        if definition is None or counted or not _is_list(definition.type):
            return selected, 1
        listed = Measure(each=UNPAGED_LIST_LENGTH * IN_MEMORY_ITEM)
        listed.add(selected, times=UNPAGED_LIST_LENGTH)
        return listed, UNPAGED_LIST_LENGTH

    @staticmethod
    def priced(work: Work, children: Measure, reads: int, alias: int = 0) -> Measure:
        """The field's own work added to what it selects (`children`, per object of the field's parent)."""
        measured = Measure(depth=children.depth + 1, aliases=children.aliases + alias,
                           fixed=children.fixed, each=children.each)
        counts = ROUND_TRIP * children.counts
        if work is Work.BATCHED:
            measured.fixed += ROUND_TRIP + counts
            measured.each += DOCUMENT * reads
        elif work is Work.EACH:
            measured.each += ROUND_TRIP + DOCUMENT * reads + counts
        elif work is Work.WRITE:
            measured.each += WRITE + counts
        else:
            measured.each += counts
        return measured

    def first(self, node: FieldNode, default: int) -> int:
        """The field's `first`, from the document or its variables; its default (the page size) when not given."""
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return max(given, 1)
        return default
