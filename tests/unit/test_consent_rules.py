"""Consent of a free account as pure rules (DOMAIN.md §7.1, R-CONS-1/2): the rolling limit of consent emails, the
states in which an email or an answer is taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.model.entities import ConsentState, Subscriber
from domain.rules.consent import answer_problems, answered, consented, next_email_at, resend_problems, sent

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _subscriber(status: str = "pending_user_migration", consent: ConsentState | None = None) -> Subscriber:
    return Subscriber.model_validate({
        "_id": "sub_1", "customerId": "cus_1", "ownerOrgId": "ptn_demo", "rootOrgId": "ptn_demo",
        "email": "free@example.com", "firstName": "Ada", "lastName": "Lovelace", "package": "webex_calling",
        "extension": "2001", "isAdmin": False, "status": status, "consent": consent, "version": 3,
        "createdAt": NOW, "lastStatusChange": NOW})


def _codes(subscriber: Subscriber, at: datetime) -> list[str]:
    return [p.code.value for p in resend_problems(subscriber, at, "subscriberId")]


def test_r_cons_1_three_emails_in_any_24_hours_then_consent_email_limit() -> None:
    consent = sent(None, NOW)  # the automatic first email counts
    consent = sent(consent, NOW + timedelta(hours=1))
    assert _codes(_subscriber(consent=consent), NOW + timedelta(hours=2)) == []
    consent = sent(consent, NOW + timedelta(hours=2))
    assert consent.emails_sent == 3 and consent.last_email_sent_at == NOW + timedelta(hours=2)
    assert _codes(_subscriber(consent=consent), NOW + timedelta(hours=3)) == ["CONSENT_EMAIL_LIMIT"]
    # Rolling: the first send leaves the window 24 hours after it went out.
    assert next_email_at(consent, NOW + timedelta(hours=3)) == NOW + timedelta(hours=24)
    assert _codes(_subscriber(consent=consent), NOW + timedelta(hours=24)) == []


def test_r_cons_1_the_count_of_sends_keeps_growing_beyond_the_window() -> None:
    consent = None
    for day in range(4):
        consent = sent(consent, NOW + timedelta(days=day))
    assert consent is not None and consent.emails_sent == 4 and len(consent.recent_sends) <= 3


def test_r_cons_1_an_email_only_while_pending_user_migration() -> None:
    for status in ("provisioning", "provisioned", "error", "deleting"):
        assert _codes(_subscriber(status), NOW) == ["INVALID_STATE"], status


def test_r_cons_2_an_answer_only_while_pending_and_it_is_remembered() -> None:
    assert answer_problems(_subscriber(), "subscriberId") == []
    assert [p.code.value for p in answer_problems(_subscriber("provisioned"), "subscriberId")] == ["INVALID_STATE"]
    yes = answered(sent(None, NOW), NOW + timedelta(hours=1), True)
    assert yes.answered_at == NOW + timedelta(hours=1) and yes.emails_sent == 1
    assert consented(_subscriber("provisioning", yes))
    assert not consented(_subscriber("error", answered(sent(None, NOW), NOW, False)))
    assert not consented(_subscriber("provisioning"))
