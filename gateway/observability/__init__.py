"""Observability: request ids, structured logs, Prometheus metrics and optional OpenTelemetry tracing."""

from gateway.observability.logs import configure_logging, configure_logging_from_environment, log_handler
from gateway.observability.metrics import CONTENT_TYPE, GatewayMetrics, Readings
from gateway.observability.requests import HEADER, current_request_id
from gateway.observability.telemetry import Telemetry

__all__ = [
    "CONTENT_TYPE",
    "HEADER",
    "GatewayMetrics",
    "Readings",
    "Telemetry",
    "configure_logging",
    "configure_logging_from_environment",
    "current_request_id",
    "log_handler",
]
