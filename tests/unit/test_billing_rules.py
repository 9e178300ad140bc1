"""Pure billing rules: the R-BIL-2 period, the billing start of R-BIL-1, and the R-BIL-5 link signature."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.model.entities import OrgKind, Partner
from domain.rules.billing import billing_start, earliest_start, period_problems
from domain.rules.validation import Problems
from gateway.downloads import LinkSigner


def problems_of(start: date, end: date, today: date) -> list[tuple[str, tuple[str, ...] | None]]:
    problems = Problems()
    period_problems(start, end, today, problems, "input")
    return [(p.code.value, p.field) for p in problems.items]


def test_r_bil_2_five_years_back_from_a_leap_day_is_the_28th() -> None:
    assert earliest_start(date(2028, 2, 29)) == date(2023, 2, 28)
    assert earliest_start(date(2026, 11, 22)) == date(2021, 11, 22)


def test_r_bil_2_period_bounds() -> None:
    today = date(2026, 11, 22)
    assert problems_of(date(2021, 11, 22), date(2026, 11, 21), today) == []
    assert problems_of(date(2026, 11, 21), date(2026, 11, 21), today) == []
    assert problems_of(date(2021, 11, 21), date(2026, 11, 22), today) == [
        ("REPORT_DATE_RANGE", ("input", "billingStartDate")), ("REPORT_DATE_RANGE", ("input", "billingEndDate"))]
    assert problems_of(date(2026, 11, 2), date(2026, 11, 1), today) == [
        ("REPORT_DATE_RANGE", ("input", "billingStartDate"))]


def _partner(kind: OrgKind, start: date | None) -> Partner:
    return Partner(id="ptn_x", kind=kind, name="x", subscription_id="s", billing_start_date=start,
                   created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_r_bil_1_billing_starts_at_the_later_of_the_customer_and_sub_partner_dates() -> None:
    sub = _partner(OrgKind.SUB_PARTNER, date(2026, 11, 5))
    assert billing_start(None, None) is None
    assert billing_start(date(2026, 11, 3), sub) == datetime(2026, 11, 5, tzinfo=UTC)
    assert billing_start(date(2026, 11, 9), sub) == datetime(2026, 11, 9, tzinfo=UTC)
    # A top-level partner has no billing start of its own.
    assert billing_start(None, _partner(OrgKind.PARTNER, date(2026, 11, 5))) is None


def test_r_bil_5_a_link_is_valid_for_its_report_until_it_expires() -> None:
    signer = LinkSigner.from_secret("s" * 40)
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    expires, signature = signer.sign("rpt_1", now)
    assert expires == int((now + timedelta(minutes=30)).timestamp())
    assert signer.valid("rpt_1", str(expires), signature, now + timedelta(minutes=29, seconds=59))
    assert not signer.valid("rpt_1", str(expires), signature, now + timedelta(minutes=30))
    assert not signer.valid("rpt_2", str(expires), signature, now)
    assert not signer.valid("rpt_1", str(expires + 1), signature, now)
    assert not signer.valid("rpt_1", "-1", signature, now)
    assert not LinkSigner.from_secret("t" * 40).valid("rpt_1", str(expires), signature, now)


def test_r_bil_5_non_ascii_signatures_and_expiries_are_invalid_not_errors() -> None:
    signer = LinkSigner.from_secret("s" * 40)
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    expires, signature = signer.sign("rpt_1", now)
    assert not signer.valid("rpt_1", str(expires), "é" + signature[1:], now)
    for digits in ("\u00b2", "\u2460", "\u0661" * 10, "\uff11\uff12\uff13"):  # isdigit() is true for all of them
        assert not signer.valid("rpt_1", digits, signature, now)
    assert not signer.valid("rpt_\udc80", str(expires), signature, now)
