"""Keyset (cursor) pagination: stable while rows are inserted, and index-friendly on real MongoDB.

A cursor is the sort-key values of the last row seen, tagged with the order it belongs to. The next
page is "rows strictly after these values in this order", so an insert anywhere never shifts a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import InvalidArgument

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Order:
    """A named sort order; the last key must be unique (`_id`) so the order is total."""

    name: str
    keys: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: str | None = None

    @classmethod
    def of(cls, first: int | None, after: str | None) -> PageRequest:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if size < 0 or size > MAX_PAGE_SIZE:
            raise InvalidArgument(f"`first` must be between 0 and {MAX_PAGE_SIZE}, got {size}", "first")
        return cls(size, after or None)


@dataclass(frozen=True)
class Page:
    docs: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


# What BSON can hold as an integer; a larger one in a cursor cannot have come from us.
_INT64 = 2**63


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if value is None or isinstance(value, str | bool | float) or (isinstance(value, int) and -_INT64 <= value < _INT64):
        return value
    # Anything else (an operator such as {"$gt": ""}, a nested list) would reach the database as part of the filter.
    raise ValueError(f"not a sort-key value: {value!r:.40}")


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    current: Any = doc
    for part in dotted.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def encode_cursor(order: Order, doc: Mapping[str, Any]) -> str:
    payload = [order.name, *(_encode_value(_get(doc, key)) for key, _ in order.keys)]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidArgument("`after` is not a cursor this API issued", "after") from exc
    if not isinstance(payload, list) or len(payload) != len(order.keys) + 1 or payload[0] != order.name:
        raise InvalidArgument("`after` belongs to another list or order", "after")
    try:
        return [_decode_value(v) for v in payload[1:]]
    except (TypeError, ValueError) as exc:
        raise InvalidArgument("`after` is not a cursor this API issued", "after") from exc


def after_filter(order: Order, values: Sequence[Any]) -> dict[str, Any]:
    """Rows strictly after `values` in `order`: (k1 > v1) or (k1 = v1 and k2 > v2) or ..."""
    branches: list[dict[str, Any]] = []
    for i, (key, direction) in enumerate(order.keys):
        branch: dict[str, Any] = {k: values[j] for j, (k, _) in enumerate(order.keys[:i])}
        branch[key] = {"$gt" if direction > 0 else "$lt": values[i]}
        branches.append(branch)
    return {"$or": branches}


def page_filter(order: Order, base: Mapping[str, Any], request: PageRequest) -> dict[str, Any]:
    if request.after is None:
        return dict(base)
    return {"$and": [dict(base), after_filter(order, decode_cursor(order, request.after))]}


def make_page(order: Order, docs: list[dict[str, Any]], request: PageRequest) -> Page:
    """`docs` were fetched with limit first+1; the extra row only tells whether more exist."""
    has_next = len(docs) > request.first
    kept = docs[: request.first]
    return Page(
        docs=kept,
        cursors=[encode_cursor(order, d) for d in kept],
        has_next=has_next,
        has_previous=request.after is not None,
    )
