"""``GET /metrics`` in the Prometheus text format, and the latency of every request.

Latency is labelled with the URL rule (``/bookings/<uuid:booking_id>``), never the raw path,
and with the method and status, so the number of series stays bounded whatever clients send.

The endpoint shows business volumes (bookings, payments), so it is not for the public: with
``HOURBOOK_METRICS_TOKEN`` set (production refuses to start without it) it answers only
``Authorization: Bearer <token>``; without it, keep it off the public network
(docs/operations.md). It is not in the OpenAPI document.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, request

from adapters.jobs.backlog import BacklogSource, OutboxBacklog, RqBacklog
from adapters.jobs.heartbeat import JobHeartbeats
from entrypoints.api import context
from entrypoints.api.errors import error_response
from entrypoints.api.outcomes import EXTENSION, current_metrics
from entrypoints.bootstrap import DEFAULT_QUEUE, Container
from entrypoints.metrics import build_metrics, exposition

metrics_endpoint = Blueprint("metrics", __name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the endpoint label of a request no URL rule matched (404, 405)
_STARTED = "hourbook.metrics_started"


def init_metrics(app: Flask, container: Container) -> None:
    """Give ``app`` its metrics, time its requests and serve ``/metrics``."""
    heartbeats = (
        JobHeartbeats(container.redis, prefix=container.settings.redis_prefix)
        if container.redis is not None
        else None
    )
    app.extensions[EXTENSION] = build_metrics(backlog_source(container), heartbeats)
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(metrics_endpoint)


def backlog_source(container: Container) -> BacklogSource:
    """RQ's queue when Redis is configured (``hourbook worker``), else the outbox table."""
    if container.redis is not None:
        return RqBacklog(
            container.engine, container.redis, DEFAULT_QUEUE, now=container.clock.now
        )
    return OutboxBacklog(container.engine, now=container.clock.now)


@metrics_endpoint.get("/metrics")
def scrape() -> Response:
    token = context.container().settings.metrics_token
    if token is not None and not _bearer_matches(token):
        return error_response(
            401, "unauthorized", "this endpoint wants the metrics bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body, content_type = exposition(current_metrics(), request.headers.get("Accept"))
    return Response(body, status=200, content_type=content_type)


def _bearer_matches(token: str) -> bool:
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()  # the request's own, unlike ``g``


def _observe(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    if started is not None:
        rule = request.url_rule
        current_metrics().request_seconds.labels(
            endpoint=rule.rule if rule is not None else UNMATCHED,
            method=request.method if request.method in _METHODS else "OTHER",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
    return response
