"""Top-level GraphQL errors and the extension that gives every error a stable `code`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext

from domain.model.errors import CursorExpired, Forbidden, InvalidArgument
from domain.model.notifications import LinkRefused
from domain.services import reads
from domain.store.driver import DatabaseUnavailable
from domain.store.event_hub import FeedInterrupted

log = logging.getLogger("gateway.graphql")


class Unauthenticated(Exception):
    """The token was valid but names nothing we know (e.g. a deleted org)."""


def code_of(error: GraphQLError) -> tuple[str, dict[str, object]]:
    original = error.original_error
    if original is None:
        return "GRAPHQL_VALIDATION_FAILED", {}
    if isinstance(original, Forbidden):
        return "FORBIDDEN", {}
    if isinstance(original, Unauthenticated):
        return "UNAUTHENTICATED", {}
    if isinstance(original, LinkRefused):  # R-NOT-6: a revoked, stale or foreign emailed link
        return "UNAUTHENTICATED", {}
    if isinstance(original, CursorExpired):
        return "CURSOR_EXPIRED", {"field": [original.argument]}
    if isinstance(original, FeedInterrupted):  # the subscription ended: the client resumes after `cursor`
        return original.code, {"cursor": reads.event_cursor(original.last_seq)}
    # Over a websocket (HTTP refuses these before executing): nothing to run, or a query over legacy graphql-ws.
    if isinstance(original, MissingQueryError | CannotGetOperationTypeError | InvalidOperationTypeError):
        return "BAD_REQUEST", {}
    if isinstance(original, InvalidArgument):
        return "VALIDATION_FAILED", {"field": [original.argument]}
    if isinstance(original, DatabaseUnavailable):  # the database is out of reach: retry shortly
        return "SERVICE_UNAVAILABLE", {}
    if isinstance(original, GraphQLError):
        return str((original.extensions or {}).get("code", "BAD_USER_INPUT")), {}
    return "INTERNAL", {}


def request_id_of(execution_context: ExecutionContext | None) -> str | None:
    """The id the gateway gave the request (`Context.request_id`), to tie an error to its log line."""
    context = execution_context.context if execution_context is not None else None
    request_id = getattr(context, "request_id", None)
    return request_id if isinstance(request_id, str) else None


class GatewaySchema(strawberry.Schema):
    """A schema that logs errors by what they mean to an operator.

    Strawberry logs every error at ERROR with a traceback, expected ones (FORBIDDEN, CURSOR_EXPIRED,
    validation) included, which buries the real failures. Here only unexpected errors (INTERNAL) are
    logged at ERROR, with their traceback and the request id the client was given; an unreachable
    database is one WARNING line; anything else is at most one DEBUG line.
    """

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        request_id = request_id_of(execution_context)
        for error in errors:
            code, _ = code_of(error)
            where = ".".join(str(p) for p in error.path) if error.path else "the operation"
            if code == "INTERNAL":
                log.error("unexpected error in %s: %s", where, error.message, exc_info=error.original_error,
                          extra={"request_id": request_id})
            elif code == "SERVICE_UNAVAILABLE":
                log.warning("database unavailable in %s: %s", where, error.original_error,
                            extra={"request_id": request_id})
            else:
                log.debug("%s in %s: %s", code, where, error.message, extra={"request_id": request_id})


class ErrorCodes(SchemaExtension):
    """Adds `extensions.code` to every error; masks unexpected ones when `mask` is set (production).

    An unexpected (INTERNAL) error also carries `extensions.requestId`, the id of the log line that has
    its traceback (GatewaySchema.process_errors writes it).
    """

    mask = False

    def on_operation(self) -> Iterator[None]:
        yield
        self._add_codes(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        """Each result of a subscription (and of an operation sent over a websocket), before it is sent."""
        self._add_codes(result)
        yield

    def _add_codes(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if not errors:
            return
        fixed: list[GraphQLError] = []
        for error in errors:
            if "code" in (error.extensions or {}):  # already done (a streamed result is seen twice)
                fixed.append(error)
                continue
            code, extra = code_of(error)
            message = error.message
            if code == "SERVICE_UNAVAILABLE":
                message = ("The database is unavailable; retry shortly. A mutation cut off by the outage was written "
                           "whole or not at all: read it back before sending it again.")
            if code == "INTERNAL":
                request_id = request_id_of(self.execution_context)
                if request_id is not None:
                    extra = {**extra, "requestId": request_id}
                if self.mask:
                    message = "Unexpected error."
            fixed.append(GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                                      path=error.path, original_error=error.original_error,
                                      extensions={**(error.extensions or {}), **extra, "code": code}))
        result.errors = fixed  # type: ignore[attr-defined]


class MaskedErrorCodes(ErrorCodes):
    mask = True
