"""The file through which the xdist workers of a run share the seeded demo (tests/demo_files.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bson import Binary, Decimal128, Int64, ObjectId

from tests import demo_files


def _same(a: Any, b: Any) -> None:
    """Equal, of the same types all the way down, with dict keys in the same order and datetimes in the same zone."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b
        if isinstance(a, datetime):
            assert a.utcoffset() == b.utcoffset() == UTC.utcoffset(None)


def test_documents_come_back_from_the_file_with_their_types_values_and_order(tmp_path: Path) -> None:
    at = datetime(2026, 11, 22, 9, 0, 0, 123000, tzinfo=UTC)  # stored to the millisecond, as BSON does
    # As a find returns them: a large integer is an Int64, binary of subtype 0 is bytes.
    written: demo_files.Documents = {
        "customers": [{"_id": "cus_1", "z": 1, "a": {"when": at, "amount": Decimal128(Decimal("1.10"))},
                       "tags": ["x", None, True, 2.5], "oid": ObjectId("6566d1a2f0c0a1b2c3d4e5f6")},
                      {"_id": "cus_2", "blob": b"\x00\x01", "sub": Binary(b"\x02", 5)}],
        "events": [{"_id": 7, "seq": Int64(2**40)}],
    }
    path = tmp_path / "seeded.bson"
    demo_files.write(path, written)
    read = demo_files.read(path)
    _same(read, written)
    assert not path.with_suffix(".partial").exists()


async def test_the_first_caller_makes_the_documents_and_a_later_one_reads_them(tmp_path: Path) -> None:
    made: list[int] = []

    async def make() -> demo_files.Documents:
        made.append(1)
        return {"partners": [{"_id": "prt_1"}]}

    path = tmp_path / "seeded.bson"
    first, second = await asyncio.gather(demo_files.read_or_write(path, make), demo_files.read_or_write(path, make))
    assert first == second == {"partners": [{"_id": "prt_1"}]}
    assert made == [1]


async def test_a_caller_that_fails_to_make_them_leaves_no_file_and_the_next_one_makes_them(tmp_path: Path) -> None:
    async def fail() -> demo_files.Documents:
        raise RuntimeError("seed failed")

    async def make() -> demo_files.Documents:
        return {"partners": [{"_id": "prt_1"}]}

    path = tmp_path / "seeded.bson"
    try:
        await demo_files.read_or_write(path, fail)
    except RuntimeError:
        pass
    assert not path.exists()
    assert await demo_files.read_or_write(path, make) == {"partners": [{"_id": "prt_1"}]}
