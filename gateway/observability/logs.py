"""Logging for the whole process: one handler on the root logger, text or one JSON object a line.

`GATEWAY_LOG_FORMAT=json` gives lines a log shipper can parse without rules:
`{"ts", "level", "logger", "message", "request_id"?, "exc"?, ...extra fields}`. Every line written while a
request runs carries its id. uvicorn's loggers are routed through the same handler, so its access and
error lines look like ours (uvicorn itself must then be told not to configure logging: `log_config=None`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from gateway.observability.requests import current_request_id
from gateway.settings import SettingsError, load_settings

DEFAULT_LEVEL = "INFO"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# What every LogRecord has; anything else on a record came from `extra=` and is written out as a field
# (except uvicorn's `color_message`, the same message with terminal colours).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message", "asctime", "request_id", "taskName", "color_message"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (unless the caller already gave one with `extra=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; values JSON cannot hold are written as their text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id]: message` — the id only while a request runs."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().format(record)


class GatewayLogHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs (a class of its own, so configuring again replaces it)."""


def log_handler(log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `log_format` ("json" or "text") lines, with the request id filter attached."""
    handler = GatewayLogHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(log_format: str = "text", level: str = DEFAULT_LEVEL, stream: TextIO | None = None) -> None:
    """Send every logger's records (uvicorn's included) to one handler; calling it again replaces that handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, GatewayLogHandler)]:
        root.removeHandler(old)
    root.addHandler(log_handler(log_format, stream))
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def configure_logging_from_environment() -> None:
    """`configure_logging` as GATEWAY_LOG_FORMAT and GATEWAY_LOG_LEVEL say.

    Before the settings are known to be valid: with a bad configuration the defaults are used, and the
    command reports the configuration error itself.
    """
    try:
        settings = load_settings()
    except SettingsError:
        configure_logging()
        return
    configure_logging(settings.log_format, settings.log_level)
