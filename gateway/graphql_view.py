"""The GraphQL endpoint: Strawberry's ASGI view with our typed per-request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from domain.principal import Principal
from gateway.auth import InvalidToken, bearer_token, verify_token
from gateway.middleware import PRINCIPAL_KEY
from gateway.runtime import Runtime
from resolvers.context import Context


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(runtime.schema, **kwargs)
        self.runtime = runtime

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        # None only for the GraphiQL page, which the middleware lets through and which executes nothing.
        principal = request.scope.get("state", {}).get(PRINCIPAL_KEY)
        return Context(repos=self.runtime.repos, principal=principal, request=request, response=response,
                       hub=self.runtime.hub)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: the token comes in `connection_init` ({"authorization": "Bearer <jwt>"})."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        try:
            token = bearer_token(header if isinstance(header, str) else None)
            principal: Principal = verify_token(self.runtime.jwt_secret, token)
        except InvalidToken:
            raise ConnectionRejectionError() from None
        context.principal = principal
        return await super().on_ws_connect(context)
