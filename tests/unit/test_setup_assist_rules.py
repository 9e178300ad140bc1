"""The Setup Assist rules as pure functions (DOMAIN.md §18, R-SA-1/2): the lead time in business days, the SKU from
the seats, every problem of a request, and who may move a request where.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.model.entities import Address, Customer
from domain.model.errors import ErrorCode
from domain.model.setup_assist import SetupAssistRequest, SetupAssistSku
from domain.model.status import SetupAssistStatus
from domain.rules.setup_assist import (
    NewSetupAssist,
    SetupAssistFacts,
    add_business_days,
    billed_quantity,
    earliest_target,
    move_problems,
    plan_setup_assist,
    sku_for,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # a Sunday
MONDAY = date(2026, 11, 23)


def _customer(status: str = "provisioned") -> Customer:
    return Customer.model_validate({
        "_id": "cus_c1", "ownerOrgId": "ptn_a", "rootOrgId": "ptn_a", "templateId": "tpl_us", "externalId": "C1",
        "name": "Springfield Plumbing", "primaryEmail": "it@springfield.example", "language": "en_US",
        "address": Address(address_line1="1 Main Street", city="Springfield", country="US"),
        "packages": [{"name": "webex_calling", "status": "provisioned"}], "status": status,
        "version": 3, "createdAt": NOW, "updatedAt": NOW, "lastStatusChange": NOW})


def _request(status: SetupAssistStatus, sku: SetupAssistSku = SetupAssistSku.STANDARD, seats: int = 8
             ) -> SetupAssistRequest:
    return SetupAssistRequest(
        id="sar_1", customer_id="cus_c1", location_id="loc_1", owner_org_id="ptn_a", root_org_id="ptn_a", sku=sku,
        seats=seats, contact_name="Ana", contact_email="ana@example.com", target_date=date(2026, 12, 10),
        status=status, version=1, created_at=NOW, last_status_change=NOW)


def _data(**overrides: Any) -> NewSetupAssist:
    fields: dict[str, Any] = {"location_id": "loc_1", "contact_name": "Ana Silva", "contact_email": "ana@example.com",
                              "target_date": date(2026, 12, 10), **overrides}
    return NewSetupAssist(**fields)


def _facts(**overrides: Any) -> SetupAssistFacts:
    fields: dict[str, Any] = {"customer": _customer(), "open_request": False, "seats": 3, "today": MONDAY,
                              **overrides}
    return SetupAssistFacts(**fields)


def _codes(problems: Any) -> list[tuple[ErrorCode, tuple[str, ...] | None]]:
    return [(p.code, p.field) for p in problems.items]


@pytest.mark.parametrize(("today", "earliest"), [
    (date(2026, 11, 23), date(2026, 12, 1)),  # Monday → Tuesday of the next week
    (date(2026, 11, 27), date(2026, 12, 7)),  # Friday → Monday after next
    (date(2026, 11, 22), date(2026, 11, 30)),  # Sunday → Monday after next (weekend days never count)
])
def test_r_sa_1_the_lead_time_is_six_business_days(today: date, earliest: date) -> None:
    assert earliest_target(today) == earliest
    assert add_business_days(today, 0) == today


def test_r_sa_1_a_target_date_inside_the_lead_time_is_refused() -> None:
    plan = plan_setup_assist(_data(target_date=date(2026, 11, 30)), _facts())
    assert _codes(plan.problems) == [(ErrorCode.SETUP_ASSIST_LEAD_TIME, ("input", "targetDate"))]
    assert plan_setup_assist(_data(target_date=date(2026, 12, 1)), _facts()).problems.items == []


@pytest.mark.parametrize(("seats", "sku"), [(0, SetupAssistSku.EXPRESS), (5, SetupAssistSku.EXPRESS),
                                            (6, SetupAssistSku.STANDARD), (40, SetupAssistSku.STANDARD)])
def test_r_sa_1_five_seats_or_fewer_is_express_more_is_standard(seats: int, sku: SetupAssistSku) -> None:
    assert sku_for(seats) is sku
    plan = plan_setup_assist(_data(), _facts(seats=seats))
    assert (plan.sku, plan.seats) == (sku, seats)


@pytest.mark.parametrize("status", ["provisioning", "updating", "error", "deleting", "pending_rpl_review"])
def test_r_sa_1_only_a_provisioned_customer_may_ask(status: str) -> None:
    plan = plan_setup_assist(_data(), _facts(customer=_customer(status)))
    assert _codes(plan.problems) == [(ErrorCode.INVALID_STATE, ("input", "locationId"))]


def test_r_sa_1_one_open_request_per_location() -> None:
    plan = plan_setup_assist(_data(), _facts(open_request=True))
    assert _codes(plan.problems) == [(ErrorCode.INVALID_STATE, ("input", "locationId"))]


def test_r_sa_1_every_problem_at_once() -> None:
    plan = plan_setup_assist(_data(contact_name=" ", contact_email="not-an-email", target_date=MONDAY),
                             _facts(customer=None))
    assert _codes(plan.problems) == [
        (ErrorCode.NOT_FOUND, ("input", "locationId")),
        (ErrorCode.REQUIRED, ("input", "contactName")),
        (ErrorCode.INVALID_EMAIL, ("input", "contactEmail")),
        (ErrorCode.SETUP_ASSIST_LEAD_TIME, ("input", "targetDate")),
    ]


@pytest.mark.parametrize(("start", "to"), [
    (SetupAssistStatus.SUBMITTED, SetupAssistStatus.IN_PROGRESS),
    (SetupAssistStatus.SUBMITTED, SetupAssistStatus.CANCELLED),
    (SetupAssistStatus.IN_PROGRESS, SetupAssistStatus.COMPLETED),
    (SetupAssistStatus.IN_PROGRESS, SetupAssistStatus.CANCELLED),
])
def test_r_sa_2_the_platform_moves_a_request_along_its_machine(start: SetupAssistStatus,
                                                               to: SetupAssistStatus) -> None:
    assert move_problems(_request(start), to, by_platform=True).items == []


@pytest.mark.parametrize(("start", "to"), [
    (SetupAssistStatus.SUBMITTED, SetupAssistStatus.COMPLETED),
    (SetupAssistStatus.COMPLETED, SetupAssistStatus.CANCELLED),
    (SetupAssistStatus.CANCELLED, SetupAssistStatus.IN_PROGRESS),
    (SetupAssistStatus.IN_PROGRESS, SetupAssistStatus.SUBMITTED),
])
def test_r_sa_2_no_other_move(start: SetupAssistStatus, to: SetupAssistStatus) -> None:
    assert _codes(move_problems(_request(start), to, by_platform=True)) == [(ErrorCode.INVALID_STATE, ("status",))]


def test_r_sa_2_the_partner_cancels_only_while_submitted() -> None:
    assert move_problems(_request(SetupAssistStatus.SUBMITTED), SetupAssistStatus.CANCELLED,
                         by_platform=False).items == []
    refused = move_problems(_request(SetupAssistStatus.IN_PROGRESS), SetupAssistStatus.CANCELLED, by_platform=False)
    assert _codes(refused) == [(ErrorCode.INVALID_STATE, ("id",))]


def test_r_sa_2_completion_moves_bump_the_version_and_stamp_completion() -> None:
    done, change = _request(SetupAssistStatus.IN_PROGRESS).move(SetupAssistStatus.COMPLETED, NOW)
    assert (done.version, done.completed_at, change.from_status, change.to_status) == (
        2, NOW, "in_progress", "completed")
    assert "openKey" not in done.to_doc() and _request(SetupAssistStatus.SUBMITTED).to_doc()["openKey"] == "loc_1"


def test_r_sa_2_billed_quantity_is_one_for_express_and_the_seats_for_standard() -> None:
    assert billed_quantity(_request(SetupAssistStatus.COMPLETED, SetupAssistSku.EXPRESS, 4)) == 1.0
    assert billed_quantity(_request(SetupAssistStatus.COMPLETED, SetupAssistSku.STANDARD, 8)) == 8.0
