from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from domain.model.errors import InvalidArgument
from domain.rules.pagination import CursorCodec, Order, PageRequest, after_filter, decode_cursor, encode_cursor

ORDER = Order("CREATED_DESC", (("createdAt", -1), ("_id", -1)))
SECRET = "test-secret-0123456789-0123456789-abcdef"
CODEC = CursorCodec.from_secret(SECRET)


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
    # Sealed with the gateway's own key (as if it leaked): the values would end up in the database filter.
    forged = CODEC.seal(ORDER.name, json.dumps([value, "cus_1"]).encode())
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(ORDER, forged, CODEC)
    assert refused.value.argument == "after"
    # In the old encoding (base64 JSON a client could write) it is not a cursor at all.
    plain = base64.urlsafe_b64encode(json.dumps(["CREATED_DESC", value, "cus_1"]).encode()).decode().rstrip("=")
    with pytest.raises(InvalidArgument):
        decode_cursor(ORDER, plain, CODEC)


EVENTS = Order("events", (("seq", 1), ("_id", 1)))


def _event(seq: int) -> dict[str, object]:
    return {"seq": seq, "_id": f"evt_{seq:012d}"}


def _unpadded_b64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@pytest.mark.parametrize("seq", [102, 4_711_000, 93_000_001])
def test_r_org_6_a_cursor_does_not_decode_into_json_or_the_counter_it_stands_for(seq: int) -> None:
    cursor = encode_cursor(EVENTS, _event(seq), CODEC)
    raw = _unpadded_b64(cursor)
    with pytest.raises(ValueError):
        json.loads(raw)
    for leaked in (str(seq).encode(), f"{seq:012d}".encode(), seq.to_bytes(4, "big"), seq.to_bytes(4, "little"),
                   b"evt_"):
        assert leaked not in raw
    assert decode_cursor(EVENTS, cursor, CODEC) == [seq, f"evt_{seq:012d}"]


def test_r_org_6_a_list_cursor_hides_its_sort_values() -> None:
    doc = {"_id": "cus_0123456789abcdef01234567", "createdAt": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}
    raw = _unpadded_b64(encode_cursor(ORDER, doc, CODEC))
    assert b"cus_" not in raw and b"0123456789abcdef" not in raw and b"2026" not in raw
    with pytest.raises(ValueError):
        json.loads(raw)


def test_r_org_6_cursor_length_does_not_tell_how_far_the_counter_is() -> None:
    lengths = {len(encode_cursor(EVENTS, _event(10**k), CODEC)) for k in range(11)}
    assert len(lengths) == 1
    assert lengths.pop() <= 64  # short enough for a URL or a log line


def test_r_org_6_the_same_position_gives_the_same_cursor_with_the_same_secret() -> None:
    # Deterministic (one encoding of a delivery for all its subscribers) and valid across processes sharing the
    # secret; not under another secret.
    again = CursorCodec.from_secret(SECRET)
    assert encode_cursor(EVENTS, _event(93), CODEC) == encode_cursor(EVENTS, _event(93), again)
    assert encode_cursor(EVENTS, _event(93), CODEC) != encode_cursor(EVENTS, _event(94), CODEC)
    other = CursorCodec.from_secret("another-secret-0123456789-0123456789-xyz")
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(EVENTS, encode_cursor(EVENTS, _event(93), other), CODEC)
    assert refused.value.argument == "after"


def test_r_org_6_a_cursor_is_url_safe() -> None:
    for seq in range(1, 200):
        cursor = encode_cursor(EVENTS, _event(seq), CODEC)
        assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), cursor


def _tampered(cursor: str) -> list[str]:
    """Every one-character change of the cursor, and every truncation and extension of it."""
    alphabet = "AQgw_-"
    changed = [cursor[:i] + next(c for c in alphabet if c != cursor[i]) + cursor[i + 1:] for i in range(len(cursor))]
    return [*changed, *(cursor[:n] for n in range(1, len(cursor))), cursor + "A", cursor + "AAAA", cursor * 2]


def test_r_org_6_a_tampered_or_truncated_cursor_is_refused_as_an_argument_error() -> None:
    cursor = encode_cursor(EVENTS, _event(93), CODEC)
    for forged in _tampered(cursor):
        if len(forged) == len(cursor) and _unpadded_b64(forged) == _unpadded_b64(cursor):
            continue  # the last character's unused bits: the same bytes, the same cursor
        with pytest.raises(InvalidArgument) as refused:
            decode_cursor(EVENTS, forged, CODEC)
        assert refused.value.argument == "after", forged


def test_r_org_6_an_overlong_cursor_is_refused_before_any_work() -> None:
    with pytest.raises(InvalidArgument):
        decode_cursor(EVENTS, "A" * 100_000, CODEC)
