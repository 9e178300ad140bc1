from __future__ import annotations

import pytest

from domain.model.entities import CustomerStatus as C
from domain.model.entities import PackageStatus as P
from domain.model.entities import SubscriberStatus as S
from domain.model.errors import DomainError, ErrorCode
from domain.model.status import CUSTOMER, PACKAGE, SUBSCRIBER, can_move, require_move


def test_r_cus_state_every_status_has_a_row() -> None:
    assert set(CUSTOMER) == set(C) and set(PACKAGE) == set(P) and set(SUBSCRIBER) == set(S)


@pytest.mark.parametrize(
    ("current", "target"),
    [(C.PROVISIONING, C.PENDING_RPL_REVIEW), (C.PENDING_RPL_REVIEW, C.PROVISIONED), (C.PROVISIONING, C.ERROR),
     (C.PROVISIONING, C.PROVISIONED_WITH_ERRORS), (C.PROVISIONED, C.UPDATING), (C.UPDATING, C.PENDING_RPL_REVIEW),
     (C.UPDATING, C.PROVISIONED), (C.PROVISIONED_WITH_ERRORS, C.UPDATING), (C.ERROR, C.DELETING)],
)
def test_r_cus_state_allowed_moves(current: C, target: C) -> None:
    assert can_move(CUSTOMER, current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(C.DELETING, C.UPDATING), (C.PROVISIONED, C.PROVISIONING), (C.ERROR, C.PROVISIONED),
     (C.PENDING_RPL_REVIEW, C.UPDATING), (C.PROVISIONING, C.UPDATING)],
)
def test_r_cus_state_other_moves_are_invalid_state(current: C, target: C) -> None:
    with pytest.raises(DomainError) as refused:
        require_move(CUSTOMER, current, target, "customer")
    assert [e.code for e in refused.value.errors] == [ErrorCode.INVALID_STATE]


@pytest.mark.parametrize("status", [s for s in C if s is not C.DELETING])
def test_r_cus_state_any_non_deleting_status_may_be_deleted(status: C) -> None:
    assert can_move(CUSTOMER, status, C.DELETING)


def test_r_sub_3_subscriber_moves() -> None:
    assert can_move(SUBSCRIBER, S.PROVISIONING, S.PENDING_USER_MIGRATION)
    assert can_move(SUBSCRIBER, S.PENDING_USER_MIGRATION, S.PROVISIONED)
    assert can_move(SUBSCRIBER, S.PROVISIONED, S.UPDATING)
    assert not can_move(SUBSCRIBER, S.DELETING, S.PROVISIONED)
    assert not can_move(SUBSCRIBER, S.ERROR, S.UPDATING)


def test_package_moves() -> None:
    assert can_move(PACKAGE, P.PROVISIONING, P.ERROR) and can_move(PACKAGE, P.ERROR, P.PROVISIONING)
    assert not can_move(PACKAGE, P.DELETING, P.PROVISIONED)
