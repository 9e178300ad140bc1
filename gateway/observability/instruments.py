"""What feeds the metrics: a schema extension per operation, an HTTP middleware, a database listener."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
    ServerHeartbeatFailedEvent,
    ServerHeartbeatListener,
    ServerHeartbeatStartedEvent,
    ServerHeartbeatSucceededEvent,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from gateway.observability.metrics import GatewayMetrics, outcome_of

MAX_COLLECTION_LABEL = 64  # longer targets are not collection names of ours: they count without one
UNMATCHED = "unmatched"  # no route: one label for every path a scanner may try


def _operation_type(context: ExecutionContext) -> str:
    try:
        return context.operation_type.value
    except RuntimeError:  # the document did not parse, or names no such operation
        return "unknown"


class OperationMetrics(SchemaExtension):
    """Counts each GraphQL operation by name, type and outcome, and times queries and mutations.

    A subscription is counted when it ends; its lifetime is no latency, so it is not timed.
    """

    def __init__(self, metrics: GatewayMetrics) -> None:
        super().__init__()
        self.metrics = metrics
        self.executed = False

    def on_execute(self) -> Iterator[None]:
        # Only operations that passed validation may claim a label of their own for a new name.
        self.executed = True
        yield

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = outcome_of(getattr(self.execution_context.result, "errors", None))
        except BaseException as exc:
            if not isinstance(exc, Exception):  # GeneratorExit, CancelledError: the client left or completed it
                outcome = "cancelled"
            raise
        finally:
            context = self.execution_context
            kind = _operation_type(context)
            name = self.metrics.operation_label(context.operation_name, admit=self.executed)
            seconds = None if kind == "subscription" else time.perf_counter() - started
            self.metrics.operation_done(name, kind, outcome, seconds)


class HttpMetricsMiddleware:
    """Pure ASGI: counts and times HTTP requests by route template; websockets are counted by a gauge instead."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")  # set by the router on this same scope
            path = getattr(route, "path", None) or UNMATCHED
            self.metrics.http_done(scope["method"], path, status, time.perf_counter() - started)


class DatabaseMetrics(CommandListener, ServerHeartbeatListener):
    """Counts database commands (by name and collection), failed ones and failed server heartbeats.

    PyMongo's monitoring calls it on any thread. The collection label is bounded: the driver's command names
    are a fixed set and the gateway's collections are the store's own (a getMore names its collection
    under "collection"; session commands such as commitTransaction have none).
    """

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        self._sent: dict[tuple[str, str], Any] = {}  # the labelled child per (command, collection)

    def started(self, event: CommandStartedEvent | ServerHeartbeatStartedEvent) -> None:
        if not isinstance(event, CommandStartedEvent):
            return
        name = event.command_name
        target = event.command.get("collection" if name == "getMore" else name)
        key = (name, target if isinstance(target, str) and len(target) <= MAX_COLLECTION_LABEL else "")
        child = self._sent.get(key)
        if child is None:
            child = self._sent[key] = self.metrics.db_commands.labels(*key)
        child.inc()

    def succeeded(self, event: CommandSucceededEvent | ServerHeartbeatSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent | ServerHeartbeatFailedEvent) -> None:
        if isinstance(event, CommandFailedEvent):
            self.metrics.db_command_errors.labels(event.command_name).inc()
        else:
            self.metrics.db_heartbeat_failures.inc()
