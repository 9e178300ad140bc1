"""The network checks of webhook URLs (R-NOT-7): the host name is resolved asynchronously, and a URL whose host
resolves to a loopback, private or link-local address is refused, at registration and before each attempt."""

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
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError):
            return "the URL's host name does not resolve"
        return resolved_problem([str(info[4][0]) for info in infos], allow_loopback=self.allow_loopback)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
