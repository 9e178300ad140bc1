"""Opaque ids. A short prefix names the entity kind so `node(id)` can route without a lookup."""

from __future__ import annotations

from enum import Enum

from bson import ObjectId


class Kind(str, Enum):
    PARTNER = "ptn"
    TEMPLATE = "tpl"
    CUSTOMER = "cus"
    LOCATION = "loc"
    SUBSCRIBER = "sub"
    BILLING_REPORT = "rpt"


def new_id(kind: Kind) -> str:
    return f"{kind.value}_{ObjectId()}"


def kind_of(entity_id: str) -> Kind | None:
    prefix, sep, rest = entity_id.partition("_")
    if not sep or len(rest) != 24:
        return None
    try:
        return Kind(prefix)
    except ValueError:
        return None
