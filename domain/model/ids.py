"""Opaque ids. A short prefix names the entity kind so `node(id)` can route without a lookup.

The rest is 96 random bits (24 hex digits, the shape ObjectId-based ids had): an id tells nothing about when it
was made or how many objects, of any tenant, were made before it (R-ORG-6). Nothing sorts by id alone: lists
sort by a time or a name and use the id only to break ties.
"""

from __future__ import annotations

import secrets
from enum import Enum


class Kind(str, Enum):
    PARTNER = "ptn"
    TEMPLATE = "tpl"
    CUSTOMER = "cus"
    LOCATION = "loc"
    SUBSCRIBER = "sub"
    BILLING_REPORT = "rpt"


def new_id(kind: Kind) -> str:
    return f"{kind.value}_{secrets.token_hex(12)}"


def kind_of(entity_id: str) -> Kind | None:
    prefix, sep, rest = entity_id.partition("_")
    if not sep or len(rest) != 24:
        return None
    try:
        return Kind(prefix)
    except ValueError:
        return None
