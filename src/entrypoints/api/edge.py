"""What every answer and every body goes through at the HTTP edge, whatever the route.

* **Bodies** are capped at ``HOURBOOK_MAX_BODY_BYTES`` however they are sent. Flask enforces a
  declared ``Content-Length``; a chunked body (no length) is read here, before any view, up to
  one byte past the cap: over it answers the JSON 413, under it the view gets the exact bytes
  (the webhook verifies its signature over them). A declared body over the cap is read and
  dropped (up to ``DRAIN_BYTES``) before the 413: a proxy (nginx sends every body with a
  length) still writing it would otherwise be reset and answer 502 in place of the 413.
* **Headers**: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` on every
  answer; ``Cache-Control: no-store`` unless a view chose otherwise (answers carry tokens,
  ``client_secret`` and personal data, and no answer is meant for a shared cache);
  ``Retry-After`` only on 429 and 503, and the answer's own value when it has one (the rate
  limiter writes its own onto every answer otherwise).
"""

from __future__ import annotations

import io

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

# nginx's client_max_body_size (deploy/nginx/hourbook.conf): what a declared body over the cap
# may cost to read and drop. Past it the connection is simply closed.
DRAIN_BYTES = 1 << 20
_RETRY_STATUSES = (429, 503)
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_OWN_RETRY_AFTER = "hourbook.own_retry_after"  # kept in the request's WSGI environ


def init_edge(app: Flask) -> None:
    """Register the hooks; call before the rate limiter, so ``_edge_headers`` runs after its
    headers are written (Flask runs ``after_request`` hooks last registered, first run)."""
    app.before_request(_buffer_unsized_body)
    app.after_request(_edge_headers)


def init_edge_after_limiter(app: Flask) -> None:
    """Register the hook that notes an answer's own ``Retry-After`` before the limiter
    overwrites it; call after the rate limiter."""
    app.after_request(_remember_retry_after)


def _buffer_unsized_body() -> None:
    environ = request.environ
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    declared = request.content_length
    if declared is not None and declared > limit:
        _drain(environ["wsgi.input"], min(declared, DRAIN_BYTES))
        raise RequestEntityTooLarge(f"the body is larger than {limit} bytes")
    if environ.get("CONTENT_LENGTH") or not _has_unsized_body(environ):
        return
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge(f"the body is larger than {limit} bytes")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _drain(stream: io.RawIOBase | io.BufferedIOBase, size: int) -> None:
    """Read and drop ``size`` bytes (fewer if the body ends first), a block at a time."""
    while size > 0:
        block = stream.read(min(size, 64 * 1024))
        if not block:
            return
        size -= len(block)


def _has_unsized_body(environ: dict[str, object]) -> bool:
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    return chunked or bool(environ.get("wsgi.input_terminated"))


def _remember_retry_after(response: Response) -> Response:
    if "Retry-After" in response.headers:
        request.environ[_OWN_RETRY_AFTER] = response.headers["Retry-After"]
    return response


def _edge_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if response.status_code not in _RETRY_STATUSES:
        response.headers.pop("Retry-After", None)
    elif _OWN_RETRY_AFTER in request.environ:
        response.headers["Retry-After"] = request.environ[_OWN_RETRY_AFTER]
    return response
