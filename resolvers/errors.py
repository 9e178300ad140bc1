"""Top-level GraphQL errors and the extension that gives every error a stable `code`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import Forbidden, InvalidArgument

log = logging.getLogger("gateway.graphql")


class Unauthenticated(Exception):
    """The token was valid but names nothing we know (e.g. a deleted org)."""


def _code_of(error: GraphQLError) -> tuple[str, dict[str, object]]:
    original = error.original_error
    if original is None:
        return "GRAPHQL_VALIDATION_FAILED", {}
    if isinstance(original, Forbidden):
        return "FORBIDDEN", {}
    if isinstance(original, Unauthenticated):
        return "UNAUTHENTICATED", {}
    if isinstance(original, InvalidArgument):
        return "VALIDATION_FAILED", {"field": [original.argument]}
    if isinstance(original, GraphQLError):
        return str((original.extensions or {}).get("code", "BAD_USER_INPUT")), {}
    return "INTERNAL", {}


class ErrorCodes(SchemaExtension):
    """Adds `extensions.code` to every error; masks unexpected ones when `mask` is set (production)."""

    mask = False

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        fixed: list[GraphQLError] = []
        for error in errors:
            code, extra = _code_of(error)
            message = error.message
            if code == "INTERNAL":
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
                if self.mask:
                    message = "Unexpected error."
            fixed.append(GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                                      path=error.path, original_error=error.original_error,
                                      extensions={**(error.extensions or {}), **extra, "code": code}))
        result.errors = fixed  # type: ignore[union-attr]


class MaskedErrorCodes(ErrorCodes):
    mask = True
