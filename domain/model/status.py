"""The statuses of customers, their packages and subscribers, and their machines (R-CUS-STATE, R-SUB-3) as
transition tables with one guard. Entities move through `Customer.move` / `Subscriber.move`, which use it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from domain.model.errors import DomainError, ErrorCode

E = TypeVar("E", bound=Enum)


class CustomerStatus(str, Enum):
    PROVISIONING = "provisioning"
    PENDING_RPL_REVIEW = "pending_rpl_review"
    PENDING_CUSTOMER_APPROVAL = "pending_customer_approval"  # R-ATT-2: the attached org's admin must approve
    PROVISIONED = "provisioned"
    PROVISIONED_WITH_ERRORS = "provisioned_with_errors"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"


class PackageStatus(str, Enum):
    PROVISIONING = "provisioning"
    PROVISIONED = "provisioned"
    DELETING = "deleting"
    ERROR = "error"


class SubscriberStatus(str, Enum):
    PROVISIONING = "provisioning"
    PENDING_USER_MIGRATION = "pending_user_migration"
    PROVISIONED = "provisioned"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"


class WorkspaceStatus(str, Enum):
    """R-WS-2: a workspace's life; "removed" is not a status (the record leaves when its deletion completes)."""

    PROVISIONING = "provisioning"
    PROVISIONED = "provisioned"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"


_C, _P, _S = CustomerStatus, PackageStatus, SubscriberStatus  # short names for the tables below

# "Removed" is not a status: a record in `deleting` leaves the table when its deletion completes.
CUSTOMER: Mapping[CustomerStatus, frozenset[CustomerStatus]] = {
    _C.PROVISIONING: frozenset({_C.PENDING_RPL_REVIEW, _C.PENDING_CUSTOMER_APPROVAL, _C.PROVISIONED,
                                _C.PROVISIONED_WITH_ERRORS, _C.ERROR, _C.DELETING}),
    _C.PENDING_RPL_REVIEW: frozenset({_C.PENDING_CUSTOMER_APPROVAL, _C.PROVISIONED, _C.PROVISIONED_WITH_ERRORS,
                                      _C.ERROR, _C.DELETING}),
    # R-ATT-2: approved → provisioning goes on; declined or unanswered → error.
    _C.PENDING_CUSTOMER_APPROVAL: frozenset({_C.PROVISIONING, _C.ERROR, _C.DELETING}),
    _C.PROVISIONED: frozenset({_C.UPDATING, _C.DELETING}),
    _C.PROVISIONED_WITH_ERRORS: frozenset({_C.UPDATING, _C.DELETING}),
    _C.UPDATING: frozenset({_C.PENDING_RPL_REVIEW, _C.PROVISIONED, _C.PROVISIONED_WITH_ERRORS, _C.ERROR, _C.DELETING}),
    _C.ERROR: frozenset({_C.DELETING}),
    _C.DELETING: frozenset(),
}

PACKAGE: Mapping[PackageStatus, frozenset[PackageStatus]] = {
    _P.PROVISIONING: frozenset({_P.PROVISIONED, _P.ERROR, _P.DELETING}),
    _P.PROVISIONED: frozenset({_P.DELETING}),
    _P.ERROR: frozenset({_P.PROVISIONING, _P.DELETING}),  # an update retries a failed package
    _P.DELETING: frozenset(),
}

SUBSCRIBER: Mapping[SubscriberStatus, frozenset[SubscriberStatus]] = {
    _S.PROVISIONING: frozenset({_S.PROVISIONED, _S.PENDING_USER_MIGRATION, _S.ERROR, _S.DELETING}),
    # R-CONS-2: an accepted consent goes through `provisioning` again; a declined one ends in `error`.
    _S.PENDING_USER_MIGRATION: frozenset({_S.PROVISIONING, _S.PROVISIONED, _S.ERROR, _S.DELETING}),
    _S.PROVISIONED: frozenset({_S.UPDATING, _S.DELETING}),
    _S.UPDATING: frozenset({_S.PROVISIONED, _S.ERROR, _S.DELETING}),
    _S.ERROR: frozenset({_S.DELETING}),
    _S.DELETING: frozenset(),
}


_W = WorkspaceStatus
WORKSPACE: Mapping[WorkspaceStatus, frozenset[WorkspaceStatus]] = {
    _W.PROVISIONING: frozenset({_W.PROVISIONED, _W.ERROR, _W.DELETING}),
    _W.PROVISIONED: frozenset({_W.UPDATING, _W.DELETING}),
    _W.UPDATING: frozenset({_W.PROVISIONED, _W.ERROR, _W.DELETING}),
    _W.ERROR: frozenset({_W.DELETING}),
    _W.DELETING: frozenset(),
}


class SetupAssistStatus(str, Enum):
    """R-SA-2: a Setup Assist request's life (the platform moves it on; the partner may cancel it while submitted)."""

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_SA = SetupAssistStatus
SETUP_ASSIST: Mapping[SetupAssistStatus, frozenset[SetupAssistStatus]] = {
    _SA.SUBMITTED: frozenset({_SA.IN_PROGRESS, _SA.CANCELLED}),
    _SA.IN_PROGRESS: frozenset({_SA.COMPLETED, _SA.CANCELLED}),
    _SA.COMPLETED: frozenset(),
    _SA.CANCELLED: frozenset(),
}


def can_move(table: Mapping[E, frozenset[E]], current: E, target: E) -> bool:
    return target in table[current]


def require_move(table: Mapping[E, frozenset[E]], current: E, target: E, what: str) -> None:
    """Refuse an illegal transition with INVALID_STATE (e.g. updating a customer that is `deleting`)."""
    if not can_move(table, current, target):
        raise DomainError.single(
            ErrorCode.INVALID_STATE, f"a {what} in status `{current.value}` cannot become `{target.value}`")
