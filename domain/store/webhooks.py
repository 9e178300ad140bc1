"""The network checks of webhook URLs (R-NOT-7): the host name is resolved asynchronously, and a URL whose host
resolves to a loopback, private or link-local address is refused: at registration (`problem`), and at each attempt
when the sender connects (gateway.webhooks.GuardedBackend connects only to the addresses `addresses` checked)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.rules.webhooks import resolved_problem, url_problem

RESOLVE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class AddressGuard:
    """`allow_loopback` (GATEWAY_WEBHOOK_ALLOW_LOOPBACK, never in prod) lets tests and dev use http://127.0.0.1."""

    allow_loopback: bool = False

    async def problem(self, url: str) -> str | None:
        """Why `url` may not be called now (None: it may)."""
        if (problem := url_problem(url, allow_loopback=self.allow_loopback)) is not None:
            return problem
        parts = urlsplit(url)
        host = parts.hostname or ""
        if _is_address(host):  # a literal address: url_problem judged it already
            return None
        try:
            await self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except Refused as refused:
            return str(refused)
        return None

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to now, every one of them allowed; else `Refused`, saying why. What a
        connection is made to: the address checked is the address connected to, so a name that resolves to a
        public address when checked and to a private one when connected (DNS rebinding) gets no connection."""
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError):
            raise Refused("the URL's host name does not resolve") from None
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if (problem := resolved_problem(found, allow_loopback=self.allow_loopback)) is not None:
            raise Refused(problem)
        return found


class Refused(Exception):
    """A webhook's host may not be connected to (the message says why)."""


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
