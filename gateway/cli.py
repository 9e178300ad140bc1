"""The `gateway` command: serve | seed | token | schema | rpl load | orgs load."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import math
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from pydantic import SecretStr

from domain.model.principal import Role
from domain.rules.attach import OrgsFormatError, parse_org_users_csv, parse_orgs_csv, with_org_users
from domain.rules.rpl import RplFormatError, parse_csv
from domain.store.driver import DatabaseUnavailable
from domain.store.repositories import Repositories
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.demo import DEMO_PARTNER_ID, DEMO_RESALE_PARTNER_ID, DEMO_SUB_PARTNER_IDS, seed_demo
from gateway.embedded import EmbeddedDatabaseError
from gateway.graphql_view import GOING_AWAY, GatewayGraphQL
from gateway.observability import configure_logging_from_environment
from gateway.runtime import Runtime
from gateway.settings import Settings, SettingsError, load_settings
from resolvers.schema import sdl

DEMO_TOKEN_TTL = timedelta(hours=12)
# How long a shutdown waits for clients to answer the 1001 close of their websockets (closing handshakes take
# milliseconds; a client that never answers is cut off by uvicorn's own shutdown after this).
SOCKET_CLOSE_WAIT_S = 5.0

log = logging.getLogger("gateway")

if TYPE_CHECKING:
    from gateway.dev_mail import DevMailbox


def parse_ttl(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("use seconds or a number with s, m, h or d (e.g. 30m, 12h, 7d)")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def demo_tokens(secret: str) -> list[tuple[str, str]]:
    def token(subject: str, org: str | None, role: Role) -> str:
        return issue_token(secret, subject=subject, org=org, roles=[role.value], ttl=DEMO_TOKEN_TTL)

    return [
        ("partner admin (Demo Telecom)", token("admin@demo-telecom.example", DEMO_PARTNER_ID, Role.FULL_ADMIN)),
        ("sub-partner admin (Northwind Resellers)",
         token("admin@northwind.example", DEMO_SUB_PARTNER_IDS[0], Role.FULL_ADMIN)),
        ("compliance reviewer", token("reviewer@operator.example", None, Role.COMPLIANCE_REVIEWER)),
        ("platform admin", token("ops@operator.example", None, Role.PLATFORM_ADMIN)),
        ("resale partner admin (Fjord Cloud Resale: trials and orders)",
         token("admin@fjord-cloud.example", DEMO_RESALE_PARTNER_ID, Role.FULL_ADMIN)),
        ("resale sales admin (Fjord Cloud Resale)",
         token("sales@fjord-cloud.example", DEMO_RESALE_PARTNER_ID, Role.SALES_ADMIN)),
    ]


def _browser_base(settings: Settings) -> str:
    """Where a browser on this machine reaches the gateway (a wildcard bind address is not one to browse to)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _banner(runtime: Runtime, seeded: bool) -> str:
    s = runtime.settings
    where = f"embedded database in {s.data_dir.resolve()}" if runtime.embedded else "MongoDB at GATEWAY_MONGODB_URI"
    lines = [
        f"Wholesale gateway ready on {where}" + (" (demo data seeded)" if seeded else ""),
        f"  {'GraphiQL:' if s.graphiql else 'GraphQL: '}  http://{s.host}:{s.port}/graphql",
    ]
    tokens = demo_tokens(runtime.jwt_secret)
    if s.graphiql:  # the fragment never reaches the server (nor its access log); the page moves it into a header
        lines += [f"  GraphiQL as the partner admin (token preset): {_browser_base(s)}/graphql#token={tokens[0][1]}"]
    lines += [f"  Live dashboard as the partner admin: {_browser_base(s)}/dashboard#token={tokens[0][1]}"]
    lines += ["  Send `Authorization: Bearer <token>` (in GraphiQL: the Headers tab). Tokens valid 12 hours:"]
    for label, token in tokens:
        lines += [f"  - {label}:", f"    {token}"]
    lines += [f'  Try: curl -s http://{s.host}:{s.port}/graphql -H "Authorization: Bearer <token>" '
              "-H 'content-type: application/json' -d '{\"query\":\"{ viewer { orgId orgKind } }\"}'"]
    today = runtime.clock.now().date()
    lines += ["  Billing (the demo holds 90+ days of usage): mutation { createBillingReport(input: "
              f'{{billingStartDate: "{today - timedelta(days=90)}", billingEndDate: "{today - timedelta(days=1)}", '
              "type: CUSTOMER}) { report { id status } errors { code message } } }"]
    return "\n".join(lines)


def serve(settings: Settings, demo: bool) -> int:
    return asyncio.run(_serve(settings, demo))


async def _started(settings: Settings) -> Runtime | None:
    """A started runtime, or None after a one-line error when the database cannot be reached."""
    runtime = Runtime(settings)
    try:
        await runtime.start()
    except DatabaseUnavailable as exc:
        print(f"gateway: cannot reach the database: {exc}", file=sys.stderr)
        return None
    return runtime


class GracefulServer(uvicorn.Server):
    """Uvicorn, shutting down in the order our clients rely on (SIGTERM or SIGINT):

    1. stop accepting connections (the listening sockets close);
    2. end every websocket with 1001 "going away", so that subscribers reconnect to another process and
       resume from their cursor (uvicorn's own shutdown would end them with 1012), and wait briefly for
       their closing handshakes;
    3. uvicorn's shutdown: in-flight HTTP requests finish, for up to `timeout_graceful_shutdown` seconds;
    4. the lifespan's shutdown stops the runtime: the job worker stops and hands its leases back.

    The signals are handled on the event loop and not raised again once the shutdown is done, so a
    graceful stop exits with status 0 (uvicorn re-raises them, which ends the process "killed by SIGTERM").
    """

    def __init__(self, config: uvicorn.Config, graphql: GatewayGraphQL) -> None:
        super().__init__(config)
        self.graphql = graphql

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        handled = (signal.SIGINT, signal.SIGTERM)
        for sig in handled:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        closed = await self.graphql.close_sockets(GOING_AWAY)
        if closed:
            log.info("closed %d websockets with %d (going away)", closed, GOING_AWAY)
            wait = min(SOCKET_CLOSE_WAIT_S, self.config.timeout_graceful_shutdown or 0.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    while self.graphql.sockets:  # noqa: ASYNC110 - the handlers leave the set as they end
                        await asyncio.sleep(0.05)
        await super().shutdown(sockets)


async def _serve(settings: Settings, demo: bool) -> int:
    # Dev mail (R-NOT-2): without GATEWAY_SMTP_URL, a catch-all SMTP server on loopback keeps every email as a file.
    mailbox: DevMailbox | None = None
    if settings.env == "dev" and settings.smtp_url is None:
        # aiosmtpd comes with the embedded extra (dev): a production install, without it, never imports it.
        from gateway.dev_mail import DevMailbox
        mailbox = DevMailbox(settings.data_dir, avoid=frozenset({settings.port}))
    if mailbox is not None:
        settings = settings.model_copy(update={"smtp_url": SecretStr(mailbox.start())})
    # Opened before uvicorn so that a busy data dir or an unreachable database is a one-line error,
    # not a lifespan traceback; the app's lifespan still closes it on shutdown.
    runtime = await _started(settings)
    if runtime is None:
        if mailbox is not None:
            mailbox.stop()
        return 2

    async def on_startup(rt: Runtime) -> None:
        # The banner is a log record (JSON lines stay JSON lines). Production never seeds demo data nor prints
        # tokens, whatever the database holds: both would be signed with the production secret.
        dev = settings.env == "dev"
        seeded = False
        if dev and demo and await rt.repos.partners.count({}) == 0:
            seeded = (await seed_demo(rt.repos)).created
        if dev and await rt.repos.partners.get(DEMO_PARTNER_ID) is not None:
            log.info(_banner(rt, seeded))
        else:
            log.info("Wholesale gateway ready: http://%s:%s/graphql\n  %sIssue a token with: gateway token "
                     "--role platform_admin, or --org <org id> --role full_admin", settings.host, settings.port,
                     "No demo data. " if dev else "")
        if mailbox is not None:
            log.info("Mail: every email the gateway sends is kept in %s (one .eml file each; a local catch-all "
                     "SMTP server stands in for GATEWAY_SMTP_URL)", mailbox.folder)
        # What start-up built (schema, modules, demo data) lives as long as the process: keep it out of the
        # garbage collector's full passes, which otherwise grow with it (and pause every open socket).
        gc.collect()
        gc.freeze()

    app = create_app(runtime, on_startup=on_startup)
    # Uvicorn takes whole seconds: a fractional grace is rounded up, never cut short.
    # Logging is configured already (uvicorn's loggers included: JSON lines, request ids), so no log config here.
    # Websocket messages are held to the same size as request bodies (larger ones close the socket with 1009).
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, lifespan="on",
                            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
                            ws_max_size=settings.max_body_bytes,
                            # No permessage-deflate: a compressor and a decompressor for every socket that asks (every
                            # browser) cost far more memory than the small JSON frames they would shrink, and
                            # each fanned-out frame would be compressed again for every socket.
                            ws_per_message_deflate=False)
    server = GracefulServer(config, app.state.graphql)
    try:
        await server.serve()
    finally:
        await runtime.stop()
        if mailbox is not None:
            mailbox.stop()
    return 0 if server.started else 1


async def _seed(settings: Settings) -> int:
    if settings.env == "prod":  # refused before anything is opened: nothing is written
        print("gateway: seed writes demo data and is refused with GATEWAY_ENV=prod", file=sys.stderr)
        return 2
    runtime = await _started(settings)
    if runtime is None:
        return 2
    try:
        result = await seed_demo(runtime.repos)
    finally:
        await runtime.stop()
    print("demo data seeded" if result.created else "demo data already present; nothing written")
    print(f"partner {result.partner_id}; sub-partners {', '.join(result.sub_partner_ids)}")
    return 0


async def _stored(settings: Settings, load: Callable[[Repositories], Awaitable[int]],
                  count: Callable[[Repositories], Awaitable[int]]) -> tuple[int, int] | None:
    """Load a file's entries into the database (`rpl load`, `orgs load`): how many were loaded and how many there
    are now; None (after saying why) when the database could not be reached."""
    runtime = await _started(settings)
    if runtime is None:
        return None
    try:
        return await load(runtime.repos), await count(runtime.repos)
    finally:
        await runtime.stop()


async def _rpl_load(settings: Settings, path: Path) -> int:
    try:
        entries = parse_csv(await asyncio.to_thread(path.read_text, encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"gateway: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    except RplFormatError as exc:
        print(f"gateway: {path}: {exc}", file=sys.stderr)
        return 2
    counts = await _stored(settings, lambda repos: repos.rpl.load(entries), lambda repos: repos.rpl.count({}))
    if counts is None:
        return 2
    print(f"loaded {counts[0]} restricted-party entries from {path} ({counts[1]} in the list now)")
    return 0


async def _orgs_load(settings: Settings, path: Path, users_path: Path | None = None) -> int:
    """R-ATT-1: load the directory of existing Webex orgs (idempotent by org id); with `--users`, the users of
    those orgs (R-ATT-3: each org the users file names gets exactly those users)."""
    reading = path
    try:
        orgs = parse_orgs_csv(await asyncio.to_thread(path.read_text, encoding="utf-8-sig"))
        if users_path is not None:
            reading = users_path
            users = parse_org_users_csv(await asyncio.to_thread(users_path.read_text, encoding="utf-8-sig"),
                                        {o.id for o in orgs})
            orgs = with_org_users(orgs, users)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"gateway: cannot read {reading}: {exc}", file=sys.stderr)
        return 2
    except OrgsFormatError as exc:
        print(f"gateway: {reading}: {exc}", file=sys.stderr)
        return 2
    counts = await _stored(settings, lambda repos: repos.org_directory.load(orgs),
                           lambda repos: repos.org_directory.count({}))
    if counts is None:
        return 2
    print(f"loaded {counts[0]} orgs from {path} ({counts[1]} in the directory now)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description="Wholesale provisioning GraphQL gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    p_serve = commands.add_parser("serve", help="run the gateway (embedded database unless GATEWAY_MONGODB_URI)")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--no-demo", action="store_true",
                         help="do not seed demo data into an empty database (prod never seeds)")
    commands.add_parser("seed", help="write the demo data (idempotent; refused with GATEWAY_ENV=prod)")
    p_token = commands.add_parser("token", help="print a signed bearer token")
    p_token.add_argument("--org", help="the caller's org id (omit for platform roles)")
    p_token.add_argument("--role", required=True, action="append", choices=[r.value for r in Role],
                         help="repeat for several roles")
    p_token.add_argument("--sub", default="cli@gateway.local", help="the `sub` claim")
    p_token.add_argument("--ttl", type=parse_ttl, default=timedelta(hours=12), help="lifetime, e.g. 30m, 12h, 7d")
    commands.add_parser("schema", help="print the GraphQL SDL")
    p_rpl = commands.add_parser("rpl", help="the restricted-party list (R-RPL-4)")
    rpl_commands = p_rpl.add_subparsers(dest="rpl_command", required=True)
    p_load = rpl_commands.add_parser(
        "load", help="load a CSV with a header row: source, name, optional alt_names (;-separated) and country")
    p_load.add_argument("file", type=Path)
    p_orgs = commands.add_parser("orgs", help="the directory of existing Webex orgs (R-ATT-1)")
    orgs_commands = p_orgs.add_subparsers(dest="orgs_command", required=True)
    p_orgs_load = orgs_commands.add_parser(
        "load", help="load a CSV with a header row: id, name, optional users, verified_domains, claimed_domains "
                     "(;-separated), active_licence, trial, broadworks, flex, wholesale (true/false), auth_mode")
    p_orgs_load.add_argument("file", type=Path)
    p_orgs_load.add_argument("--users", type=Path, help="also a CSV of those orgs' users (R-ATT-3): org_id, email, "
                             "optional calling (true/false), number (E.164), extension")
    args = parser.parse_args(argv)

    configure_logging_from_environment()
    if args.command == "schema":
        sys.stdout.write(sdl())
        return 0
    try:
        overrides = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None)))
                     if v is not None}
        settings = load_settings(**overrides)
        if args.command == "token":
            if args.org is None and {Role.FULL_ADMIN.value, Role.READ_ONLY_ADMIN.value} & set(args.role):
                parser.error("partner roles need --org")
            print(issue_token(settings.signing_secret(), subject=args.sub, org=args.org, roles=args.role,
                              ttl=args.ttl))
            return 0
        if args.command == "seed":
            return asyncio.run(_seed(settings))
        if args.command == "rpl":
            return asyncio.run(_rpl_load(settings, args.file))
        if args.command == "orgs":
            return asyncio.run(_orgs_load(settings, args.file, args.users))
        return serve(settings, demo=not args.no_demo)
    except (SettingsError, EmbeddedDatabaseError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
