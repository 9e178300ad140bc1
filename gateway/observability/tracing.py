"""OpenTelemetry tracing, when the optional dependency is installed (`pip install -e '.[otel]'`).

Spans: one per HTTP request or websocket (opentelemetry-instrumentation-asgi, carrying the request id as
`gateway.request_id`), and under it one per GraphQL operation, `GraphQL Query: <operation name>`, with
parsing, validation and resolver children (Strawberry's extension).

The tracer provider is the operator's choice: run the gateway under `opentelemetry-instrument` (from
opentelemetry-distro), or set one up before start-up; the OTEL_* variables say where spans go. Nothing is
added while no provider is set up: a no-op tracer would still cost a wrapper around every resolved field.
Probes and scrapes are not traced unless OTEL_PYTHON_ASGI_EXCLUDED_URLS / OTEL_PYTHON_EXCLUDED_URLS say otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.middleware import Middleware
from strawberry.extensions import SchemaExtension

from gateway.observability.requests import SCOPE_KEY

try:
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.util.http import get_excluded_urls, parse_excluded_urls
    from strawberry.extensions.tracing import OpenTelemetryExtension

    AVAILABLE = True
except ImportError:  # the optional dependency is absent: the gateway runs without tracing
    AVAILABLE = False

DEFAULT_EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"


def enabled(tracer_provider: Any = None) -> bool:
    """Tracing is on when the package is there and a provider is given, or set up globally by the operator."""
    if not AVAILABLE:
        return False
    if tracer_provider is not None:
        return True
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def schema_extensions(tracer_provider: Any = None) -> list[Callable[[], SchemaExtension]]:
    if not enabled(tracer_provider):
        return []
    return [partial(OpenTelemetryExtension, tracer_provider=tracer_provider)]


def _tag_request_id(span: Any, scope: dict[str, Any]) -> None:
    request_id = scope.get("state", {}).get(SCOPE_KEY)
    if request_id is not None and span.is_recording():
        span.set_attribute("gateway.request_id", request_id)


def middleware(tracer_provider: Any = None) -> list[Middleware]:
    """The ASGI middleware opening each request's span (to run inside the request id middleware)."""
    if not enabled(tracer_provider):
        return []
    variables = ("OTEL_PYTHON_ASGI_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS")
    excluded = (get_excluded_urls("ASGI") if any(v in os.environ for v in variables)
                else parse_excluded_urls(DEFAULT_EXCLUDED_URLS))
    # No spans per ASGI message: a websocket would make one for every frame.
    return [Middleware(OpenTelemetryMiddleware, tracer_provider=tracer_provider, excluded_urls=excluded,
                       exclude_spans=["receive", "send"], server_request_hook=_tag_request_id)]
