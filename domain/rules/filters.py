"""Combining query filters: one flat document where the parts do not overlap, `$and` only where they do.

`{"$and": [{"ownerOrgId": p}, {"externalId": x}]}` and `{"ownerOrgId": p, "externalId": x}` select the same
documents, but a query planner that looks for an index among the top-level fields (the embedded SecantusDB's
does) sees no field at all in the first and scans the whole collection. `all_of` builds the second: each part's
fields are moved to the top level unless a field of that name is already there, and only the parts that would
overwrite one stay inside an `$and`. Nested `$and`s are opened first, so combining combined filters stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

AND = "$and"


def _parts(filters: tuple[Mapping[str, Any], ...]) -> Iterator[Mapping[str, Any]]:
    for f in filters:
        inner = f.get(AND)
        if isinstance(inner, list):
            yield from _parts(tuple(inner))
            rest = {k: v for k, v in f.items() if k != AND}
            if rest:
                yield rest
        elif f:
            yield f


def all_of(*filters: Mapping[str, Any]) -> dict[str, Any]:
    """A filter matching exactly the documents every one of `filters` matches (none: every document)."""
    merged: dict[str, Any] = {}
    overlapping: list[dict[str, Any]] = []
    for part in _parts(filters):
        if any(key in merged for key in part):
            overlapping.append(dict(part))
        else:
            merged.update(part)
    if overlapping:
        merged[AND] = overlapping
    return merged
