"""All configuration, read once from the environment (prefix GATEWAY_)."""

from __future__ import annotations

import importlib.util
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.store.engine import parse_fault_rules
from gateway.persisted import ManifestError, load_manifest

ENV_PREFIX = "GATEWAY_"


class SettingsError(Exception):
    """A configuration value is missing or bad; the message names the variable."""


def _origins(value: str) -> tuple[str, ...]:
    return tuple(o for o in (part.strip().rstrip("/") for part in value.split(",")) if o)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    mongodb_uri: str | None = Field(default=None, description="unset: start the embedded database")
    database: str = Field(default="wholesale", min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_-]+$")
    data_dir: Path = Path("./.data")
    jwt_secret: SecretStr | None = None
    # Tokens from an identity provider (RS256/ES256), besides the HS256 ones signed with `jwt_secret`.
    jwks_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$",
                                 description="the provider's JWKS (OIDC `jwks_uri`); unset: HS256 tokens only")
    jwt_issuer: str | None = Field(default=None, min_length=1, description="the `iss` the provider's tokens carry")
    jwt_audience: str | None = Field(default=None, min_length=1,
                                     description="the `aud` the provider's tokens must include")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    env: Literal["dev", "prod"] = "dev"
    # What the gateway shows of itself: on in dev, off in prod unless set (declared after `env`, which they read).
    graphiql: bool = Field(default_factory=lambda data: data.get("env") != "prod",
                           description="the GraphiQL page for a browser opening /graphql (without a token)")
    introspection: bool = Field(default_factory=lambda data: data.get("env") != "prod",
                                description="__schema and __type queries")
    # Plain fields answered by cached execution plans (resolvers.plan); off: graphql-core dispatches every field.
    execution_plans: bool = Field(default=True, description="answer plain fields by cached execution plans (the "
                                                            "same answer; off only to compare)")
    # Browsers on other origins (dashboards): CORS for HTTP and the `Origin` check of websockets.
    cors_origins: str = Field(default="", description="comma-separated origins (scheme://host[:port]) whose pages "
                                                       "may call the API, or *; empty: the gateway's own origin only")
    workers: int = Field(default=4, ge=0, le=64, description="jobs run at once in this process; 0 = API only")
    job_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    job_poll_ms: int = Field(default=250, ge=10, le=60_000)
    # domain.store.sessions: a process silent this long has its open transactions ended (0: off).
    session_stale_seconds: float = Field(default=15.0, ge=0, le=3600)
    engine_latency_ms: int = Field(default=30, ge=0, le=60_000, description="per Webex-side step")
    engine_faults: str = Field(default="", description="fault[:externalIdPrefix],... (see domain.store.engine)")
    # Live events (R-EVT-2/3) and websockets.
    events_retention_days: float = Field(default=7.0, gt=0, le=3650,
                                         description="how far back a subscription may resume (R-EVT-2); events "
                                                     "themselves are kept at least 5 years (R-AUD-2)")
    events_queue_size: int = Field(default=1000, ge=1, le=1_000_000,
                                   description="undelivered events a subscriber may have before it is ended")
    events_resume_seconds: float = Field(default=60.0, gt=0, le=3600,
                                         description="how long subscriptions wait for a database that went away")
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0, le=10, description="for connection_init")
    ws_keepalive_seconds: float = Field(default=15.0, gt=0, le=300, description="server pings on idle sockets")
    ws_max_subscriptions: int = Field(default=25, ge=1, le=1000, description="per connection")
    # Billing (R-BIL-5).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$",
                                   description="base of the CSV download links; unset: the request's own URL")
    # Email (R-NOT-2): the outbox's SMTP server; unset: mail stays queued (in dev, `gateway serve` runs a catch-all).
    smtp_url: SecretStr | None = Field(default=None, description="smtp://[user:pass@]host[:port][?starttls=true] "
                                                                 "or smtps://…")
    mail_from: str = Field(default="Webex partner gateway <no-reply@gateway.invalid>", min_length=3,
                           pattern=r"^[^\r\n]*@[^\r\n]*$", description="the From of every email")
    # The database driver: PyMongo's native async client, or Motor (end of life since May 2026; an optional extra).
    driver: Literal["pymongo", "motor"] = Field(default="pymongo", description="pymongo (PyMongo's async client) or "
                                                "motor (needs the `motor` extra)")
    # Limits on every operation, over HTTP and websockets alike (refused before execution: QUERY_TOO_COMPLEX).
    max_depth: int = Field(default=15, ge=1, le=100,
                           description="selection nesting, fragments included (GraphiQL's introspection needs 15)")
    max_aliases: int = Field(default=30, ge=0, le=10_000, description="aliased fields per operation")
    max_tokens: int = Field(default=2_000, ge=10, le=1_000_000, description="lexical tokens per document")
    max_root_fields: int = Field(default=10, ge=1, le=1000, description="top-level fields per operation")
    max_cost: int = Field(default=25_000, ge=1, le=100_000_000,
                          description="static cost estimate: the database work of an operation (gateway.cost)")
    max_input_list: int = Field(default=100, ge=1, le=10_000, description="items in any list argument")
    # Signed webhooks (R-NOT-7…10).
    webhook_allow_loopback: bool = Field(default=False, description="let webhook endpoints be http://127.0.0.1 "
                                                                   "(tests, dev); refused with GATEWAY_ENV=prod")
    webhook_concurrency: int = Field(default=8, ge=1, le=256, description="endpoints delivered to at once")
    webhook_poll_ms: int = Field(default=1_000, ge=10, le=60_000,
                                 description="how often the webhook sender looks for work besides new events")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024,
                                description="HTTP request bodies and websocket messages")
    # Per-token rate limit (token bucket): `rate_limit_burst` operations at once, refilled at `rate_limit_per_second`.
    # 50/s sustained is several dashboards' worth for one admin; the burst of 200 lets a status board open its
    # subscriptions, or a tool send a batch, at once. 0 turns the limit off (e.g. behind a gateway that limits).
    rate_limit_per_second: float = Field(default=50.0, ge=0, le=100_000, description="0 = no rate limit")
    rate_limit_burst: int = Field(default=200, ge=1, le=1_000_000)
    # Observability.
    log_format: Literal["json", "text"] = Field(default="text", description="json in production")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=600,
                                          description="how long in-flight requests may finish on shutdown")
    # With the database out of reach, an operation waits this long for it before failing with SERVICE_UNAVAILABLE
    # (the driver's server selection timeout), so that clients are told within seconds instead of hanging. A replica
    # set election can take longer (about 12 s with MongoDB's defaults): raise it to ride elections out unseen.
    db_timeout_ms: int = Field(default=5_000, ge=100, le=120_000,
                               description="how long an operation waits for an unreachable database")
    # Production: only the operations of this manifest run (gateway.persisted); unset: any operation, and APQ.
    trusted_documents: Path | None = Field(default=None, description="a persisted-operations manifest (Apollo's, "
                                                                     "or a flat {sha256: document} map)")

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _origins(value):
            if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(f"`{origin}` is not an origin: scheme://host[:port], without a path, or *")
        return value

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """The origins of GATEWAY_CORS_ORIGINS, each as a browser sends it in `Origin` (no trailing slash)."""
        return _origins(self.cors_origins)

    @field_validator("trusted_documents", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("trusted_documents")
    @classmethod
    def _readable_manifest(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_manifest(value)  # read again by the runtime, which also validates it against the schema
            except ManifestError as exc:
                raise ValueError(f"GATEWAY_TRUSTED_DOCUMENTS: {exc}") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        from gateway.mail import SmtpConfig  # the SMTP client is imported only when mail is configured

        if value is not None and value.get_secret_value().strip():
            try:
                SmtpConfig.parse(value.get_secret_value().strip())
            except ValueError as exc:
                raise ValueError(f"GATEWAY_SMTP_URL {exc}") from None
            return value
        return None

    @field_validator("driver")
    @classmethod
    def _driver_installed(cls, value: str) -> str:
        if value == "motor" and importlib.util.find_spec("motor") is None:
            raise ValueError("GATEWAY_DRIVER=motor needs Motor, which is not installed: "
                             "pip install 'wholesale-gateway[motor]' (or use the default, pymongo)")
        return value

    @field_validator("engine_faults")
    @classmethod
    def _known_faults(cls, value: str) -> str:
        parse_fault_rules(value)  # raises ValueError naming the unknown fault
        return value

    @model_validator(mode="after")
    def _production_needs_explicit_values(self) -> Settings:
        if self.env == "prod":
            if self.jwt_secret is None:
                raise ValueError("GATEWAY_JWT_SECRET must be set when GATEWAY_ENV=prod")
            if len(self.jwt_secret.get_secret_value()) < 32:
                raise ValueError("GATEWAY_JWT_SECRET must be at least 32 characters when GATEWAY_ENV=prod")
            if not self.mongodb_uri:
                raise ValueError("GATEWAY_MONGODB_URI must be set when GATEWAY_ENV=prod")
            if self.webhook_allow_loopback:
                raise ValueError("GATEWAY_WEBHOOK_ALLOW_LOOPBACK may not be set when GATEWAY_ENV=prod")
        if self.mongodb_uri is not None and not self.mongodb_uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("GATEWAY_MONGODB_URI must start with mongodb:// or mongodb+srv://")
        return self

    @model_validator(mode="after")
    def _jwks_needs_issuer_and_audience(self) -> Settings:
        if self.jwks_url is not None:
            if not self.jwt_issuer or not self.jwt_audience:
                raise ValueError("GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE must be set with GATEWAY_JWKS_URL")
            if self.env == "prod" and not self.jwks_url.startswith("https://"):
                raise ValueError("GATEWAY_JWKS_URL must be https:// when GATEWAY_ENV=prod")
        return self

    @property
    def embedded(self) -> bool:
        return not self.mongodb_uri

    def signing_secret(self) -> str:
        """The JWT secret; in dev, without one set, a random one kept in the data dir (so tokens survive restarts)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "dev-jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value raises SettingsError naming its environment variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in error["loc"]).upper() if error["loc"] else ""
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name and name not in message else message)
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
