"""Everything one gateway app observes about itself, held by its Runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pymongo.monitoring import CommandListener
from starlette.middleware import Middleware
from strawberry.extensions import SchemaExtension

from gateway.observability import tracing
from gateway.observability.instruments import DatabaseMetrics, HttpMetricsMiddleware, OperationMetrics
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.requests import RequestIdMiddleware


@dataclass
class Telemetry:
    """Metrics in a registry of this app's own, and tracing through `tracer_provider` (None: the global one)."""

    tracer_provider: Any = None
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        return [partial(OperationMetrics, self.metrics), *tracing.schema_extensions(self.tracer_provider)]

    def db_listeners(self) -> list[CommandListener]:
        """For the database client: failed commands and heartbeats (one listener serves both kinds)."""
        return [DatabaseMetrics(self.metrics)]

    def fanout_observer(self) -> Callable[[float], None]:
        return self.metrics.fanout_seconds.observe

    def middleware(self) -> list[Middleware]:
        """Outermost first: the request id (so every log line has it), the trace span, then the HTTP metrics."""
        return [Middleware(RequestIdMiddleware), *tracing.middleware(self.tracer_provider),
                Middleware(HttpMetricsMiddleware, metrics=self.metrics)]
