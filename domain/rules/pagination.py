"""Keyset (cursor) pagination: stable while rows are inserted, and index-friendly on real MongoDB.

A cursor is the sort-key values of the last row seen, tagged with the order it belongs to. The next
page is "rows strictly after these values in this order", so an insert anywhere never shifts a page.

Cursors are opaque (R-ORG-6): the values are sealed with AES-SIV under a key derived from the gateway's
signing secret, so a client can neither read them (an event cursor holds the global event `seq`) nor
write them. AES-SIV is deterministic: the same position always gives the same cursor (a delivery's cursor
is encoded once for all its subscribers), in every process that shares the secret and after a restart.
The runtime configures the codec once at start-up (`configure_cursors`); a codec may also be passed in.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.model.errors import InvalidArgument
from domain.rules.filters import all_of

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


# The longest cursor accepted: far above any we issue (a 255-character name sort key seals to about 1.4k).
MAX_CURSOR_LENGTH = 4096
_PAD = 16  # plaintexts are padded to a multiple of this, so a cursor's length does not track a counter's digits
_HKDF_INFO = b"wholesale-gateway/cursors/aes-siv/v1"


def _not_ours() -> InvalidArgument:
    return InvalidArgument("`after` is not a cursor this API issued for this list", "after")


class CursorCodec:
    """Seals cursor payloads (AES-SIV, deterministic authenticated encryption) into URL-safe text.

    The order's name is bound in as associated data: a cursor of another list or order does not open.
    """

    def __init__(self, key: bytes) -> None:
        self._siv = AESSIV(key)

    @classmethod
    def from_secret(cls, secret: str) -> CursorCodec:
        """A key of its own (HKDF-SHA256, 512 bits: AES-256-SIV) derived from the gateway's signing secret."""
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_HKDF_INFO).derive(secret.encode())
        return cls(key)

    def seal(self, purpose: str, payload: bytes) -> str:
        padded = payload + b" " * (-len(payload) % _PAD)  # JSON ignores trailing blanks
        sealed = self._siv.encrypt(padded, [purpose.encode()])
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, purpose: str, cursor: str) -> bytes:
        """The payload sealed for `purpose`; InvalidArgument on `after` for anything else."""
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise _not_ours()
        try:
            sealed = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
            return self._siv.decrypt(sealed, [purpose.encode()])
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise _not_ours() from exc


_codec: CursorCodec | None = None


def configure_cursors(secret: str) -> None:
    """Seal every cursor of this process under `secret` (the runtime calls this once, at start-up)."""
    global _codec
    _codec = CursorCodec.from_secret(secret)


def _current() -> CursorCodec:
    global _codec
    if _codec is None:  # not configured (a script, a unit test): cursors valid within this process only
        _codec = CursorCodec(os.urandom(64))
    return _codec


def encode_cursor(order: Order, doc: Mapping[str, Any], codec: CursorCodec | None = None) -> str:
    payload = [_encode_value(_get(doc, key)) for key, _ in order.keys]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return (codec or _current()).seal(order.name, raw)


def decode_cursor(order: Order, cursor: str, codec: CursorCodec | None = None) -> list[Any]:
    raw = (codec or _current()).open(order.name, cursor)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _not_ours() from exc
    if not isinstance(payload, list) or len(payload) != len(order.keys):
        raise InvalidArgument("`after` belongs to another list or order", "after")
    try:
        return [_decode_value(v) for v in payload]
    except (TypeError, ValueError) as exc:
        raise _not_ours() from exc


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
    return all_of(base, after_filter(order, decode_cursor(order, request.after)))


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
