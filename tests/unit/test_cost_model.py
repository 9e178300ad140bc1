"""The cost estimate (gateway.cost) counts database work: commands (10) and the documents they read (1 each).

Fields of objects already read cost nothing; what reaches the database is declared in resolvers/costs.py, and a
field that could reach it but is not declared fails the first test here (and is priced as a command per parent).
"""

from __future__ import annotations

from functools import cache

import pytest
import strawberry
from graphql import GraphQLSchema, get_introspection_query, parse
from strawberry.types import Info

from gateway.cost import field_work, undeclared_fields
from gateway.limits import Limits, measure_operation
from resolvers.costs import FIELD_WORK, Work
from resolvers.schema import build_schema

LIMITS = Limits(depth=15, aliases=30, tokens=2000, root_fields=10, cost=25_000, input_list=100)


@cache
def _schema() -> GraphQLSchema:
    return build_schema()._schema


def cost(query: str, variables: dict[str, object] | None = None) -> int:
    measured, refusal = measure_operation(_schema(), parse(query), None, variables, LIMITS)
    assert measured is not None, refusal
    return measured


@strawberry.type
class Thing:
    name: str

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def fetched(self, info: Info) -> list[str]:
        return []


@strawberry.type(name="Query")
class ToyQuery:
    @strawberry.field
    async def thing(self) -> Thing:
        return Thing(name="x")


def test_every_field_that_may_reach_the_database_declares_its_work() -> None:
    # A resolver taking `info` (loaders, repositories) or async: resolvers/costs.py must say how its work scales.
    assert undeclared_fields(_schema()) == []


def test_every_declared_field_exists() -> None:
    schema = _schema()
    stale = []
    for key in FIELD_WORK:
        type_name, field_name = key.split(".")
        if "*" in key:
            continue
        type_ = schema.get_type(type_name)
        if type_ is None or field_name not in getattr(type_, "fields", {}):
            stale.append(key)
    assert stale == []


def test_a_new_field_reaching_the_database_cannot_escape_unpriced() -> None:
    schema = strawberry.Schema(query=ToyQuery)._schema
    assert undeclared_fields(schema) == ["Thing.fetched"]  # `Query.*` covers the root
    work = field_work(schema)
    # Undeclared: a command per parent meanwhile; computed from the object: free.
    assert (work[("Thing", "fetched")], work[("Thing", "computed")], work[("Thing", "name")]) == (
        Work.EACH, Work.MEMORY, Work.MEMORY)
    measured, _ = measure_operation(schema, parse("{ thing { name computed fetched } }"), None, None, LIMITS)
    assert measured == (10 + 1) + (10 + 20)  # a list of 20 values, read per thing


def test_a_page_costs_a_command_and_its_documents_and_embedded_fields_cost_next_to_nothing() -> None:
    assert cost("{ customers(first: 50) { edges { node { id name status } } } }") == 10 + 50
    # errors, packages, their errors: lists the documents hold, 20 items assumed at 0.01 each.
    assert cost("""{ customers(first: 50) { totalCount edges { node { name address { city } errors { code }
                    packages { name errors { code } } } } } }""") == 10 + 10 + 50 * (1 + 0.2 + 20 * (0.01 + 0.2))
    assert cost("query($n: Int) { customers(first: $n) { edges { node { id } } } }", {"n": 7}) == 10 + 7
    assert cost("{ customers { edges { node { id } } } }") == 10 + 50  # the default page size


def test_a_loader_costs_one_command_for_every_parent_and_a_document_per_parent() -> None:
    page = "{ customers(first: %d) { edges { node { owner { name } template { name } } } } }"
    assert cost(page % 50) == (10 + 50) + 2 * (10 + 50)
    assert cost(page % 50) - cost(page % 10) == 40 * 3  # the commands do not grow with the page


def test_a_page_per_parent_costs_a_command_per_parent() -> None:
    # Customer.events is one query per customer; Customer.subscribers is batched across the page.
    assert cost("{ customers(first: 10) { edges { node { events(first: 5) { edges { node { action } } } } } } }"
                ) == 10 + 10 + 10 * (10 + 5)
    assert cost("{ customers(first: 10) { edges { node { subscribers(first: 5) { edges { node { id } } } } } } }"
                ) == 10 + 10 + 10 + 10 * 5


def test_a_total_count_is_one_more_command_batched_like_its_connection() -> None:
    batched = "{ customers(first: 10) { edges { node { subscribers(first: 5) { totalCount } } } } }"
    assert cost(batched) == (10 + 10) + (10 + 10 * 5) + 10
    each = "{ customers(first: 10) { edges { node { events(first: 5) { totalCount } } } } }"
    assert cost(each) == (10 + 10) + 10 * (10 + 5 + 10)
    # In a fragment on the connection type, the count is not multiplied by the page.
    fragment = ("{ customers(first: 10) { ...Page } } "
                "fragment Page on CustomerConnection { totalCount edges { cursor } }")
    assert cost(fragment) == 10 + 10 + 10


def test_nested_pages_multiply_and_a_million_rows_are_refused() -> None:
    assert cost("{ customers(first: 100) { edges { node { subscribers(first: 100) { edges { node { id } } } } } } }"
                ) == 10 + 100 + 10 + 100 * 100
    query = """{ customers(first: 100) { edges { node { subscribers(first: 100) { edges { node {
               customer { events(first: 100) { edges { node { occurredAt } } } } } } } } } } }"""
    measured, refusal = measure_operation(_schema(), parse(query), None, None, LIMITS)
    assert refusal is not None and refusal.extensions is not None and refusal.extensions["limit"] == "cost"
    assert measured is not None and measured > 100 * 100 * 100


def test_a_mutation_costs_its_writes() -> None:
    # 50, and 20 errors at 0.01 each, rounded up
    assert cost('mutation { deleteCustomer(id: "x") { errors { code } customer { name } } }') == 51


@pytest.mark.parametrize("options", [{}, {"schema_description": True, "input_value_deprecation": True,
                                          "directive_is_repeatable": True, "specified_by_url": True}])
def test_introspection_is_in_memory_and_cheap(options: dict[str, bool]) -> None:
    # GraphiQL 3 loads its Docs with graphql-js getIntrospectionQuery(); graphql-core's is its port.
    assert cost(get_introspection_query(**options)) <= 200
