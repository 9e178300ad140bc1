"""Dev mail (`make run` without GATEWAY_SMTP_URL): a catch-all SMTP server on loopback that keeps every email it
receives as an `.eml` file under DATA_DIR/mail, so a developer reads what the gateway sent (links included).

The sender still speaks real SMTP to it: dev exercises the same path as production. aiosmtpd's controller runs
the server in a thread of its own.
"""

from __future__ import annotations

import logging
import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        match = re.search(rb"^Message-ID:\s*<([^@>]+)", content, re.IGNORECASE | re.MULTILINE)
        name = match.group(1).decode("ascii", "replace") if match else "message"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        (self.folder / f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.eml").write_bytes(content)
        return "250 kept"


class DevMailbox:
    """The catch-all server: `start()` returns the SMTP URL to give the sender."""

    def __init__(self, data_dir: Path, avoid: frozenset[int] = frozenset()) -> None:
        self.folder = (data_dir / "mail").resolve()
        self.avoid = avoid  # the gateway's own HTTP port: free a moment ago, and the kernel may offer it again
        self._controller: Controller | None = None

    def start(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO
        port = _free_port(self.avoid)
        self._controller = Controller(_Keep(self.folder), hostname=HOST, port=port)
        self._controller.start()
        return f"smtp://{HOST}:{port}?starttls=false"

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port(avoid: frozenset[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind((HOST, 0))
            port: int = s.getsockname()[1]
        if port not in avoid:
            return port
