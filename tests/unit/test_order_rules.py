"""The order rules as pure functions (DOMAIN.md §12): R-ORD-1 lines and dates, R-ORD-STATE as a table, R-ORD-2/4
resend and handover, R-ORD-3 the follow-up time, R-ORD-5 every wizard problem at once, R-NOT-6 link validity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.model.entities import Address
from domain.model.errors import DomainError, ErrorCode
from domain.model.orders import ORDER_MOVES, Order, OrderStatus, ResaleOffer, SetupResponsibility
from domain.model.trials import ResaleService
from domain.rules.customers import CallingLocation
from domain.rules.orders import (
    ExistingOrg,
    NewOrder,
    SetupData,
    SetupFacts,
    follow_up_at,
    follow_up_due,
    handover_problems,
    link_usable,
    move_problem,
    order_problems,
    resend_problems,
    setup_problems,
    setup_starts_at,
)

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
S = ResaleService


def _order(status: OrderStatus = OrderStatus.AWAITING_SETUP, services: tuple[ResaleService, ...] = (S.MESSAGING,),
           **overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "_id": "ord_1", "ownerOrgId": "ptn_a", "rootOrgId": "ptn_a", "offer": ResaleOffer.A_WX,
        "lines": [{"service": s, "quantity": 10} for s in services], "requestedStartDate": TODAY,
        "provisioningContactEmail": "orders@partner.example", "linkHolderEmail": "orders@partner.example",
        "status": status, "createdBy": "sales-1", "createdAt": NOW, "lastStatusChange": NOW, **overrides}
    return Order.model_validate(fields)


def _codes(problems: Any) -> list[tuple[ErrorCode, tuple[str, ...] | None]]:
    return [(p.code, p.field) for p in problems.items]


def test_r_ord_1_lines_dates_and_contact_are_all_reported_at_once() -> None:
    ok = NewOrder(ResaleOffer.A_WX, ((S.MESSAGING, 1), (S.CALLING, 100_000)), TODAY + timedelta(days=365),
                  "orders-alias@partner.example")
    assert order_problems(ok, TODAY, "input").items == []
    bad = NewOrder(ResaleOffer.A_WX, ((S.DEVICES, 1), (S.MEETINGS, 0), (S.MEETINGS, 5)), TODAY - timedelta(days=1),
                   "not-an-email", meetings_site_url="acme")
    assert _codes(order_problems(bad, TODAY, "input")) == [
        (ErrorCode.VALIDATION_FAILED, ("input", "lines", "0", "service")),
        (ErrorCode.VALIDATION_FAILED, ("input", "lines", "1", "quantity")),
        (ErrorCode.VALIDATION_FAILED, ("input", "lines", "2", "service")),
        (ErrorCode.REQUESTED_START_DATE_INVALID, ("input", "requestedStartDate")),
        (ErrorCode.INVALID_EMAIL, ("input", "provisioningContactEmail")),
        (ErrorCode.VALIDATION_FAILED, ("input", "meetingsSiteUrl")),
    ]
    late = NewOrder(ResaleOffer.A_WX, ((S.MESSAGING, 1),), TODAY + timedelta(days=366), "a@b.example")
    assert _codes(order_problems(late, TODAY, "input")) == [(ErrorCode.REQUESTED_START_DATE_INVALID,
                                                             ("input", "requestedStartDate"))]
    assert _codes(order_problems(NewOrder(ResaleOffer.A_SPK, (), TODAY, "a@b.example"), TODAY, "input")) == [
        (ErrorCode.REQUIRED, ("input", "lines"))]


def test_r_tri_10_a_conversion_start_date_is_bounded_by_the_grace_end() -> None:
    data = NewOrder(ResaleOffer.A_SPK, ((S.MEETINGS, 5),), TODAY + timedelta(days=31), "a@b.example",
                    meetings_site_url="acme")
    assert _codes(order_problems(data, TODAY, "order", latest=TODAY + timedelta(days=30), conversion=True)) == [
        (ErrorCode.REQUESTED_START_DATE_INVALID, ("order", "requestedStartDate"))]
    assert order_problems(data, TODAY, "order", latest=TODAY + timedelta(days=31), conversion=True).items == []


@pytest.mark.parametrize("current", list(OrderStatus))
@pytest.mark.parametrize("target", list(OrderStatus))
def test_r_ord_state_only_the_table_moves_are_allowed(current: OrderStatus, target: OrderStatus) -> None:
    allowed = {(OrderStatus.PLACED, OrderStatus.AWAITING_SETUP), (OrderStatus.AWAITING_SETUP, OrderStatus.SET_UP),
               (OrderStatus.SET_UP, OrderStatus.PROVISIONING), (OrderStatus.PROVISIONING, OrderStatus.ACTIVE),
               (OrderStatus.PROVISIONING, OrderStatus.ERROR)}
    order = _order(current)
    assert (target in ORDER_MOVES[current]) == ((current, target) in allowed)
    problem = move_problem(order, target)
    if (current, target) in allowed:
        assert problem is None
        moved, change = order.move(target, NOW, reason="test")
        assert (moved.status, moved.version, change.from_status, change.to_status) == (
            target, order.version + 1, current.value, target.value)
        assert change.entity_type.value == "ORDER"
    else:
        assert problem is not None and problem.code is ErrorCode.INVALID_STATE
        with pytest.raises(DomainError):
            order.move(target, NOW)


def test_r_ord_2_and_r_ord_3_setup_and_follow_up_times() -> None:
    assert setup_starts_at(TODAY) == datetime(2026, 12, 7, tzinfo=UTC)
    placed = _order(OrderStatus.PLACED)
    assert follow_up_at(placed) is None and not follow_up_due(placed, NOW + timedelta(days=9))
    # The email at 00:00 of the start date: the follow-up is the next day's 00:00 (both bounds agree).
    early = _order(setupEmailSentAt=datetime(2026, 12, 7, tzinfo=UTC))
    assert follow_up_at(early) == datetime(2026, 12, 8, tzinfo=UTC)
    # An email sent later (a resend, or an order placed after its start date): 24 h after it.
    late = _order(setupEmailSentAt=datetime(2026, 12, 7, 15, tzinfo=UTC))
    assert follow_up_at(late) == datetime(2026, 12, 8, 15, tzinfo=UTC)
    assert not follow_up_due(late, datetime(2026, 12, 8, 14, tzinfo=UTC))
    assert follow_up_due(late, datetime(2026, 12, 8, 15, tzinfo=UTC))
    assert follow_up_due(late.model_copy(update={"status": OrderStatus.SET_UP}), datetime(2026, 12, 9, tzinfo=UTC))
    assert not follow_up_due(late.model_copy(update={"follow_up_sent": True}), datetime(2026, 12, 9, tzinfo=UTC))
    assert not follow_up_due(late.model_copy(update={"status": OrderStatus.PROVISIONING}),
                             datetime(2026, 12, 9, tzinfo=UTC))


def test_r_ord_4_handover_rules_and_r_ord_2_resend() -> None:
    order = _order()
    assert handover_problems(order, SetupResponsibility.PARTNER_COLLEAGUE, "colleague@partner.example").items == []
    assert _codes(handover_problems(order, SetupResponsibility.PARTNER, "x")) == [
        (ErrorCode.VALIDATION_FAILED, ("to",)), (ErrorCode.INVALID_EMAIL, ("email",))]
    handed = order.model_copy(update={"setup_by": SetupResponsibility.CUSTOMER})
    assert _codes(handover_problems(handed, SetupResponsibility.PARTNER_COLLEAGUE, "a@b.example")) == [
        (ErrorCode.INVALID_STATE, ("id",))]
    assert _codes(resend_problems(handed, None)) == [(ErrorCode.INVALID_STATE, ("id",))]
    assert _codes(handover_problems(_order(OrderStatus.SET_UP), SetupResponsibility.CUSTOMER, "a@b.example")) == [
        (ErrorCode.INVALID_STATE, ("id",))]
    assert resend_problems(order, "person@partner.example").items == []
    assert _codes(resend_problems(_order(OrderStatus.PLACED), "bad")) == [
        (ErrorCode.INVALID_STATE, ("id",)), (ErrorCode.INVALID_EMAIL, ("provisioningContactEmail",))]


def test_r_not_6_a_setup_link_works_for_its_version_while_awaiting_or_set_up() -> None:
    order = _order(linkVersion=2)
    assert link_usable(order, 2) and not link_usable(order, 1)
    assert link_usable(order.model_copy(update={"status": OrderStatus.SET_UP}), 2)
    assert not link_usable(order.model_copy(update={"status": OrderStatus.PROVISIONING}), 2)


def _location(**overrides: Any) -> CallingLocation:
    fields: dict[str, Any] = {"name": "HQ", "address": Address(address_line1="1 Fjord Street", city="Oslo",
                                                                country="NO"),
                              "timezone": "Europe/Oslo", "language": "nb_NO", **overrides}
    return CallingLocation(**fields)


def test_r_ord_5_every_wizard_problem_is_reported_at_once() -> None:
    order = _order(services=(S.MESSAGING, S.CALLING, S.MEETINGS))
    ok = SetupData(True, "admin@customer.example", new_org_name="Customer AS", new_org_country="NO",
                   new_org_given=True, subdomain="customer", calling_location=_location(),
                   meetings_site_url="customer", meetings_timezone="Europe/Oslo")
    assert setup_problems(order, ok, SetupFacts(existing_org=None)).items == []
    bad = SetupData(False, "nope", confirm_existing_org_id="org_x", calling_location=_location(language="xx"),
                    meetings_site_url="taken", meetings_timezone="Mars/Base")
    facts = SetupFacts(existing_org=None, site_problem=ErrorCode.SITE_URL_TAKEN)
    assert _codes(setup_problems(order, bad, facts)) == [
        (ErrorCode.CONFIRMATION_REQUIRED, ("input", "partnerOrgConfirmed")),
        (ErrorCode.INVALID_EMAIL, ("input", "customerAdminEmail")),
        (ErrorCode.NOT_FOUND, ("input", "confirmExistingOrgId")),
        (ErrorCode.REQUIRED, ("input", "newOrg")),
        (ErrorCode.REQUIRED, ("input", "subdomain")),
        (ErrorCode.INVALID_LOCALE, ("input", "callingLocation", "language")),
        (ErrorCode.SITE_URL_TAKEN, ("input", "meetings", "siteUrl")),
        (ErrorCode.INVALID_TIMEZONE, ("input", "meetings", "timezone")),
    ]
    taken = SetupFacts(existing_org=None, subdomain_problem=ErrorCode.SUBDOMAIN_TAKEN)
    assert (ErrorCode.SUBDOMAIN_TAKEN, ("input", "subdomain")) in _codes(setup_problems(order, ok, taken))
    assert _codes(setup_problems(_order(OrderStatus.SET_UP), ok, SetupFacts(existing_org=None))) == [
        (ErrorCode.INVALID_STATE, ("id",))]


def test_r_ord_5_an_existing_org_must_be_confirmed_and_eligible() -> None:
    order = _order()
    existing = SetupFacts(existing_org=ExistingOrg("cor_1"))
    unconfirmed = SetupData(True, "admin@customer.example")
    assert _codes(setup_problems(order, unconfirmed, existing)) == [
        (ErrorCode.CONFIRMATION_REQUIRED, ("input", "confirmExistingOrgId"))]
    assert setup_problems(order, SetupData(True, "admin@customer.example", "cor_1"), existing).items == []
    wholesale = SetupFacts(existing_org=ExistingOrg("cor_1", wholesale=True))
    assert _codes(setup_problems(order, SetupData(True, "admin@customer.example", "cor_1"), wholesale)) == [
        (ErrorCode.ORG_NOT_ELIGIBLE, ("input", "customerAdminEmail"))]


def test_r_tri_10_a_conversion_setup_names_a_trial_org_admin() -> None:
    order = _order(trialId="trl_1")
    facts = SetupFacts(existing_org=ExistingOrg("cor_1"), conversion_admins=frozenset({"admin@customer.example"}))
    assert setup_problems(order, SetupData(True, "Admin@Customer.example"), facts).items == []
    assert _codes(setup_problems(order, SetupData(True, "other@customer.example"), facts)) == [
        (ErrorCode.CONVERSION_EMAIL_MISMATCH, ("input", "customerAdminEmail"))]
