"""R-EVT-2 sharing keys (resolvers/events/sharing.py): thousands of sockets that open the same subscription print
its selection once and hold one copy of the text; what tells selections apart still does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from domain.model.principal import Principal
from resolvers.events import sharing
from resolvers.events.sharing import selection_key as shared_key

PRINCIPAL = Principal("someone", "ptn_1", frozenset(), frozenset())
QUERY = """subscription($filter: EventFilter, $after: String, $withName: Boolean!) {
  events: provisioningEvents(filter: $filter, after: $after) { entityId ...Customer }
}
fragment Customer on ProvisioningEvent { customer { id name @include(if: $withName) } }"""


def selection_key(info: Any, variables: dict[str, Any], principal: Principal) -> tuple[Any, ...]:
    key = shared_key(info, variables, principal)
    assert isinstance(key, tuple)
    return key


def info_of(text: str) -> Any:
    """What graphql-core hands a resolver, as far as the key reads it: a fresh parse each time, as for a new socket."""
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return SimpleNamespace(operation=operation, field_nodes=[operation.selection_set.selections[0]],
                           fragments=fragments)


def test_r_evt_2_sockets_sending_the_same_document_share_one_printed_selection() -> None:
    first = selection_key(info_of(QUERY), {"withName": True, "after": "a"}, PRINCIPAL)
    second = selection_key(info_of(QUERY), {"withName": True, "after": "b"}, PRINCIPAL)
    assert first == second  # the cursor only picks events, not the result's shape
    assert first[0] is second[0]  # one text in memory, printed once
    assert first[1] == (("withName", "true"),)  # the variables the selection uses, not `after` or `filter`


def test_r_evt_2_what_shapes_the_result_still_tells_keys_apart() -> None:
    base = selection_key(info_of(QUERY), {"withName": True}, PRINCIPAL)
    other_value = selection_key(info_of(QUERY), {"withName": False}, PRINCIPAL)
    other_alias = selection_key(info_of(QUERY.replace("events:", "feed:")), {"withName": True}, PRINCIPAL)
    other_fragment = selection_key(info_of(QUERY.replace("id name", "id status name")), {"withName": True}, PRINCIPAL)
    other_scope = selection_key(info_of(QUERY), {"withName": True}, Principal("x", "ptn_2", frozenset(), frozenset()))
    assert len({base, other_value, other_alias, other_fragment, other_scope}) == 5
    assert "fragment Customer" in base[0] and "feed: provisioningEvents" in other_alias[0]


def test_the_kept_selections_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(sharing, "SELECTIONS_KEPT", 3)
    monkeypatch.setattr(sharing, "_SELECTIONS", type(sharing._SELECTIONS)())
    for i in range(10):
        selection_key(info_of(QUERY.replace("events:", f"e{i}:")), {"withName": True}, PRINCIPAL)
    assert len(sharing._SELECTIONS) == 3


def test_a_document_too_long_to_keep_is_printed_not_kept(monkeypatch: Any) -> None:
    monkeypatch.setattr(sharing, "_SELECTIONS", type(sharing._SELECTIONS)())
    long = QUERY + "\n# " + "x" * sharing.SELECTION_SOURCE_CHARS
    key = selection_key(info_of(long), {"withName": True}, PRINCIPAL)
    assert key == selection_key(info_of(QUERY), {"withName": True}, PRINCIPAL)  # the same selection, printed
    assert [source for source, _ in sharing._SELECTIONS] == [QUERY]
