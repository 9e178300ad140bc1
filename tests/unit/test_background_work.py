"""What background work looks like from outside (DOMAIN.md §17, R-DASH-2): `background_work` over an entity's status
and its job documents as stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.rules.background import MASKED_FAULT, background_work

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _job(kind: str = "customer.settle", status: str = "ready", attempts: int = 0, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "status": status, "attempts": attempts, "runAt": NOW, **fields}


def test_r_dash_2_idle_is_null() -> None:
    assert background_work("provisioned", []) is None
    # A compliance timer on a provisioned customer is no work on it.
    assert background_work("provisioned", [_job("compliance.deadline")]) is None


def test_r_dash_2_a_retrying_job_shows_attempts_error_and_next_attempt() -> None:
    later = NOW + timedelta(seconds=4)
    work = background_work("provisioning", [_job(attempts=3, runAt=later, lastError="Webex returned 503")])
    assert work is not None
    assert (work.kind, work.attempts, work.next_attempt_at, work.waiting_for) == ("customer.settle", 3, later, None)
    assert work.last_error is not None and (work.last_error.code, work.last_error.message) == (
        "TEMPORARY_FAILURE", "Webex returned 503")


def test_r_dash_2_faults_are_masked_as_internal() -> None:
    work = background_work("provisioning", [_job(attempts=1, lastError="KeyError: 'secret'", lastErrorFault=True)])
    assert work is not None and work.last_error == MASKED_FAULT and "secret" not in work.last_error.message


def test_r_dash_2_a_running_job_has_not_failed_yet_and_no_next_attempt() -> None:
    work = background_work("provisioning", [_job(status="running", attempts=1)])
    assert work is not None and (work.attempts, work.next_attempt_at, work.last_error) == (0, None, None)


def test_r_dash_2_what_it_waits_for() -> None:
    parked = background_work("provisioning", [_job("subscriber.settle", status="waiting", waitFor="cus_1")])
    assert parked is not None and parked.waiting_for == "customer" and parked.next_attempt_at is None
    retried = background_work("updating", [_job("subscriber.settle", attempts=2, retryWaitingFor="customer")])
    assert retried is not None and retried.waiting_for == "customer" and retried.last_error is None
    review = background_work("pending_rpl_review", [_job("rpl.timeout", runAt=NOW + timedelta(hours=72))])
    assert review is not None and (review.kind, review.waiting_for) == ("rpl.timeout", "rpl_review")
    approval = background_work("pending_customer_approval", [])
    assert approval is not None and (approval.kind, approval.waiting_for) == ("waiting", "customer_approval")
    consent = background_work("pending_user_migration", [])
    assert consent is not None and consent.waiting_for == "user_consent" and consent.attempts == 0


def test_r_dash_2_the_job_under_way_is_shown_before_a_timer() -> None:
    work = background_work("pending_rpl_review", [_job("rpl.timeout", runAt=NOW + timedelta(hours=72)),
                                                  _job("customer.settle", status="running", attempts=2)])
    assert work is not None and (work.kind, work.attempts) == ("customer.settle", 1)
