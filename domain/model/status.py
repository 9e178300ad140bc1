"""Status machines (R-CUS-STATE, package status, R-SUB-3) as transition tables with one guard."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from domain.model.entities import CustomerStatus as C
from domain.model.entities import PackageStatus as P
from domain.model.entities import SubscriberStatus as S
from domain.model.errors import DomainError, ErrorCode

E = TypeVar("E", bound=Enum)

# "Removed" is not a status: a record in `deleting` leaves the table when its deletion completes.
CUSTOMER: Mapping[C, frozenset[C]] = {
    C.PROVISIONING: frozenset({C.PENDING_RPL_REVIEW, C.PROVISIONED, C.PROVISIONED_WITH_ERRORS, C.ERROR, C.DELETING}),
    C.PENDING_RPL_REVIEW: frozenset({C.PROVISIONED, C.PROVISIONED_WITH_ERRORS, C.ERROR, C.DELETING}),
    C.PROVISIONED: frozenset({C.UPDATING, C.DELETING}),
    C.PROVISIONED_WITH_ERRORS: frozenset({C.UPDATING, C.DELETING}),
    C.UPDATING: frozenset({C.PENDING_RPL_REVIEW, C.PROVISIONED, C.PROVISIONED_WITH_ERRORS, C.ERROR, C.DELETING}),
    C.ERROR: frozenset({C.DELETING}),
    C.DELETING: frozenset(),
}

PACKAGE: Mapping[P, frozenset[P]] = {
    P.PROVISIONING: frozenset({P.PROVISIONED, P.ERROR, P.DELETING}),
    P.PROVISIONED: frozenset({P.DELETING}),
    P.ERROR: frozenset({P.PROVISIONING, P.DELETING}),  # an update retries a failed package
    P.DELETING: frozenset(),
}

SUBSCRIBER: Mapping[S, frozenset[S]] = {
    S.PROVISIONING: frozenset({S.PROVISIONED, S.PENDING_USER_MIGRATION, S.ERROR, S.DELETING}),
    S.PENDING_USER_MIGRATION: frozenset({S.PROVISIONED, S.ERROR, S.DELETING}),
    S.PROVISIONED: frozenset({S.UPDATING, S.DELETING}),
    S.UPDATING: frozenset({S.PROVISIONED, S.ERROR, S.DELETING}),
    S.ERROR: frozenset({S.DELETING}),
    S.DELETING: frozenset(),
}


def can_move(table: Mapping[E, frozenset[E]], current: E, target: E) -> bool:
    return target in table[current]


def require_move(table: Mapping[E, frozenset[E]], current: E, target: E, what: str) -> None:
    """Refuse an illegal transition with INVALID_STATE (e.g. updating a customer that is `deleting`)."""
    if not can_move(table, current, target):
        raise DomainError.single(
            ErrorCode.INVALID_STATE, f"a {what} in status `{current.value}` cannot become `{target.value}`")
