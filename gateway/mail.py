"""The email sender (DOMAIN.md §13, R-NOT-2): a background task that sends the outbox over SMTP.

Each round leases a bounded batch of due notifications (queued and due on the gateway's clock, or `sending` under
a lapsed lease: their sender died), sends each one and records the outcome. The lease makes two processes never
send the same notification at once; a crash between the sending and the recording sends it again (at least once:
the Message-ID, the notification's id, lets a mail system see the repeat). A temporary failure retries after
1 min doubling to 1 h (`nextAttemptAt`); a 5xx answer or the 10th failure is `failed`. Without SMTP settings the
sender does nothing and the outbox stays queued.

Bodies are rendered here, at send time (domain.rules.notifications), with their links: a link's token is signed
now, like the API tokens (gateway.auth.issue_link_token), and never stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from domain.model.notifications import OutboxNotification
from domain.rules.notifications import after_failure, link_expiry, render_body, short_error
from domain.store.background import cancel_and_wait
from domain.store.driver import Document
from domain.store.repositories import Repositories
from gateway.auth import issue_link_token

log = logging.getLogger("gateway.mail")

BATCH = 20  # notifications per round
LEASE = timedelta(minutes=2)  # longer than one SMTP exchange may take (SEND_TIMEOUT)
SEND_TIMEOUT = 30.0
POLL_SECONDS = 1.0  # how often an idle sender looks for due mail (not a business timer: those are nextAttemptAt)


@dataclass(frozen=True)
class SmtpConfig:
    """GATEWAY_SMTP_URL: smtp://[user:pass@]host[:port][?starttls=true] or smtps://… (TLS from the start)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: if the server offers it

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """ValueError naming what is wrong (never the password)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("has a bad port") from None
        options = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"starttls"}
        if unknown or options.get("starttls", "true") not in ("true", "false"):
            raise ValueError("takes one option, starttls=true|false")
        tls = parts.scheme == "smtps"
        if tls and "starttls" in options:
            raise ValueError("smtps:// is TLS from the start: starttls does not apply")
        start_tls = None if "starttls" not in options else options["starttls"] == "true"
        return cls(parts.hostname, port or (465 if tls else 25),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls, start_tls)


@dataclass(frozen=True)
class Outcome:
    sent: bool
    permanent: bool = False
    error: str | None = None


class MailSender:
    """Sends the outbox (R-NOT-2); `start`/`stop` run it as a supervised task, `run_once` is one round (tests)."""

    def __init__(self, repos: Repositories, config: SmtpConfig | None, *, secret: str, mail_from: str,
                 link_base: str, batch: int = BATCH, poll_seconds: float = POLL_SECONDS) -> None:
        self.repos = repos
        self.config = config
        self.secret = secret
        self.mail_from = mail_from
        self.link_base = link_base.rstrip("/")
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.owner = f"{repos.process}:mail:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self.config is not None:
            self._task = asyncio.create_task(self._run(), name="mail-sender")

    async def stop(self) -> None:
        """Cancel the loop; a notification cut off mid-send keeps its lease and is sent again once it lapses."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away, say: log, wait, go on
                log.exception("mail sender: a round failed")
                done = 0
            if done < self.batch:
                await asyncio.sleep(self.poll_seconds)

    async def run_once(self) -> int:
        """Send up to one batch of due notifications; how many were attempted (0: nothing due, or no SMTP)."""
        if self.config is None:
            return 0
        attempted = 0
        while attempted < self.batch:
            now = self.repos.clock.now()
            doc = await self.repos.notifications.claim(now, self.owner, now + LEASE)
            if doc is None:
                break
            attempted += 1
            await self._deliver(doc)
        return attempted

    async def _deliver(self, doc: Document) -> None:
        notification = OutboxNotification.from_doc(doc)
        try:
            message = self.message(notification)
            outcome = await self._send(message, list(notification.to))
        except Exception as exc:  # a notification that cannot even be rendered: a permanent failure
            log.exception("mail sender: cannot build notification %s", notification.id)
            outcome = Outcome(False, True, f"cannot build the message: {exc}")
        now = self.repos.clock.now()
        if outcome.sent:
            fields: dict[str, object] = {"status": "sent", "sentAt": now, "lastError": outcome.error,
                                         "nextAttemptAt": None}
        else:
            failure = after_failure(notification.attempts + 1, now, permanent=outcome.permanent)
            fields = {"status": "failed" if failure.failed else "queued", "nextAttemptAt": failure.next_attempt_at,
                      "lastError": short_error(outcome.error or "failed")}
        if not await self.repos.notifications.settle(notification.id, self.owner, fields):
            log.warning("mail sender: lost the lease of %s (sent twice, at least once)", notification.id)

    def message(self, notification: OutboxNotification) -> EmailMessage:
        """The email of a notification, rendered now (R-NOT-1), its link signed now (R-NOT-6)."""
        link = notification.link_spec
        url = None
        if link is not None:
            now = self.repos.clock.now()
            token = issue_link_token(self.secret, purpose=link.purpose, recipient=notification.to[0],
                                     owner_org_id=notification.owner_org_id, entity_id=link.entity_id,
                                     version=link.version, expires_at=link_expiry(now, link.expires_at))
            url = f"{self.link_base}/graphql#token={token}"
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = ", ".join(notification.to)
        message["Subject"] = notification.subject
        message["Date"] = formatdate(notification.created_at.timestamp(), usegmt=True)
        message["Message-ID"] = f"<{notification.id}@{_domain(self.mail_from)}>"
        message.set_content(render_body(notification.kind, notification.facts, url,
                                        link.purpose if link else None, link.entity_id if link else None))
        return message

    async def _send(self, message: EmailMessage, recipients: list[str]) -> Outcome:
        config = self.config
        assert config is not None
        try:
            refused, _ = await aiosmtplib.send(
                message, sender=_address(self.mail_from), recipients=recipients, hostname=config.host,
                port=config.port, username=config.username, password=config.password, use_tls=config.use_tls,
                start_tls=config.start_tls, timeout=SEND_TIMEOUT)
        except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            codes = [r.code for r in exc.recipients]
            return Outcome(False, all(c >= 500 for c in codes), str(exc))
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(False, exc.code >= 500, f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Outcome(False, False, f"{type(exc).__name__}: {exc}")
        if refused:  # some recipients refused: the others have it (not sent again to them)
            return Outcome(True, error="refused: " + ", ".join(sorted(refused)))
        return Outcome(True)


def _address(mail_from: str) -> str:
    """The bare address of a From value (`Name <a@b>` or `a@b`)."""
    if "<" in mail_from and mail_from.endswith(">"):
        return mail_from[mail_from.rindex("<") + 1:-1]
    return mail_from


def _domain(mail_from: str) -> str:
    return _address(mail_from).rpartition("@")[2] or "localhost"
