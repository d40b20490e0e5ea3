"""Logging as one JSON object per line, each carrying the request id of the work it is about.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``request_id``
(null outside requests and request-caused jobs), ``exception`` when a traceback is attached, and
any ``extra=`` fields the call passed (the access line's ``method``, ``path``, ``status``,
``duration_ms``). ``configure_logging`` installs it on the root logger (the worker calls it);
``dict_config`` is the same set-up for gunicorn's ``logconfig_dict``, which also turns
gunicorn's own lines into JSON. See docs/operations.md.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from adapters.request_context import current_request_id

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) as JSON lines, at ``level`` and up."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def dict_config(level: str = "INFO") -> dict[str, Any]:
    """``logging.config.dictConfig`` input doing what ``configure_logging`` does, for gunicorn:
    its error log joins the JSON stream and its access log stays off (the app writes its own)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json",
                     "stream": "ext://sys.stderr"},
        },
        "root": {"level": level.upper(), "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "alembic": {"level": "WARNING"},  # each worker's schema check would say hello
        },
    }
