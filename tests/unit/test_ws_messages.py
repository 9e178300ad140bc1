"""The websocket message checks (gateway.ws_messages): pure functions, one per protocol, and the close reason."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from domain.store.background import cancel_and_wait
from gateway.ws_messages import (
    CLOSE_REASON_BYTES,
    MAX_DEPTH,
    MAX_ID_LENGTH,
    NOT_JSON,
    NOT_TEXT,
    ClientBytesFilter,
    InvalidMessage,
    close_reason,
    decode,
    legacy_problem,
    read,
    transport_problem,
    usable_id,
)

QUERY = {"query": "{ __typename }"}


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("message", [
    {"type": "connection_init"},
    {"type": "connection_init", "payload": None},
    {"type": "connection_init", "payload": {"authorization": "Bearer x"}},
    {"type": "ping"}, {"type": "ping", "payload": {"at": 1}}, {"type": "pong", "payload": None},
    {"type": "subscribe", "id": "1", "payload": QUERY},
    {"type": "subscribe", "id": "x" * MAX_ID_LENGTH, "payload": {**QUERY, "variables": {"a": [1, None, {"b": "é"}]},
                                                               "operationName": "A", "extensions": {}}},
    {"type": "subscribe", "id": "1", "payload": {**QUERY, "variables": None, "operationName": None,
                                                  "extensions": None}},
    {"type": "subscribe", "id": "1", "payload": QUERY, "extra": [1]},
    {"type": "complete", "id": "never-started"},
    {"type": "ping", "payload": nested(MAX_DEPTH - 2)},
])
def test_well_formed_graphql_transport_ws_messages_pass(message: dict[str, Any]) -> None:
    assert transport_problem(message) is None


@pytest.mark.parametrize(("message", "problem"), [
    ([], "Message must be a JSON object"),
    ("x", "Message must be a JSON object"),
    (None, "Message must be a JSON object"),
    (1, "Message must be a JSON object"),
    ({}, "Message type must be a string"),
    ({"type": None}, "Message type must be a string"),
    ({"type": ["ping"]}, "Message type must be a string"),
    ({"type": "bogus"}, "Unknown message type: 'bogus'"),
    ({"type": "next", "id": "1", "payload": {}}, "Unknown message type: 'next'"),
    ({"type": "subscribe", "id": {}, "payload": QUERY}, "Message id must be a string"),
    ({"type": "subscribe", "payload": QUERY}, "Message id must be a string"),
    ({"type": "subscribe", "id": "", "payload": QUERY}, f"Message id must have 1 to {MAX_ID_LENGTH} characters"),
    ({"type": "subscribe", "id": "x" * (MAX_ID_LENGTH + 1), "payload": QUERY},
     f"Message id must have 1 to {MAX_ID_LENGTH} characters"),
    ({"type": "subscribe", "id": "1"}, "Message payload must be an object"),
    ({"type": "subscribe", "id": "1", "payload": []}, "Message payload must be an object"),
    ({"type": "subscribe", "id": "1", "payload": {}}, "payload.query must be a string"),
    ({"type": "subscribe", "id": "1", "payload": {"query": 1}}, "payload.query must be a string"),
    ({"type": "subscribe", "id": "1", "payload": {**QUERY, "variables": []}}, "payload.variables must be an object"),
    ({"type": "subscribe", "id": "1", "payload": {**QUERY, "operationName": 1}},
     "payload.operationName must be a string"),
    ({"type": "subscribe", "id": "1", "payload": {**QUERY, "extensions": "x"}}, "payload.extensions must be an object"),
    ({"type": "complete", "id": 1}, "Message id must be a string"),
    ({"type": "ping", "payload": "x"}, "Message payload must be an object"),
    ({"type": "connection_init", "payload": []}, "Message payload must be an object"),
    ({"type": "subscribe", "id": "\ud800", "payload": QUERY}, "Message text must be valid Unicode"),
    ({"type": "subscribe", "id": "1", "payload": {"query": "{ a } # \udfff"}}, "Message text must be valid Unicode"),
    ({"type": "subscribe", "id": "1", "payload": {**QUERY, "variables": {"\ud800": 1}}},
     "Message text must be valid Unicode"),
    ({"type": "\ud800"}, "Message text must be valid Unicode"),
    ({"type": "ping", "payload": nested(MAX_DEPTH)}, f"Message nested deeper than {MAX_DEPTH} levels"),
])
def test_malformed_graphql_transport_ws_messages_say_what_is_wrong(message: object, problem: str) -> None:
    found = transport_problem(message)
    assert found is not None and found.startswith(problem), found


@pytest.mark.parametrize("message", [
    {"type": "connection_init"}, {"type": "connection_init", "payload": {"authorization": "Bearer x"}},
    {"type": "connection_terminate"},
    {"type": "start", "id": "1", "payload": {**QUERY, "variables": {"a": 1}, "operationName": None}},
    {"type": "stop", "id": "1"},
])
def test_well_formed_graphql_ws_messages_pass(message: dict[str, Any]) -> None:
    assert legacy_problem(message) is None


@pytest.mark.parametrize(("message", "problem", "op_id"), [
    ([], "Message must be a JSON object", None),
    ({"type": 1, "id": "1"}, "Message type must be a string", "1"),
    ({"type": "ping"}, "Unknown message type: 'ping'", None),  # graphql-transport-ws only
    ({"type": "subscribe", "id": "1", "payload": QUERY}, "Unknown message type: 'subscribe'", "1"),
    ({"type": "start", "payload": QUERY}, "Message id must be a string", None),
    ({"type": "start", "id": "", "payload": QUERY}, "Message id must have", None),
    ({"type": "start", "id": "\ud800", "payload": QUERY}, "Message text must be valid Unicode", None),
    ({"type": "start", "id": "1"}, "Message payload must be an object", "1"),
    ({"type": "start", "id": "1", "payload": {"query": None}}, "payload.query must be a string", "1"),
    ({"type": "start", "id": "1", "payload": {**QUERY, "variables": "x"}}, "payload.variables must be an object", "1"),
    ({"type": "stop", "id": []}, "Message id must be a string", None),
    ({"type": "connection_init", "payload": "x"}, "Message payload must be an object", None),
])
def test_malformed_graphql_ws_messages_say_what_is_wrong_and_which_id_to_answer(
        message: object, problem: str, op_id: str | None) -> None:
    found = legacy_problem(message)
    assert found is not None and found.startswith(problem), found
    assert usable_id(message) == op_id


@pytest.mark.parametrize(("frame", "problem"), [
    ("{", NOT_JSON),
    ("", NOT_JSON),
    ('{"type": "ping"} x', NOT_JSON),
    ("NaN", NOT_JSON),
    ('{"n": -Infinity}', NOT_JSON),
    ('{"n": 1e999}', "Number out of range"),
    ("9" * 5000, "Number out of range"),
    ("[" * 100_000 + "]" * 100_000, "Message nested too deeply"),
])
def test_frames_that_are_not_standard_json_are_refused(frame: str, problem: str) -> None:
    with pytest.raises(InvalidMessage) as invalid:
        decode(frame)
    assert str(invalid.value).startswith(problem)


def test_read_refuses_binary_frames_and_keeps_what_it_decoded_to_answer_with() -> None:
    with pytest.raises(InvalidMessage, match=NOT_TEXT):
        read(b'{"type": "ping"}', transport_problem)
    with pytest.raises(InvalidMessage) as invalid:
        read(json.dumps({"type": "start", "id": "7"}), legacy_problem)
    assert invalid.value.message == {"type": "start", "id": "7"}
    assert read(json.dumps({"type": "ping"}), transport_problem) == {"type": "ping"}


@pytest.mark.parametrize("text", ["", "short", "x" * 123, "x" * 124, "é" * 100, "€" * 60, "\ud800" * 10,
                                  "a\ud800b", "x" * 10_000])
def test_a_close_reason_is_valid_utf8_that_fits_a_close_frame(text: str) -> None:
    reason = close_reason(text)
    data = reason.encode("utf-8")  # raises on a lone surrogate
    assert len(data) <= CLOSE_REASON_BYTES
    if len(text.encode("utf-8", "replace")) <= CLOSE_REASON_BYTES:
        assert reason == text.encode("utf-8", "replace").decode()
    else:
        assert reason.endswith("…") and text.startswith(reason[:-1])


async def test_a_socket_operation_that_went_on_after_its_cancellation_is_cancelled_again() -> None:
    # As PyMongo's async find_one can: cancelled just as its reply arrives, it returns the reply and goes on.
    cancellations = 0

    async def goes_on_once() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations > 1:
                    raise

    task = asyncio.create_task(goes_on_once())
    await asyncio.sleep(0)
    await cancel_and_wait(task, every=0.01, report=False)
    assert task.cancelled() and cancellations == 2


def test_uvicorns_error_for_invalid_utf8_from_a_client_is_logged_at_info_without_traceback() -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        try:
            b"\xff".decode()
        except UnicodeDecodeError:
            logger.exception(ClientBytesFilter.MESSAGE)  # as uvicorn's websockets-sansio protocol does
    finally:
        logger.removeHandler(handler)
    [record] = records
    assert (record.levelno, record.exc_info) == (logging.INFO, None)


def test_sockets_subscribing_with_the_same_document_hold_one_copy_of_its_text() -> None:
    def frame(op_id: str) -> str:
        query = "subscription { provisioningEvents { entityId toStatus } }"
        return json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}})

    first = read(frame("1"), transport_problem)
    second = read(frame("2"), transport_problem)
    assert first["payload"]["query"] == "subscription { provisioningEvents { entityId toStatus } }"
    assert first["payload"]["query"] is second["payload"]["query"]
    assert second["id"] == "2"


def test_a_document_too_long_to_keep_is_not_kept() -> None:
    """The one-copy cache holds 256 texts of at most ONE_COPY_CHARS: not 256 of the largest messages allowed."""
    from gateway.ws_messages import ONE_COPY_CHARS

    query = "subscription { provisioningEvents { entityId } }" + " " * ONE_COPY_CHARS
    frame = json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
    first, second = read(frame, transport_problem), read(frame, transport_problem)
    assert first["payload"]["query"] == second["payload"]["query"] == query
    assert first["payload"]["query"] is not second["payload"]["query"]
