"""A request id for every request: taken from ``X-Request-ID`` if sane, else made up; bound
for the request's log lines (and the outbox rows it writes), echoed in the answer, and logged
once more on the request's access line.

A sane incoming id is 1-64 characters of letters, digits and ``-_.:+=/`` (what load balancers
and tracing proxies send: UUIDs, hex, base64); anything else is replaced, so a client cannot
inject newlines, markup or megabytes into our logs.
"""

from __future__ import annotations

import logging
import re
import time
from uuid import uuid4

from flask import Flask, Response, request

from adapters.request_context import bind_request_id, current_request_id, unbind_request_id

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:+=/-]{1,64}")

access_log = logging.getLogger("hourbook.access")


def accepted_or_new(incoming: str | None) -> str:
    """The incoming id when it is sane, else a fresh random one (32 hex digits)."""
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return uuid4().hex


def init_request_ids(app: Flask) -> None:
    """Register the hooks; call before any other ``before_request`` hook is registered, so the
    id is bound even for requests those hooks refuse (rate limits)."""
    app.before_request(_bind)
    app.after_request(_echo_and_log)
    app.teardown_request(_unbind)


# Kept in the WSGI environ, which is the request's own: ``g`` belongs to the app context, which
# a request made from inside another request (the payment simulator's webhook) shares.
_BINDING = "hourbook.request_id_binding"
_STARTED = "hourbook.request_started"


def _bind() -> None:
    request.environ[_BINDING] = bind_request_id(accepted_or_new(request.headers.get(HEADER)))
    request.environ[_STARTED] = time.perf_counter()


def _echo_and_log(response: Response) -> Response:
    request_id = current_request_id()
    if request_id is not None:
        response.headers[HEADER] = request_id
    started = request.environ.get(_STARTED)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    access_log.info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={
            "method": request.method,
            "path": request.path,  # never the query string: the calendar feed's holds a token
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response


def _unbind(_: BaseException | None) -> None:
    token = request.environ.pop(_BINDING, None)
    if token is not None:
        unbind_request_id(token)
