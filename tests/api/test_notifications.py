"""Email through the outbox, for real (DOMAIN.md §13, R-NOT-1…3, 5, 6): notifications written with the transaction
that causes them, sent by the sender over SMTP to a real server on loopback (aiosmtpd), and read back through the
API by whoever may see them. Link tokens' grants are proven at the unit level (tests/unit/test_notification_rules.py)
and by the trial and order journeys that use them."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from domain.model.changes import EntityType
from domain.model.notifications import Link, LinkPurpose, Notification, NotificationAudience, NotificationKind
from domain.store.repositories import Tx
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from gateway.mail import MailSender, SmtpConfig
from tests.api.provisioning import refused
from tests.conftest import JWT_SECRET, Demo, Gateway

SALES = "sales@fjord-cloud.example"
LIST = """query($filter: NotificationFilter) { notifications(filter: $filter) { totalCount
  edges { node { id kind audience to subject entityType entityId status attempts lastError createdAt sentAt } } } }"""
SET_EMAILS = """mutation($emails: [String!]!, $for: ID) {
  setPartnerNotificationEmails(emails: $emails, onBehalfOfSubPartnerOrgId: $for) {
    partner { id notificationEmails } errors { code message field } } }"""


@dataclass
class Inbox:
    """What the loopback SMTP server received; `answers` refuses chosen recipients (e.g. "550 no such user")."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _notice(kind: NotificationKind, entity_id: str, to: tuple[str, ...], *, owner: str = DEMO_RESALE_PARTNER_ID,
            audience: NotificationAudience = NotificationAudience.PARTNER_ADMINS, link: Link | None = None,
            occasion: str = "2026-12-22") -> Notification:
    return Notification(kind=kind, audience=audience, to=to, occasion=occasion, owner_org_id=owner,
                        root_org_id=DEMO_RESALE_PARTNER_ID, entity_type=EntityType.TRIAL, entity_id=entity_id,
                        created_by=SALES, facts={"companyName": "Acme " + entity_id, "partnerName": "Fjord"},
                        link=link)


async def _write(gateway: Gateway, *notices: Notification) -> None:
    async def work(tx: Tx) -> None:
        for notice in notices:
            await tx.notify(notice)
    await gateway.repos.atomic(work)


async def _listed(gateway: Gateway, token: str, **filter: Any) -> list[dict[str, Any]]:
    data = await gateway.execute(token, LIST, {"filter": filter or None})
    return [e["node"] for e in data["notifications"]["edges"]]


async def test_r_not_1_2_5_the_outbox_is_sent_over_smtp_and_read_by_who_may_see_it(
        gateway: Gateway, demo: Demo, smtp: tuple[Inbox, int]) -> None:
    """R-NOT-1: written with its transaction, once per occasion. R-NOT-2: sent over SMTP with Message-ID = id,
    sent once; 5xx → failed; a temporary failure retries a minute later on the gateway's clock; no SMTP → queued.
    R-NOT-5: partner admins see their org's, a parent its sub-partners' on request, a sales_admin its own, the
    platform all, nobody else. R-NOT-6: a link is signed at send time and grants nothing but its entity's link."""
    inbox, port = smtp
    inbox.answers = {"gone@acme.example": "550 5.1.1 no such user", "busy@acme.example": "451 4.3.0 try later"}
    warning = _notice(NotificationKind.TRIAL_EXPIRY_WARNING, "trl_warn", ("Ops@Fjord.example", SALES))
    await _write(gateway, warning)
    await _write(gateway, warning)  # the timer again: nothing new (R-NOT-1)
    link = Link(LinkPurpose.TRIAL_CONSENT, "trl_consent", 1, gateway.clock.now() + timedelta(days=10))
    await _write(gateway,
                 _notice(NotificationKind.TRIAL_CONSENT_REQUEST, "trl_consent", ("a@acme.example", "b@acme.example"),
                         audience=NotificationAudience.CUSTOMER_ADMINS, link=link),
                 _notice(NotificationKind.TRIAL_EXPIRED, "trl_gone", ("gone@acme.example",)),
                 _notice(NotificationKind.TRIAL_EXPIRED, "trl_busy", ("busy@acme.example",)),
                 _notice(NotificationKind.TRIAL_STARTED, "trl_sub", ("lagoon@lagoon.example",),
                         owner=DEMO_RESALE_SUB_PARTNER_ID))
    mine = {"trl_warn", "trl_consent", "trl_gone", "trl_busy", "trl_sub"}
    platform = gateway.token(None, "platform_admin")

    async def outbox() -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for node in await _listed(gateway, platform):
            if node["entityId"] in mine:
                found.setdefault(node["entityId"], []).append(node)
        return found

    unconfigured = MailSender(gateway.repos, None, secret=JWT_SECRET, mail_from="x@gw.example", link_base="http://gw")
    assert await unconfigured.run_once() == 0  # no SMTP settings: everything stays queued
    queued = await outbox()
    assert {k: len(v) for k, v in queued.items()} == {"trl_warn": 1, "trl_consent": 2, "trl_gone": 1, "trl_busy": 1,
                                                      "trl_sub": 1}
    assert all(n["status"] == "queued" and n["attempts"] == 0 for ns in queued.values() for n in ns)

    sender = MailSender(gateway.repos, SmtpConfig("127.0.0.1", port, start_tls=False), secret=JWT_SECRET,
                        mail_from="Partner gateway <no-reply@gw.example>", link_base="http://gateway.test",
                        batch=1000)
    await sender.run_once()
    after = await outbox()
    by_id = {m["Message-ID"]: (to, m) for to, m in inbox.messages}
    [sent_warning] = after["trl_warn"]
    to, message = by_id[f"<{sent_warning['id']}@gw.example>"]
    assert sorted(to) == ["ops@fjord.example", SALES] and sent_warning["status"] == "sent"
    assert message["Subject"] == "The Webex trial of Acme trl_warn ends in 7 days" == sent_warning["subject"]
    assert sent_warning["sentAt"] is not None and sent_warning["attempts"] == 1
    assert after["trl_gone"][0]["status"] == "failed" and "550" in after["trl_gone"][0]["lastError"]
    busy = after["trl_busy"][0]
    assert busy["status"] == "queued" and busy["attempts"] == 1 and "451" in busy["lastError"]

    # Each consent email names its recipient in its link; the link opens nothing but its entity's link operations.
    consent = {to[0]: m for to, m in inbox.messages if m["Subject"].startswith("Fjord asks")}
    assert sorted(consent) == ["a@acme.example", "b@acme.example"]
    part = consent["a@acme.example"].get_body(("plain",))
    assert part is not None
    body = part.get_content()
    match = re.search(r"http://gateway\.test/graphql#token=(\S+)", body)
    assert match is not None and 'respondToTrialConsent(id: "trl_consent"' in body
    link_token = match.group(1)
    principal = await gateway.runtime.authenticator.authenticate(f"Bearer {link_token}")
    assert principal.link is not None and principal.link.recipient == "a@acme.example"
    assert principal.link.entity_id == "trl_consent" and principal.org_id is None
    for operation in (LIST, "{ customers { totalCount } }"):
        errors = await gateway.errors(link_token, operation)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "token" not in str(await outbox())  # the body (and its link) is never shown

    # Sent once: the next round sends nothing; the temporary failure goes again once its minute has passed.
    received = len(inbox.messages)
    inbox.answers = {}
    await sender.run_once()
    assert len(inbox.messages) == received
    gateway.clock.advance(timedelta(minutes=1))
    await sender.run_once()
    assert len(inbox.messages) == received + 1
    assert (await outbox())["trl_busy"][0]["status"] == "sent"

    # R-NOT-5: who reads what.
    resale_admin = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    own = {n["entityId"] for n in await _listed(gateway, resale_admin)} & mine
    assert own == mine - {"trl_sub"}
    both = {n["entityId"] for n in await _listed(gateway, resale_admin, includeSubPartners=True)} & mine
    assert both == mine
    sub = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    assert {n["entityId"] for n in await _listed(gateway, sub)} & mine == {"trl_sub"}
    assert await _listed(gateway, sub, subPartnerOrgId=DEMO_RESALE_PARTNER_ID) == []  # not its parent's (R-ORG-2)
    readers = [gateway.token(DEMO_RESALE_PARTNER_ID, "read_only_admin"),
               gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject=SALES)]
    for reader in readers:
        assert {n["entityId"] for n in await _listed(gateway, reader)} & mine == mine - {"trl_sub"}
    other_sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="other@fjord-cloud.example")
    assert {n["entityId"] for n in await _listed(gateway, other_sales)} & mine == set()
    assert {n["entityId"] for n in await _listed(gateway, gateway.token(demo.partner, "full_admin"))} & mine == set()
    filtered = await _listed(gateway, resale_admin, kinds=["TRIAL_EXPIRED"], status=["failed"])
    assert [n["entityId"] for n in filtered if n["entityId"] in mine] == ["trl_gone"]
    assert [n["entityId"] for n in await _listed(gateway, resale_admin, recipient="A@acme.example")] == ["trl_consent"]
    assert (await gateway.errors(gateway.token(None, "compliance_reviewer"), LIST))[0]["extensions"]["code"] == \
        "FORBIDDEN"
    node_query = "query($id: ID!) { node(id: $id) { id ... on Notification { subject } } }"
    sub_id = (await outbox())["trl_sub"][0]["id"]
    assert (await gateway.execute(resale_admin, node_query, {"id": sub_id}))["node"]["id"] == sub_id
    assert (await gateway.execute(gateway.token(demo.partner, "full_admin"), node_query,
                                  {"id": sub_id}))["node"] is None  # another tenant's: as missing (R-ORG-6)


async def test_r_not_3_partner_admins_set_their_notification_emails(gateway: Gateway, demo: Demo) -> None:
    """R-NOT-3: full_admin sets its org's partner-admin addresses, a parent its sub-partner's on its behalf; bad
    addresses are refused with their field path and nothing written; other roles are FORBIDDEN."""
    admin = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    data = await gateway.execute(admin, SET_EMAILS, {"emails": ["Ops@Fjord.example", "billing@fjord.example"]})
    assert data["setPartnerNotificationEmails"] == {
        "partner": {"id": DEMO_RESALE_PARTNER_ID, "notificationEmails": ["ops@fjord.example", "billing@fjord.example"]},
        "errors": []}
    data = await gateway.execute(admin, SET_EMAILS, {"emails": [], "for": DEMO_RESALE_SUB_PARTNER_ID})
    assert data["setPartnerNotificationEmails"]["partner"] == {"id": DEMO_RESALE_SUB_PARTNER_ID,
                                                               "notificationEmails": []}
    wholesale = gateway.token(demo.partner, "full_admin")  # both routes to market have partner admins
    data = await gateway.execute(wholesale, SET_EMAILS, {"emails": ["noc@demo-telecom.example"]})
    assert data["setPartnerNotificationEmails"]["errors"] == []

    errors = await refused(gateway, admin, SET_EMAILS, {"emails": ["ok@fjord.example", "not-an-address",
                                                                   "OK@fjord.example"]})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_EMAIL", ["emails", "1"]),
                                                         ("VALIDATION_FAILED", ["emails", "2"])]
    errors = await refused(gateway, admin, SET_EMAILS, {"emails": [], "for": demo.sub_a})
    assert [e["code"] for e in errors] == ["NOT_A_SUB_PARTNER"]
    for role in ("read_only_admin", "sales_admin"):
        async with gateway.writes_nothing():
            found = await gateway.errors(gateway.token(DEMO_RESALE_PARTNER_ID, role), SET_EMAILS, {"emails": []})
        assert found[0]["extensions"]["code"] == "FORBIDDEN"


async def test_r_not_6_an_emailed_consent_link_works_once_and_a_resend_revokes_it(
        gateway: Gateway, demo: Demo, smtp: tuple[Inbox, int]) -> None:
    """R-NOT-6, R-NOT-4, R-TRI-5: the consent emails of a real trial, read from the SMTP server: the link of the
    first is revoked by the resend; the second's works once (the request is answered), then no more."""
    inbox, port = smtp
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin", subject=SALES)
    lookup = await gateway.execute(fjord, 'query { orgLookup(adminEmail: "owner@bergen-bikes.example") { '
                                          'org { id } } }')
    start = """mutation($input: StartTrialInput!) {
      startTrial(input: $input) { trial { id status } errors { code } } }"""
    started = (await gateway.execute(fjord, start, {"input": {
        "companyName": "Bergen Bikes", "adminEmail": "owner@bergen-bikes.example", "industry": "Retail",
        "country": "NO", "services": ["MESSAGING"], "confirmExistingOrgId": lookup["orgLookup"]["org"]["id"]}}))
    trial = started["startTrial"]["trial"]
    assert trial["status"] == "pending_customer_consent", started
    sender = MailSender(gateway.repos, SmtpConfig("127.0.0.1", port, start_tls=False), secret=JWT_SECRET,
                        mail_from="no-reply@gw.example", link_base="http://gateway.test", batch=1000)
    await sender.run_once()
    await gateway.execute(fjord, "mutation($id: ID!) { resendTrialConsent(id: $id) { errors { code } } }",
                          {"id": trial["id"]})
    await sender.run_once()

    links = []
    for to, message in inbox.messages:
        part = message.get_body(("plain",))
        assert part is not None
        if trial["id"] in part.get_content():
            assert to == ["owner@bergen-bikes.example"] and message["Subject"].startswith("Fjord Cloud Resale asks")
            match = re.search(r"#token=(\S+)", part.get_content())
            assert match is not None
            links.append(match.group(1))
    assert len(links) == 2
    respond = """mutation($id: ID!) { respondToTrialConsent(id: $id, accept: true) {
      trial { status } errors { code } } }"""
    revoked = await gateway.errors(links[0], respond, {"id": trial["id"]})
    assert revoked[0]["extensions"]["code"] == "UNAUTHENTICATED"
    answered = await gateway.execute(links[1], respond, {"id": trial["id"]})
    assert answered["respondToTrialConsent"]["trial"]["status"] == "pending_provisioning_details"
    again = await gateway.errors(links[1], respond, {"id": trial["id"]})
    assert again[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_r_not_2_the_outbox_keeps_a_notification_30_days_whatever_its_state(gateway: Gateway,
                                                                                  demo: Demo) -> None:
    """R-NOT-2: kept 30 days. The hourly retention job removes what was written longer ago, sent or not."""
    assert gateway.runtime.retention is not None
    await _write(gateway, _notice(NotificationKind.TRIAL_EXPIRED, "trl_old", ("old@acme.example",)))
    gateway.clock.advance(timedelta(days=20))
    await _write(gateway, _notice(NotificationKind.TRIAL_EXPIRED, "trl_recent", ("recent@acme.example",)))
    platform = gateway.token(None, "platform_admin")
    gateway.clock.advance(timedelta(days=10) - timedelta(minutes=1))  # the first is 30 days old less a minute
    await gateway.runtime.retention.purge()
    assert {"trl_old", "trl_recent"} <= {n["entityId"] for n in await _listed(gateway, platform)}
    gateway.clock.advance(timedelta(minutes=2))  # and now a minute more than 30 days
    await gateway.runtime.retention.purge()
    listed = {n["entityId"] for n in await _listed(gateway, platform)}
    assert "trl_recent" in listed and "trl_old" not in listed
