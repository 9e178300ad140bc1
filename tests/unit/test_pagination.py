from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidArgument
from domain.pagination import Order, PageRequest, after_filter, decode_cursor, encode_cursor

ORDER = Order("CREATED_DESC", (("createdAt", -1), ("_id", -1)))


def test_cursor_round_trips_its_sort_values() -> None:
    doc = {"_id": "cus_1", "createdAt": datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)}
    assert decode_cursor(ORDER, encode_cursor(ORDER, doc)) == [doc["createdAt"], "cus_1"]


def test_cursor_of_another_order_is_refused() -> None:
    other = Order("NAME_ASC", (("nameSort", 1), ("_id", 1)))
    cursor = encode_cursor(other, {"_id": "cus_1", "nameSort": "a"})
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(ORDER, cursor)
    assert refused.value.argument == "after"


@pytest.mark.parametrize("garbage", ["not-a-cursor", "e30", "W10", "!!!"])
def test_garbage_cursor_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidArgument):
        decode_cursor(ORDER, garbage)


def test_after_filter_is_strictly_after_in_sort_direction() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert after_filter(ORDER, [t, "x"]) == {"$or": [{"createdAt": {"$lt": t}}, {"createdAt": t, "_id": {"$lt": "x"}}]}


@pytest.mark.parametrize("first", [-1, 101, 1000])
def test_page_size_is_bounded(first: int) -> None:
    with pytest.raises(InvalidArgument) as refused:
        PageRequest.of(first, None)
    assert refused.value.argument == "first"


def test_page_size_defaults_to_fifty() -> None:
    assert PageRequest.of(None, "").first == 50


@pytest.mark.parametrize("value", [{"$gt": ""}, {"$where": "sleep(1000)"}, [1, 2], 2**63, {"t": 5}],
                         ids=["operator", "where", "list", "int-over-64-bits", "non-string-time"])
def test_a_forged_cursor_cannot_carry_anything_but_plain_sort_values(value: object) -> None:
    # A cursor is base64 JSON the client can rewrite: its values end up in the database filter.
    forged = base64.urlsafe_b64encode(json.dumps(["CREATED_DESC", value, "cus_1"]).encode()).decode().rstrip("=")
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(ORDER, forged)
    assert refused.value.argument == "after"
