"""Helpers for speaking a subscription protocol frame by frame with a raw `websockets` client (not a test module).

`ServerErrors` collects what the server in this process logs at ERROR or above: uvicorn's loggers do not
propagate to the root logger (uvicorn's own logging config), so a handler on the root alone would miss
"Exception in ASGI application".
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.api.live import connections_handled, served

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion
ABNORMAL = 1006  # what a client sees when the server went away without a close frame
# uvicorn's loggers stop propagating at "uvicorn"; everything else reaches the root.
SERVER_LOGGERS = ("", "uvicorn")


class ServerErrors(logging.Handler):
    """Every record at ERROR or above logged in this process while attached."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def attach(self) -> None:
        """Attach to the server's loggers; do it after uvicorn started, whose logging config replaces handlers."""
        for name in SERVER_LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in SERVER_LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def report(self, records: list[logging.LogRecord] | None = None) -> str:
        """The records (all of them by default), with their tracebacks, for an assertion message."""
        lines = []
        for record in self.records if records is None else records:
            lines.append(f"{record.name} {record.levelname}: {record.getMessage()}")
            if record.exc_info and record.exc_info[1] is not None:
                lines.extend(traceback.format_exception(record.exc_info[1]))
        return "\n".join(lines)


@asynccontextmanager
async def serving_checked(app: ASGIApp, **config: object) -> AsyncIterator[tuple[str, ServerErrors]]:
    """`serving`, collecting what the server logs at ERROR until it has stopped (its sockets' handlers included)."""
    async with served_checked(app, **config) as server:
        yield server.url, server.errors


@dataclass
class CheckedServer:
    """A server whose ERROR records are collected, for tests that share it: `quiet()` before looking at them."""

    app: ASGIApp
    url: str
    errors: ServerErrors
    server: uvicorn.Server

    async def quiet(self) -> None:
        """Wait until every connection so far was handled to its end (what a server's stop would wait for)."""
        await connections_handled(self.server)


@asynccontextmanager
async def served_checked(app: ASGIApp, **config: object) -> AsyncIterator[CheckedServer]:
    """`served`, collecting what the server logs at ERROR until it has stopped (its sockets' handlers included)."""
    errors = ServerErrors()
    try:
        async with served(app, **config) as (url, server):
            errors.attach()
            yield CheckedServer(app, url, errors, server)
    finally:
        errors.detach()


# PyMongo async (4.20) leaks the socket of a pooled connection it was opening when the operation is cancelled (the
# family of PYTHON-5867, see tests/conftest.py), and a websocket's operations are cancelled whenever it closes; the
# socket is freed later, by PyMongo's own tasks, so the warning is ignored for the whole of a test that does this.
PYMONGO_SOCKET_LEAKS = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
    return message


async def close_code(ws: ClientConnection) -> int:
    """Read until the socket closes; its close code (1006 when the server sent no close frame)."""
    try:
        async with asyncio.timeout(DEADLINE_S):  # the server's keep-alive pings would make a socket look busy
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else ABNORMAL


async def initialised(ws: ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert (await receive(ws))["type"] == "connection_ack"
