"""What a running gateway holds open: the database (embedded or not), repositories and schema."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import strawberry
from pymongo.monitoring import CommandListener
from strawberry.extensions import DisableIntrospection

from domain.model.clock import Clock, SystemClock
from domain.rules.pagination import configure_cursors
from domain.store.driver import Database
from domain.store.engine import Engine, parse_fault_rules
from domain.store.event_hub import EventHub
from domain.store.indexes import ensure_indexes
from domain.store.jobs import JobQueue, Worker
from domain.store.repositories import Repositories
from domain.store.sessions import SessionReaper
from domain.store.webhooks import AddressGuard
from domain.workflows import Workflows
from domain.workflows.maintenance import EventRetention
from gateway.authentication import Authenticator, KnownOrgs
from gateway.embedded import EmbeddedDatabase
from gateway.jwks import JwksKeys
from gateway.limits import Limits, operation_limits
from gateway.mail import MailSender, SmtpConfig
from gateway.observability import Telemetry
from gateway.persisted import ManifestError, PersistedOperations, validation_problems
from gateway.settings import Settings, SettingsError
from gateway.webhooks import WebhookSender
from resolvers.schema import build_schema

log = logging.getLogger("gateway")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    listeners: Sequence[CommandListener] = ()
    # Metrics (a registry of this runtime's own) and tracing; tests pass one with their own tracer provider.
    telemetry: Telemetry = field(default_factory=Telemetry)
    schema: strawberry.Schema = field(init=False)
    limits: Limits = field(init=False)
    persisted: PersistedOperations = field(init=False)  # the APQ store, or the trusted documents
    jwt_secret: str = field(init=False, repr=False)
    authenticator: Authenticator = field(init=False, repr=False)
    embedded: EmbeddedDatabase | None = field(default=None, init=False)
    db: Database | None = field(default=None, init=False)
    _repos: Repositories | None = field(default=None, init=False)
    engine: Engine = field(init=False)
    worker: Worker | None = field(default=None, init=False)
    hub: EventHub | None = field(default=None, init=False)
    retention: EventRetention | None = field(default=None, init=False)
    webhooks: WebhookSender | None = field(default=None, init=False)  # R-NOT-9: the webhook sender
    mail: MailSender | None = field(default=None, init=False)  # R-NOT-2: the email sender
    reaper: SessionReaper | None = field(default=None, init=False)  # ends dead processes' open transactions

    def __post_init__(self) -> None:
        self.limits = Limits.of(self.settings)
        # Introspection off (prod's default): __schema and __type fail validation (GRAPHQL_VALIDATION_FAILED).
        hidden = [] if self.settings.introspection else [DisableIntrospection]
        self.persisted = _persisted_operations(self.settings)
        self.schema = build_schema(mask_errors=self.settings.env == "prod",
                                   extensions=[*self.telemetry.schema_extensions(), *hidden,
                                               *self.persisted.schema_extensions(), operation_limits(self.limits)],
                                   plans=self.settings.execution_plans)
        if self.persisted.trusted is not None:  # each listed document validated once, here: a bad one stops the start
            problem = next(validation_problems(self.schema._schema, self.persisted.trusted,
                                               introspection=self.settings.introspection), None)
            if problem is not None:
                raise SettingsError(f"invalid configuration: GATEWAY_TRUSTED_DOCUMENTS: {problem}")
        self.listeners = [*self.listeners, *self.telemetry.db_listeners()]
        self.jwt_secret = self.settings.signing_secret()
        s = self.settings
        self.authenticator = Authenticator(self.jwt_secret, orgs=KnownOrgs(self._org_exists, self.clock),
                                           jwks=JwksKeys(s.jwks_url, self.clock) if s.jwks_url else None,
                                           issuer=s.jwt_issuer, audience=s.jwt_audience, clock=self.clock)
        self.engine = Engine(self.settings.engine_latency_ms / 1000, parse_fault_rules(self.settings.engine_faults))

    @property
    def repos(self) -> Repositories:
        if self._repos is None:
            raise RuntimeError("the gateway is not started")
        return self._repos

    async def _org_exists(self, org_id: str) -> bool:
        return await self.repos.partners.get(org_id) is not None

    async def start(self) -> None:
        """Open the database (starting the embedded one if no URI is set); a no-op when already started."""
        if self._repos is not None:
            return
        uri = self.settings.mongodb_uri
        if not uri:
            self.embedded = EmbeddedDatabase(self.settings.data_dir)
            uri = await self.embedded.start()
        try:
            self.db = Database(uri, self.settings.database, driver=self.settings.driver, listeners=self.listeners,
                               server_selection_timeout_ms=self.settings.db_timeout_ms)
            await self.db.ping()
            await ensure_indexes(self.db)
        except BaseException:
            await self.stop()
            raise
        # Cursors are sealed under the signing secret: they survive restarts and work in every process sharing it.
        configure_cursors(self.jwt_secret)
        repos = Repositories.over(self.db, self.clock)
        s = self.settings
        queue = JobQueue(self.db, self.clock, owner=f"{repos.process}:{uuid.uuid4().hex[:8]}",
                         lease=timedelta(seconds=s.job_lease_seconds))
        workflows = Workflows(repos, queue, self.engine)  # events are kept ≥ 5 years (R-AUD-2)
        self.retention = workflows.retention
        self.worker = Worker(queue, workflows.handlers(), give_ups=workflows.give_ups(),
                             concurrency=max(s.workers, 1), poll_interval=s.job_poll_ms / 1000)
        repos.after_commit = self.worker.wake
        if s.session_stale_seconds > 0:
            self.reaper = SessionReaper(self.db, queue.owner, beat=s.session_stale_seconds / 5,
                                        stale=s.session_stale_seconds)
        # The change stream opens with the first subscriber (one per process, shared by all of them).
        self.hub = EventHub(repos.events, queue_size=s.events_queue_size, resume_window=s.events_resume_seconds,
                            cursor_lifetime=timedelta(days=s.events_retention_days),
                            observer=self.telemetry.fanout_observer(), on_event=repos.forget_changed)
        repos.webhook_guard = AddressGuard(allow_loopback=s.webhook_allow_loopback)
        self.webhooks = WebhookSender(repos, self.hub, concurrency=s.webhook_concurrency,
                                      poll_interval=s.webhook_poll_ms / 1000)
        smtp = s.smtp_url.get_secret_value() if s.smtp_url is not None else None
        self.mail = MailSender(repos, SmtpConfig.parse(smtp) if smtp else None, secret=self.jwt_secret,
                               mail_from=s.mail_from, link_base=s.public_url or f"http://{s.host}:{s.port}")
        self._repos = repos

    async def start_workers(self) -> None:
        """Start running jobs in this process (after start-up work such as seeding); not with GATEWAY_WORKERS=0.

        Also makes sure the recurring retention purge of old events is scheduled (once for all processes), and
        starts the session reaper in every process, API-only ones included (they run transactions too).
        """
        if self.reaper is not None:
            self.reaper.start()
        if self.worker is not None and self.settings.workers > 0:
            assert self.retention is not None
            await self.retention.schedule()
            self.worker.start()
            if self.mail is not None:
                self.mail.start()
            if self.webhooks is not None:
                self.webhooks.start()
            log.info("job worker started (%d jobs at a time)", self.settings.workers)

    async def stop(self) -> None:
        if self.reaper is not None:
            await self.reaper.stop()
            self.reaper = None
        if self.mail is not None:
            await self.mail.stop()
            self.mail = None
        if self.webhooks is not None:
            await self.webhooks.stop()
            self.webhooks = None
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        if self.hub is not None:
            await self.hub.stop()
            self.hub = None
        self.retention = None
        await self.authenticator.close()
        if self.db is not None:
            await self.db.close()
            self.db = None
        self._repos = None
        if self.embedded is not None:
            await self.embedded.stop()
            self.embedded = None


def _persisted_operations(settings: Settings) -> PersistedOperations:
    try:
        return PersistedOperations.from_manifest(settings.trusted_documents)
    except ManifestError as exc:  # changed since the settings were read
        raise SettingsError(f"invalid configuration: GATEWAY_TRUSTED_DOCUMENTS: {exc}") from None
