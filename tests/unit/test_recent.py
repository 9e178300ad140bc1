"""`Recent` (domain.store.recent): records read a moment ago, forgotten on a write, an event, or after the TTL."""

from __future__ import annotations

from domain.store.recent import Recent


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_record_kept_is_found_until_its_time_to_live_passes() -> None:
    clock = Clock()
    recent: Recent[str] = Recent(ttl_s=2.0, now=clock)
    _, missing, generation = recent.split(["a", "b", "a"])
    assert missing == ["a", "b"]  # each id read once
    recent.keep({"a": "A", "b": "B"}, generation)
    clock.t += 1.9
    assert recent.split(["a", "b", "c"])[:2] == ({"a": "A", "b": "B"}, ["c"])
    clock.t += 0.2
    assert recent.split(["a"])[:2] == ({}, ["a"])


def test_forgetting_drops_the_record_and_a_read_already_under_way_is_not_kept() -> None:
    recent: Recent[str] = Recent(now=Clock())
    recent.keep({"a": "A1"}, recent.split(["a"])[2])
    _, _, started = recent.split(["b"])  # a read starts ...
    recent.forget(["a"])  # ... a write forgets "a" meanwhile ...
    recent.keep({"a": "A-old", "b": "B"}, started)  # ... so what that read returns may be older: not kept
    assert recent.split(["a", "b"])[:2] == ({}, ["a", "b"])


def test_the_kept_records_are_bounded() -> None:
    recent: Recent[int] = Recent(limit=3, now=Clock())
    recent.keep({"a": 1, "b": 2, "c": 3}, recent.split([])[2])
    recent.keep({"d": 4}, recent.split([])[2])
    found, missing, _ = recent.split(["a", "d"])
    assert found == {"d": 4} and missing == ["a"]
