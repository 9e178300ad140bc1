"""Scalars that refuse what Strawberry's own would let through to the database.

`DateTime`: Strawberry's parser accepts any ISO 8601 text, including instants whose UTC time falls outside
years 1-9999 (`9999-12-31T23:59:59-14:00`, `0001-01-01T00:00:00+14:00`); converting those to UTC (as every
filter and stored time is) overflows. Here they are refused as values of the scalar, with the same error as any
other malformed date. Name, description and output are Strawberry's, so the schema is unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dateutil.parser  # type: ignore[import-untyped]
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition


def parse_datetime(text: str) -> datetime:
    value: datetime = dateutil.parser.isoparse(text)
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("the instant is outside years 1-9999 in UTC") from None
    return value


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
