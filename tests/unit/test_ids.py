"""Entity ids (domain/model/ids.py): routable by their prefix, and carrying no global sequence (R-ORG-6)."""

from __future__ import annotations

import re
import time
from itertools import pairwise

from domain.model.ids import Kind, kind_of, new_id

SHAPE = re.compile(r"^[a-z]{3}_[0-9a-f]{24}$")


def test_every_kind_of_id_keeps_its_shape_and_routes_by_its_prefix() -> None:
    for kind in Kind:
        entity_id = new_id(kind)
        assert SHAPE.match(entity_id) and entity_id.startswith(f"{kind.value}_"), entity_id
        assert kind_of(entity_id) is kind
    # Ids made before (ObjectId-based) still route.
    assert kind_of("cus_65f1a2b3c4d5e6f708192a3b") is Kind.CUSTOMER


def test_r_org_6_new_ids_carry_no_creation_time_and_no_process_counter() -> None:
    """An ObjectId is 4 bytes of seconds, 5 bytes fixed per process and a 3-byte counter that increments by one:
    ids made one after the other would tell how many objects (of every tenant) the process made in between."""
    ids = [bytes.fromhex(new_id(Kind.CUSTOMER)[4:]) for _ in range(64)]
    assert len(set(ids)) == len(ids)
    now = int(time.time())
    seconds = [int.from_bytes(i[:4], "big") for i in ids]
    assert sum(abs(s - now) < 3600 for s in seconds) <= 1  # not a timestamp of today
    assert len({i[4:9] for i in ids}) > 1  # no per-process constant
    counters = [int.from_bytes(i[9:], "big") for i in ids]
    steps = [b - a for a, b in pairwise(counters)]
    assert steps.count(1) <= 1  # not a counter
