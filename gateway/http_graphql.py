"""GraphQL over HTTP (the GraphQL-over-HTTP spec): POST and GET on /graphql, with content negotiation.

- `Accept: application/graphql-response+json` gets that media type and the spec's status codes: a request
  that cannot execute (bad JSON, bad parameters, a document that does not parse or validate, variables that do
  not coerce, a limit exceeded) is 400 with no `data` entry; anything that executed is 200.
  `application/json`, `*/*` or no Accept header gets `application/json`, and 200 for every GraphQL response
  (400 only when the request is not a GraphQL request at all). Anything else is 406.
- POST bodies must be `application/json` (UTF-8), at most `GATEWAY_MAX_BODY_BYTES` (413 beyond, read no
  further); other content types are 415. This is also the CSRF defence for POST: the content types a browser
  may send cross-site without a preflight (form encodings, text/plain) never execute.
- GET runs queries only (a mutation is 405 with `Allow: POST`). GET's CSRF defence is the bearer token: a
  browser never attaches an `Authorization` header to a cross-site request without a CORS preflight, which
  this server never grants, and a request without one is refused by the authentication middleware (401).
- Before the document is parsed: the caller's rate limit (429 + `Retry-After`, code RATE_LIMITED) and the token
  count (QUERY_TOO_COMPLEX). The other limits run in the validation phase (gateway.limits.OperationLimits).
- A browser opening /graphql (GET, `Accept: text/html`, no query) gets GraphiQL, without a token, when
  GATEWAY_GRAPHIQL is on (dev's default); when it is off, that GET is like any other: a token, then a query.
- Persisted operations (gateway.persisted): a request may name its document by hash (APQ's
  `extensions.persistedQuery`, or `documentId`) instead of sending it; the resolved text then goes through the
  same checks as any other. PERSISTED_QUERY_NOT_FOUND is 200 whatever the media type: Apollo Client's link turns
  APQ off for good on a 400, where the client is only meant to send the text once (Apollo Server answers 200 too).
- HTTP caching, GET only (a query named by hash has a short, stable URL): an executed response is per caller, so
  `Cache-Control: private, no-cache` (only the caller's own cache may keep it, revalidating each time), `Vary:
  Authorization, Accept` and an `ETag`; `If-None-Match` with that ETag gets 304 without a body (the operation still
  runs: data is live). Anything that did not execute (refusals, PERSISTED_QUERY_NOT_FOUND) is `no-store`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.graphql_view import GatewayGraphQL
from gateway.limits import QUERY_TOO_COMPLEX, RATE_LIMITED, admit
from gateway.middleware import PRINCIPAL_KEY, wants_ide
from gateway.persisted import (
    PERSISTED_QUERY_NOT_ALLOWED,
    PERSISTED_QUERY_NOT_FOUND,
    PersistedError,
    Resolved,
)
from gateway.runtime import Runtime

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


BAD_REQUEST = "BAD_REQUEST"
# The parameters of a GraphQL request: query (None when a hash names it), variables, operationName, extensions,
# documentId.
Params = tuple[str | None, dict[str, Any] | None, str | None, dict[str, Any] | None, object]


class BadRequest(Exception):
    """Not a GraphQL request this endpoint can run; answered with `status` and an error coded `code`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, *,
                 code: str = BAD_REQUEST, **extensions: object) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.code = code
        self.extensions = extensions


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when neither JSON type is acceptable."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        # Ties go to the newer media type, but a wildcard answers with the one every client understands.
        if media == GRAPHQL_RESPONSE:
            choice = (quality, 2, GRAPHQL_RESPONSE)
        elif media in (JSON, "application/*", "*/*"):
            choice = (quality, 1, JSON)
        else:
            continue
        if best is None or choice[:2] > best[:2]:
            best = choice
    return best[2] if best else None


def _error_body(message: str, code: str, **extensions: object) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class GraphQLHTTP:
    """The /graphql endpoint for GET and POST (websockets go to the Strawberry view, `GatewayGraphQL`)."""

    def __init__(self, runtime: Runtime, view: GatewayGraphQL) -> None:
        self.runtime = runtime
        self.view = view
        self.buckets = view.buckets  # one bucket per caller, whichever transport it uses

    async def handle(self, request: Request) -> Response:
        if self.runtime.settings.graphiql and wants_ide(request.scope):  # what lets it past authentication
            return await self.view.render_graphql_ide(request)
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return self._respond(JSON, 406, _error_body(
                f"Not acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}", BAD_REQUEST))
        response, executed = await self._run(request, media)
        return _http_cache(request, response, executed) if request.method == "GET" else response

    async def _run(self, request: Request, media: str) -> tuple[Response, bool]:
        """The response, and whether the operation executed (what GET's caching depends on)."""
        try:
            query, variables, operation_name, extensions, document_id = (
                self._get_params(request) if request.method == "GET" else await self._post_params(request))
            try:
                resolved = self.runtime.persisted.resolve(query, extensions, document_id)
            except PersistedError as exc:
                return self._respond(media, _persisted_status(exc.code, media), {"errors": [exc.formatted]}), False
            if not resolved.text:
                raise BadRequest(400, "The request has no `query` string")
            return await self._execute(request, media, resolved, variables, operation_name, extensions)
        except BadRequest as exc:
            return self._respond(media, exc.status, _error_body(str(exc), exc.code, **exc.extensions),
                                 exc.headers), False

    # --- reading the request ----------------------------------------------------------------------------------

    def _get_params(self, request: Request) -> Params:
        query = request.query_params
        return self._checked(query.get("query"), _json_param(query.get("variables"), "variables"),
                             query.get("operationName"), _json_param(query.get("extensions"), "extensions"),
                             query.get("documentId"))

    async def _post_params(self, request: Request) -> Params:
        content_type, _, params = request.headers.get("content-type", "").partition(";")
        if content_type.strip().lower() != JSON:
            raise BadRequest(415, f"Unsupported media type: POST bodies must be {JSON}")
        charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";")
                        if p.strip().lower().startswith("charset=")), "utf-8")
        if charset not in ("utf-8", "utf8"):
            raise BadRequest(415, "Unsupported charset: request bodies must be UTF-8")
        body = await self._body(request)
        if not body:
            raise BadRequest(400, "The request body is empty: send a JSON object with a `query`")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # ValueError: also an integer beyond Python's limit (4300 digits)
            raise BadRequest(400, "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BadRequest(400, "The request body must be a JSON object (batches are not supported)")
        return self._checked(data.get("query"), data.get("variables"), data.get("operationName"),
                             data.get("extensions"), data.get("documentId"))

    async def _body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it is known to exceed the limit (never read beyond it)."""
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _checked(query: object, variables: object, operation_name: object, extensions: object,
                 document_id: object) -> Params:
        """The parameters, type-checked; the query may be missing (None) when a hash names the document."""
        if query is not None and not isinstance(query, str):
            raise BadRequest(400, "The request has no `query` string")
        if variables is not None and not isinstance(variables, dict):
            raise BadRequest(400, "`variables` must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            raise BadRequest(400, "`operationName` must be a string")
        if extensions is not None and not isinstance(extensions, dict):
            raise BadRequest(400, "`extensions` must be a JSON object")
        return (query if query is not None and query.strip() else None), variables, operation_name, extensions, \
            document_id

    # --- executing -----------------------------------------------------------------------------------------------

    async def _execute(self, request: Request, media: str, resolved: Resolved, variables: dict[str, Any] | None,
                       operation_name: str | None, extensions: dict[str, Any] | None) -> tuple[Response, bool]:
        query = resolved.text
        refusal = admit(self.buckets, request.scope.get("state", {}).get(PRINCIPAL_KEY), query, self.runtime.limits)
        if refusal is not None:
            code = (refusal.extensions or {})["code"]
            if code == RATE_LIMITED:
                return self._respond(media, 429, {"errors": [refusal.formatted]},
                                     {"Retry-After": str((refusal.extensions or {})["retryAfter"])}), False
            return self._respond(media, 400 if media == GRAPHQL_RESPONSE else 200,
                                 {"errors": [refusal.formatted]}), False
        sub_response = Response()
        context = await self.view.get_context(request, sub_response)
        allowed = {OperationType.QUERY} if request.method == "GET" else {OperationType.QUERY, OperationType.MUTATION}
        try:
            result = await self.runtime.schema.execute(
                query, variable_values=variables, context_value=context, operation_name=operation_name,
                allowed_operation_types=allowed, operation_extensions=extensions)
        except InvalidOperationTypeError as exc:
            if request.method == "GET" and exc.operation_type == OperationType.MUTATION:
                raise BadRequest(405, "Mutations need POST", {"Allow": "POST"}) from None
            raise BadRequest(400, "Subscriptions run over websockets (graphql-transport-ws) on this path") from None
        except CannotGetOperationTypeError as exc:
            raise BadRequest(400, exc.as_http_error_reason()) from None
        except MissingQueryError:
            raise BadRequest(400, "The request has no `query` string") from None
        body = dict(process_result(result))
        status = 200
        executed = not _request_error(result)
        if not executed:
            body.pop("data", None)  # nothing executed: the spec says no data entry
            if media == GRAPHQL_RESPONSE:
                status = 400
        else:
            self.runtime.persisted.remember(resolved)  # APQ: registered once admitted, parsed and validated
        return self._respond(media, status, body, dict(sub_response.headers)), executed

    def _respond(self, media: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
                 ) -> Response:
        extra = {k: v for k, v in (headers or {}).items() if k.lower() not in ("content-length", "content-type")}
        return Response(self.view.encode_json(body), status_code=status, headers=extra,
                        media_type=f"{media}; charset=utf-8")


def _too_large(limit: int) -> BadRequest:
    return BadRequest(413, f"The request body is larger than {limit} bytes", code=QUERY_TOO_COMPLEX,
                      limit="bodyBytes", max=limit)


def _persisted_status(code: str, media: str) -> int:
    if code == PERSISTED_QUERY_NOT_FOUND:
        return 200  # for every media type: see the module's docstring
    if code == PERSISTED_QUERY_NOT_ALLOWED:
        return 400 if media == GRAPHQL_RESPONSE else 200  # like the limits: refused before execution
    return 400  # a hash that is not the query's, a bad `persistedQuery` or `documentId`


def _http_cache(request: Request, response: Response, executed: bool) -> Response:
    """The caching headers of a GET response (see the module's docstring); 304 when the caller's copy is current."""
    response.headers["vary"] = ", ".join(v for v in (response.headers.get("vary"), "Authorization, Accept") if v)
    if not executed or response.status_code != 200:
        response.headers["cache-control"] = "no-store"
        return response
    etag = f'"{hashlib.sha256(response.body).hexdigest()[:32]}"'
    response.headers["cache-control"] = "private, no-cache"
    response.headers["etag"] = etag
    wanted = [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers={k: v for k, v in response.headers.items()
                                                  if k in ("vary", "cache-control", "etag", "x-request-id")})
    return response


def _request_error(result: ExecutionResult) -> bool:
    """Nothing executed: refused before execution, or variables that did not coerce (errors without a path)."""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(
        isinstance(e, GraphQLError) and not e.path for e in result.errors or ())


def _json_param(text: str | None, name: str) -> object:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # ValueError: also an integer beyond Python's conversion limit
        raise BadRequest(400, f"`{name}` is not valid JSON") from None
