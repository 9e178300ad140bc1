"""Notifications as pure functions (DOMAIN.md §13): the outbox's unique key and documents, recipients, the text of
every kind, the sender's retry schedule, the SMTP URL, and the emailed links' tokens (R-NOT-1…4, 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from domain.model.changes import EntityType
from domain.model.entities import OrgKind, Partner
from domain.model.notifications import (
    Link,
    LinkPurpose,
    LinkRefused,
    Notification,
    NotificationAudience,
    NotificationKind,
    OutboxNotification,
)
from domain.model.principal import Principal
from domain.rules.notifications import (
    FACTS,
    after_failure,
    customer_admin_recipients,
    outbox_documents,
    partner_admin_recipients,
    render_body,
    render_subject,
)
from domain.rules.tenancy import Caller
from domain.services.notifications import require_link
from gateway.auth import InvalidToken, issue_link_token, issue_token, verify_token
from gateway.mail import SmtpConfig

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SECRET = "unit-secret-0123456789-0123456789-abcdef"


def _notification(**changes: object) -> Notification:
    fields: dict[str, object] = dict(
        kind=NotificationKind.TRIAL_EXPIRY_WARNING, audience=NotificationAudience.PARTNER_ADMINS,
        to=("Ann@Partner.example", "bob@partner.example", "ann@partner.example"), occasion="2026-12-22T09:00:00",
        owner_org_id="ptn_1", root_org_id="ptn_1", entity_type=EntityType.TRIAL, entity_id="trl_1",
        facts={"companyName": "Acme", "endsAt": "2026-12-22T09:00:00+00:00"})
    fields.update(changes)
    return Notification(**fields)  # type: ignore[arg-type]


def test_r_not_1_one_outbox_document_per_occasion_with_a_stable_unique_key() -> None:
    """R-NOT-1: the same (kind, audience, entity, occasion) gives the same key (a repeated timer writes nothing
    new), another occasion another key; recipients are normalised; no recipient, no notification."""
    [doc] = outbox_documents(_notification(), NOW)
    [again] = outbox_documents(_notification(), NOW + timedelta(hours=1))
    [other] = outbox_documents(_notification(occasion="2027-01-21T09:00:00"), NOW)
    [customers] = outbox_documents(_notification(audience=NotificationAudience.CUSTOMER_ADMINS), NOW)
    assert doc["key"] == again["key"] and doc["_id"] != again["_id"]
    assert len({doc["key"], other["key"], customers["key"]}) == 3
    stored = OutboxNotification.from_doc(doc)
    assert stored.to == ("ann@partner.example", "bob@partner.example")
    assert stored.status.value == "queued" and stored.next_attempt_at == NOW and stored.attempts == 0
    assert stored.subject == "The Webex trial of Acme ends in 7 days"
    assert outbox_documents(_notification(to=("not an address", "")), NOW) == []


def test_r_not_6_a_link_email_is_one_notification_per_recipient() -> None:
    """R-NOT-6: each recipient's link names that recipient, so a link email is split, one per address."""
    link = Link(LinkPurpose.TRIAL_CONSENT, "trl_1", 2, NOW + timedelta(days=10))
    docs = outbox_documents(_notification(kind=NotificationKind.TRIAL_CONSENT_REQUEST, link=link), NOW)
    assert [d["to"] for d in docs] == [("ann@partner.example",), ("bob@partner.example",)]
    assert len({d["key"] for d in docs}) == 2
    assert OutboxNotification.from_doc(docs[0]).link_spec == link


def test_r_not_3_recipients_of_partner_and_customer_admins() -> None:
    """R-NOT-3: partner admins = the owner's notificationEmails + the creator if an address; customer admins =
    the org's full admins."""
    owner = Partner.from_doc({"_id": "ptn_1", "kind": OrgKind.PARTNER, "name": "P", "subscriptionId": "s",
                              "notificationEmails": ("ops@p.example",), "createdAt": NOW})
    assert partner_admin_recipients(owner, "Sales@P.example") == ("ops@p.example", "sales@p.example")
    assert partner_admin_recipients(owner, "subject-without-at") == ("ops@p.example",)
    assert customer_admin_recipients([("a@c.example", True), ("b@c.example", False)]) == ("a@c.example",)


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_r_not_4_every_kind_has_a_subject_and_a_body(kind: NotificationKind) -> None:
    """R-NOT-4: every kind renders from its facts; a missing fact renders as a word, never an error; a fact
    cannot add a header line to the subject."""
    facts = {name: f"<{name}>" for name in FACTS[kind]}
    subject, body = render_subject(kind, facts), render_body(kind, facts)
    assert subject and "(not given)" not in subject and "(not given)" not in body
    assert "(not given)" in render_body(kind, {}) or not FACTS[kind]
    evil = {name: "x\r\nBcc: evil@example.com" for name in FACTS[kind]}
    assert "\n" not in render_subject(kind, evil)


def test_r_not_4_a_link_body_says_how_to_use_the_link() -> None:
    body = render_body(NotificationKind.ORDER_SETUP, {"partnerName": "Fjord"}, "http://gw/graphql#token=T",
                       LinkPurpose.ORDER_SETUP, "ord_1")
    assert "http://gw/graphql#token=T" in body and 'completeOrderSetup(id: "ord_1"' in body


def test_r_not_2_retries_after_one_minute_doubling_to_an_hour_then_fail() -> None:
    """R-NOT-2: 1, 2, 4 … min capped at 60; the 10th failure or a 5xx is final."""
    waits = [after_failure(n, NOW, permanent=False).next_attempt_at for n in range(1, 10)]
    assert [(w - NOW) // timedelta(minutes=1) for w in waits if w] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert after_failure(10, NOW, permanent=False).failed
    assert after_failure(1, NOW, permanent=True).failed


def test_r_not_2_smtp_url() -> None:
    """R-NOT-2: GATEWAY_SMTP_URL forms."""
    assert SmtpConfig.parse("smtp://u%40x:p%3Aw@mail.example:2525?starttls=true") == SmtpConfig(
        "mail.example", 2525, "u@x", "p:w", False, True)
    assert SmtpConfig.parse("smtps://mail.example") == SmtpConfig("mail.example", 465, None, None, True, None)
    for bad in ("http://mail.example", "smtp://", "smtp://h?tls=1", "smtps://h?starttls=false"):
        with pytest.raises(ValueError):
            SmtpConfig.parse(bad)


def _link(version: int = 3, expires: datetime = NOW + timedelta(days=10)) -> str:
    return issue_link_token(SECRET, purpose=LinkPurpose.TRIAL_CONSENT, recipient="admin@acme.example",
                            owner_org_id="ptn_1", entity_id="trl_1", version=version, expires_at=expires)


def test_r_not_6_a_link_token_grants_one_entitys_link_and_nothing_else() -> None:
    """R-NOT-6: a link token is a principal with no org, role or scope (never a partner admin), whose grant opens
    only its entity at its link version; its `exp` is read on the gateway's clock."""
    principal = verify_token(SECRET, _link(), now=NOW)
    assert principal.org_id is None and not principal.roles and not principal.scopes
    assert not principal.is_partner_admin and not principal.is_full_admin
    assert principal.link is not None and principal.link.owner_org_id == "ptn_1"
    caller = Caller(principal, None)
    assert require_link(caller, LinkPurpose.TRIAL_CONSENT, "trl_1", 3).recipient == "admin@acme.example"
    for purpose, entity, version in ((LinkPurpose.ORDER_SETUP, "trl_1", 3), (LinkPurpose.TRIAL_CONSENT, "trl_2", 3),
                                     (LinkPurpose.TRIAL_CONSENT, "trl_1", 4)):  # 4: revoked by a resend
        with pytest.raises(LinkRefused):
            require_link(caller, purpose, entity, version)
    admin = Caller(Principal.from_claims("a@p.example", "ptn_1", ["full_admin"], None), None)
    with pytest.raises(LinkRefused):
        require_link(admin, LinkPurpose.TRIAL_CONSENT, "trl_1", 3)
    with pytest.raises(InvalidToken, match="expired"):  # past its deadline on the gateway's clock
        verify_token(SECRET, _link(), now=NOW + timedelta(days=10, seconds=1))


def test_r_not_6_a_link_role_cannot_be_mixed_nor_come_from_elsewhere() -> None:
    """R-NOT-6: a token mixing a link role with an admin role, or with scopes, is refused; so is one signed with
    another secret; an API token is still checked on the system clock."""
    mixed = issue_token(SECRET, subject="x@y.example", org="ptn_1", roles=["trial_consent", "full_admin"],
                        ttl=timedelta(hours=1))
    with pytest.raises(InvalidToken):
        verify_token(SECRET, mixed, now=NOW)
    scoped = jwt.encode({"sub": "x@y.example", "roles": ["order_setup"], "org": "ptn_1", "ent": "ord_1", "lv": 1,
                         "scopes": ["orders_write"], "exp": int((NOW + timedelta(days=1)).timestamp())},
                        SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_token(SECRET, scoped, now=NOW)
    with pytest.raises(InvalidToken):
        verify_token("another-secret-0123456789-0123456789", _link(), now=NOW)
    api = issue_token(SECRET, subject="a@p.example", org="ptn_1", roles=["full_admin"], ttl=timedelta(hours=1))
    assert verify_token(SECRET, api, now=NOW - timedelta(days=400)).is_full_admin
