"""What a websocket client may send, checked in one place per protocol before the gateway acts on a message.

A frame is decoded strictly (`decode`: text only, standard JSON, no number beyond a double or Python's integer
limit, nesting bounded) and the message's shape checked (`transport_problem` for graphql-transport-ws,
`legacy_problem` for the legacy graphql-ws), so that the protocol handlers only ever see messages of the
shape they index into. Each check is a pure function that says what is wrong (a short sentence for the client),
or None. Text that is not valid Unicode (a lone UTF-16 surrogate such as the JSON escape `"\\ud800"`, which
cannot be encoded as UTF-8) is refused anywhere in a message: nothing in the gateway could store or echo it.

`close_reason` fits any text into a websocket close frame (at most 123 bytes of UTF-8), and `GatewaySocket`
is Strawberry's ASGI websocket adapter that reads raw frames and closes only with such reasons.

One frame never reaches the gateway: a text frame that is not UTF-8, which uvicorn's websocket layer refuses
itself, closing with 1007 as RFC 6455 says, but logging at ERROR with a traceback (uvicorn 0.55, websockets-sansio).
`ClientBytesFilter`, installed on uvicorn's logger when this module is imported, logs it at INFO instead: a client
could otherwise fill the error log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from functools import lru_cache
from typing import Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected

MAX_ID_LENGTH = 256  # characters of an operation id
MAX_DEPTH = 32  # objects and arrays nested in one message, the message itself included
CLOSE_REASON_BYTES = 123  # RFC 6455: a control frame's payload is at most 125 bytes, 2 of them the code
NOT_TEXT = "WebSocket message type must be text"
NOT_JSON = "WebSocket message must be valid JSON"

_SURROGATE = re.compile("[\ud800-\udfff]")

Check = Callable[[object], str | None]


class InvalidMessage(ValueError):
    """A frame that is not a well-formed message; its text is what to tell the client.

    `message` is what could be decoded of it (None when nothing could), to find an id to answer with.
    """

    def __init__(self, problem: str, message: object = None) -> None:
        super().__init__(problem)
        self.message = message


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidMessage(f"Number out of range: {text[:20]}")
    return value


def _not_json(constant: str) -> object:
    raise InvalidMessage(f"{NOT_JSON} ({constant} is not JSON)")


def decode(frame: str) -> object:
    """A text frame's JSON value; InvalidMessage when it is not standard JSON a message could be made of."""
    try:
        return json.loads(frame, parse_float=_finite, parse_constant=_not_json)
    except InvalidMessage:
        raise
    except RecursionError:
        raise InvalidMessage("Message nested too deeply") from None
    except json.JSONDecodeError:
        raise InvalidMessage(NOT_JSON) from None
    except ValueError:  # an integer beyond Python's conversion limit (sys.get_int_max_str_digits)
        raise InvalidMessage("Number out of range") from None


def read(frame: str | bytes, check: Check) -> dict[str, Any]:
    """The message a frame carries, `check`ed (InvalidMessage when the frame is not a well-formed message)."""
    if not isinstance(frame, str):
        raise InvalidMessage(NOT_TEXT)
    message = decode(frame)
    problem = check(message)
    if problem is not None or not isinstance(message, dict):
        raise InvalidMessage(problem or "Message must be a JSON object", message)
    payload = message.get("payload")
    if isinstance(payload, dict) and isinstance(query := payload.get("query"), str) and len(query) <= ONE_COPY_CHARS:
        payload["query"] = _one_copy(query)
    return message


# The documents subscribed lately, each held once: a socket keeps its subscription's text as long as it runs, and
# thousands of dashboards send the same few. An equal text returns the copy cached first. Only texts up to
# ONE_COPY_CHARS: the cache must not hold 256 of the largest messages a hostile client can send.
ONE_COPY_CHARS = 16 * 1024


@lru_cache(maxsize=256)
def _one_copy(text: str) -> str:
    return text


def _content_problem(message: Mapping[str, object]) -> str | None:
    """Too deep, or text (a key or a value, at any depth) that is not valid Unicode."""
    stack: list[tuple[object, int]] = [(message, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return "Message text must be valid Unicode (it has a lone surrogate)"
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return f"Message nested deeper than {MAX_DEPTH} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    return "Message text must be valid Unicode (it has a lone surrogate)"
                stack.append((item, depth + 1))
    return None


def _envelope_problem(message: object) -> str | None:
    if not isinstance(message, dict):
        return "Message must be a JSON object"
    if not isinstance(message.get("type"), str):
        return "Message type must be a string"
    return _content_problem(message)


def _optional(container: Mapping[str, object], key: str, kind: type, what: str, where: str) -> str | None:
    value = container.get(key)
    return None if value is None or isinstance(value, kind) else f"{where}{key} must be {what}"


def _id_problem(message: Mapping[str, object]) -> str | None:
    op_id = message.get("id")
    if not isinstance(op_id, str):
        return "Message id must be a string"
    if not 0 < len(op_id) <= MAX_ID_LENGTH:
        return f"Message id must have 1 to {MAX_ID_LENGTH} characters"
    return None


def _operation_problem(message: Mapping[str, object]) -> str | None:
    """The payload of graphql-transport-ws `subscribe` and graphql-ws `start`: the GraphQL request."""
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "Message payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "payload.query must be a string"
    return (_optional(payload, "variables", dict, "an object", "payload.")
            or _optional(payload, "operationName", str, "a string", "payload.")
            or _optional(payload, "extensions", dict, "an object", "payload."))


def _unknown(kind: str) -> str:
    return f"Unknown message type: {ascii(kind)[:40]}"


def transport_problem(message: object) -> str | None:
    """What is wrong with a decoded graphql-transport-ws message from a client, or None when it is well formed."""
    problem = _envelope_problem(message)
    if problem is not None or not isinstance(message, dict):
        return problem
    kind = message["type"]
    if kind in ("connection_init", "ping", "pong"):
        return _optional(message, "payload", dict, "an object", "Message ")
    if kind == "subscribe":
        return _id_problem(message) or _operation_problem(message)
    if kind == "complete":
        return _id_problem(message)
    return _unknown(kind)


def legacy_problem(message: object) -> str | None:
    """What is wrong with a decoded graphql-ws (subscriptions-transport-ws) message, or None when well formed."""
    problem = _envelope_problem(message)
    if problem is not None or not isinstance(message, dict):
        return problem
    kind = message["type"]
    if kind == "connection_init":
        return _optional(message, "payload", dict, "an object", "Message ")
    if kind == "connection_terminate":
        return None
    if kind == "start":
        return _id_problem(message) or _operation_problem(message)
    if kind == "stop":
        return _id_problem(message)
    return _unknown(kind)


def usable_id(message: object) -> str | None:
    """The operation id of a message, when it is one the server could answer with (else None)."""
    op_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(op_id, str) and _id_problem({"id": op_id}) is None and not _SURROGATE.search(op_id):
        return op_id
    return None


def close_reason(text: str) -> str:
    """`text` as a close frame can carry it: valid UTF-8 of at most 123 bytes (cut with an ellipsis)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= CLOSE_REASON_BYTES:
        return data.decode("utf-8")
    return data[:CLOSE_REASON_BYTES - 3].decode("utf-8", "ignore") + "…"


class GatewaySocket(ASGIWebSocketAdapter):
    """Strawberry's ASGI websocket adapter: raw frames for the handlers to check, and safe closes and sends.

    A close reason is cut to fit a close frame (a longer one, or one that is not UTF-8, made the server fail
    the connection); closing a closed socket does nothing, and sending on one raises WebSocketDisconnected
    (as when the client went away) rather than Starlette's or uvicorn's RuntimeError.
    """

    @classmethod
    def over(cls, websocket: AsyncWebSocketAdapter) -> GatewaySocket:
        if isinstance(websocket, cls):
            return websocket
        assert isinstance(websocket, ASGIWebSocketAdapter), type(websocket)
        return cls(websocket.view, websocket.ws, websocket.ws)

    @property
    def open(self) -> bool:
        return self.ws.application_state == WebSocketState.CONNECTED

    async def frames(self) -> AsyncIterator[str | bytes]:
        """Each frame the client sends (text or bytes), until either side closes the socket."""
        while self.open:
            event = await self.ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            text = event.get("text")
            yield text if text is not None else (event.get("bytes") or b"")

    async def send_json(self, message: Mapping[str, object]) -> None:
        if not self.open:
            raise WebSocketDisconnected
        try:
            await super().send_json(message)
        except RuntimeError as exc:  # closed by uvicorn itself (see `send_text`)
            raise WebSocketDisconnected from exc

    async def send_text(self, text: str) -> None:
        """Send JSON text as it is; WebSocketDisconnected once the socket is closed, whoever closed it.

        uvicorn closes a socket itself on invalid UTF-8 (1007) or a message too big (1009), and the gateway only
        learns it at its next receive: meanwhile a send raises RuntimeError ("Unexpected ASGI message
        'websocket.send', after sending 'websocket.close'").
        """
        if not self.open:
            raise WebSocketDisconnected
        try:
            await self.ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        if self.open:
            with contextlib.suppress(RuntimeError):  # closed by uvicorn itself already (see `send_text`)
                await super().close(code, close_reason(reason))


def send_now(send: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run a send until it waits: None when it completed (or found the socket closed) without waiting, as a send on
    a socket whose buffer has room does; else a task that finishes it (the caller sends nothing more on that
    socket before the task is done). A frame fanned out to thousands of sockets costs no task for each."""
    try:
        waiting = send.send(None)
    except StopIteration:
        return None
    except WebSocketDisconnected:
        return None
    return asyncio.ensure_future(_resumed(send, waiting))


async def _resumed(send: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine that yielded `waiting` (what it awaits) to its end, as its own task would have."""
    try:
        while True:
            if waiting is None:  # a bare yield: let the loop run once
                await asyncio.sleep(0)
            else:
                await asyncio.wait([waiting])
            try:
                waiting = send.send(None)
            except StopIteration:
                return
    except WebSocketDisconnected:
        return
    except asyncio.CancelledError:
        send.close()
        raise


def is_open(websocket: AsyncWebSocketAdapter) -> bool:
    """Whether messages may still be sent on `websocket` (a GatewaySocket knows; any other is assumed open)."""
    return not isinstance(websocket, GatewaySocket) or websocket.open


class ClientBytesFilter(logging.Filter):
    """Demotes uvicorn's ERROR for a text frame that is not UTF-8 (the client's fault) to INFO, without traceback."""

    MESSAGE = "Invalid UTF-8 sequence received from client."

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == self.MESSAGE and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.msg = "Invalid UTF-8 in a text frame: the socket was closed with 1007"
            record.exc_info = record.exc_text = None
        return True


CLIENT_BYTES_FILTER = ClientBytesFilter()
logging.getLogger("uvicorn.error").addFilter(CLIENT_BYTES_FILTER)  # the same object each time: added once
