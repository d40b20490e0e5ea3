"""gunicorn's ``gthread`` worker, answering the errors it raises itself in the API's JSON shape.

gunicorn refuses some requests before the app sees them (a request line over its limit: 414;
headers too many or too large: 431; a malformed header or ``Content-Length``: 400) and writes
an HTML page for them. docs/api.md promises ``{"error": {"code", "message"}}`` for every 4xx, so
this worker hands gunicorn a socket that turns that page into the JSON error before sending it.
Everything else (which error, which status, the log line) stays gunicorn's own decision.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_STATUS_LINE = re.compile(rb"\AHTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n")
_MESSAGES = {
    400: "the request is malformed (request line or headers)",
    403: "the request is forbidden",
    414: "the request line (method and URL) is too long",
    417: "the expectation in the Expect header cannot be met",
    431: "the request headers are too many or too large",
    500: "something went wrong on our side",
    501: "the transfer coding is not supported",
}


def json_error(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 answer: ``status`` with the API's error body, closing the connection."""
    code = "internal_error" if status >= 500 else _snake(reason)
    message = _MESSAGES.get(status, reason.lower() or "the request was refused")
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        f"Cache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _JsonErrorSocket:
    """Wraps the client's socket for gunicorn's error writer: the page it sends becomes JSON."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        matched = _STATUS_LINE.match(data)
        if matched:
            data = json_error(int(matched.group(1)), matched.group(2).decode("latin-1"))
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class JsonErrorsWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        wrapped = _JsonErrorSocket(client) if isinstance(client, socket.socket) else client
        super().handle_error(req, wrapped, addr, exc)


def _snake(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "bad_request"
