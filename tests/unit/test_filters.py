"""`all_of`: combined filters stay flat where they can (the embedded database finds its indexes through them)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.rules.filters import all_of


def test_disjoint_parts_become_one_flat_filter() -> None:
    assert all_of({"ownerOrgId": "ptn_1"}, {"externalId": "X-1"}) == {"ownerOrgId": "ptn_1", "externalId": "X-1"}


def test_a_field_named_twice_keeps_both_conditions_inside_and() -> None:
    combined = all_of({"seq": {"$gt": 5}}, {"status": "a"}, {"seq": {"$lt": 9}})
    assert combined == {"seq": {"$gt": 5}, "status": "a", "$and": [{"seq": {"$lt": 9}}]}


def test_two_ors_do_not_overwrite_each_other() -> None:
    first, second = {"$or": [{"a": 1}, {"b": 1}]}, {"$or": [{"c": 1}, {"d": 1}]}
    assert all_of(first, second) == {"$or": [{"a": 1}, {"b": 1}], "$and": [{"$or": [{"c": 1}, {"d": 1}]}]}


def test_nested_ands_are_opened() -> None:
    inner = {"$and": [{"ownerOrgId": "ptn_1"}, {"kind": "x"}], "seq": {"$gt": 3}}
    assert all_of(inner, {"status": "a"}) == {"ownerOrgId": "ptn_1", "kind": "x", "seq": {"$gt": 3}, "status": "a"}


def test_empty_parts_and_no_parts_match_everything() -> None:
    assert all_of() == {}
    assert all_of({}, {"a": 1}, {}) == {"a": 1}


@pytest.mark.parametrize("filters", [
    ({"a": 1}, {"a": 2}),
    ({"a": {"$in": [1, 2]}}, {"b": 1}, {"a": 2}),
    ({"$and": [{"a": 1}, {"a": {"$ne": 3}}]}, {"b": {"$exists": True}}),
])
def test_every_condition_survives(filters: tuple[dict[str, Any], ...]) -> None:
    """Nothing is dropped: the combined filter holds as many field conditions as its parts together."""
    def conditions(f: dict[str, Any]) -> list[tuple[str, Any]]:
        out = []
        for key, value in f.items():
            if key == "$and":
                for part in value:
                    out += conditions(part)
            else:
                out.append((key, repr(value)))
        return sorted(out)

    combined = all_of(*filters)
    assert conditions(combined) == sorted(c for f in filters for c in conditions(dict(f)))
