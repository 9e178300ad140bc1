"""Authentication as pure ASGI middleware: a verified principal, or 401 before any work is done."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import InvalidToken
from gateway.authentication import Authenticator

PRINCIPAL_KEY = "principal"


JSON_TYPES = ("application/json", "application/graphql-response+json")


def wants_ide(scope: Scope) -> bool:
    """A browser opening /graphql gets the GraphiQL page; it sends the token with its own requests.

    That is a GET whose Accept header asks for HTML and names neither JSON type. Without a query string, always;
    with one (GraphiQL keeps `?query=…` in the address, so a reload or a shared link has one), only for a
    navigation: `Sec-Fetch-Mode: navigate` or `Sec-Fetch-Dest: document`, or no `Authorization` header (a browser
    navigating never sends one). An API call stays an API call: it asks for JSON or sends its token.
    """
    if scope["method"] != "GET":
        return False
    headers = dict(scope["headers"])
    accept = headers.get(b"accept", b"").decode("latin-1").lower()
    if "text/html" not in accept or any(media in accept for media in JSON_TYPES):
        return False
    if not scope.get("query_string"):
        return True
    return (headers.get(b"sec-fetch-mode") == b"navigate" or headers.get(b"sec-fetch-dest") == b"document"
            or b"authorization" not in headers)


async def _unauthenticated(send: Send, message: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}).encode()
    await send({
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="wholesale-gateway"'),
        ],
    })
    await send({"type": "http.response.body", "body": body})


class AuthenticationMiddleware:
    """Verifies the bearer token of every HTTP request to `protected` paths.

    Websockets pass through: their token arrives in `connection_init`, after the upgrade. A browser opening
    /graphql (`wants_ide`) passes without a token only when `graphiql` is set (GATEWAY_GRAPHIQL).
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticator, protected: tuple[str, ...] = ("/graphql",), *,
                 graphiql: bool = False) -> None:
        self.app = app
        self.authenticator = authenticator
        self.protected = protected
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self.protected or (
                self.graphiql and wants_ide(scope)):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            principal = await self.authenticator.authenticate(headers.get(b"authorization", b"").decode("latin-1"))
        except InvalidToken as exc:
            await _unauthenticated(send, str(exc))
            return
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)
