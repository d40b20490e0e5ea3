"""The Prometheus metrics: what is counted, and how one scrape is rendered.

Two modes, chosen by ``PROMETHEUS_MULTIPROC_DIR`` (the variable prometheus_client itself reads,
at import, to decide where metric values live):

- unset: each app has a registry of its own, which a scrape renders (with process and GC
  metrics), so an app per test starts from zero;
- set (gunicorn with several workers): every process writes its values to files in that
  folder and a scrape, answered by any one worker, adds up the files of all of them
  (``MultiProcessCollector``). The folder must be emptied when the server starts and a dead
  worker forgotten (``clear_multiprocess_dir`` and ``forget_worker``, called by the gunicorn
  hooks in ``entrypoints.serve.gunicorn_conf``).

The job gauges are read at scrape time from their source (``adapters.jobs.backlog``), never
kept in a process, so they are right whichever worker answers. The names are listed, with
alerts, in docs/operations.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from adapters.jobs.backlog import Backlog, BacklogSource
from adapters.jobs.heartbeat import JobHeartbeats

logger = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROCESS_ENV, "").strip()
    return Path(value) if value else None


@dataclass(frozen=True, kw_only=True)
class Metrics:
    registry: CollectorRegistry | None  # None in multiprocess mode: each scrape builds one
    backlog: BacklogSource
    request_seconds: Histogram  # endpoint (the URL rule), method, status
    bookings_created: Counter
    bookings_confirmed: Counter
    bookings_cancelled: Counter  # reason
    payments: Counter  # outcome: succeeded | failed
    double_booking_attempts: Counter
    idempotent_replays: Counter
    webhook_rejected: Counter
    webhook_events: Counter  # outcome of a verified event: applied, duplicate, ...
    payment_mismatches: Counter  # successes that cannot pay for their booking (stray payments)
    payment_disputes: Counter  # event: charge.dispute.created, ...closed, ...
    heartbeats: JobHeartbeats | None = None  # when periodic jobs last succeeded (with Redis)


def build_metrics(backlog: BacklogSource, heartbeats: JobHeartbeats | None = None) -> Metrics:
    registry = None if multiprocess_dir() is not None else CollectorRegistry()
    if registry is not None:
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        registry.register(BacklogCollector(backlog))
        if heartbeats is not None:
            registry.register(HeartbeatCollector(heartbeats))

    def counter(name: str, doc: str, *labels: str) -> Counter:
        return Counter(f"hourbook_{name}", doc, labels, registry=registry)

    return Metrics(
        registry=registry,
        backlog=backlog,
        request_seconds=Histogram(
            "hourbook_http_request_duration_seconds",
            "Time to answer an HTTP request, by URL rule, method and status.",
            ("endpoint", "method", "status"),
            registry=registry,
        ),
        bookings_created=counter("bookings_created", "Bookings held (new, not replayed)."),
        bookings_confirmed=counter("bookings_confirmed", "Bookings confirmed."),
        bookings_cancelled=counter(
            "bookings_cancelled", "Bookings cancelled, by reason.", "reason"
        ),
        payments=counter(
            "payments", "Payments reported by the provider, by outcome.", "outcome"
        ),
        double_booking_attempts=counter(
            "double_booking_attempts", "Bookings refused because the slot was taken (409)."
        ),
        idempotent_replays=counter(
            "idempotent_replays", "Booking requests answered again from their idempotency key."
        ),
        webhook_rejected=counter(
            "webhook_rejected", "Webhook deliveries refused: bad signature or malformed."
        ),
        webhook_events=counter(
            "webhook_events", "Verified webhook events, by what applying them did.", "outcome"
        ),
        payment_mismatches=counter(
            "payment_mismatches",
            "Payment successes not accepted for their booking (another intent, amount or"
            " currency): recorded as stray payments and refunded.",
        ),
        payment_disputes=counter(
            "payment_disputes", "Dispute events recorded, by event type.", "event"
        ),
        heartbeats=heartbeats,
    )


def exposition(metrics: Metrics, accept: str | None = None) -> tuple[bytes, str]:
    """One scrape and its content type: the Prometheus text format, or OpenMetrics when the
    scraper's ``Accept`` header asks for it."""
    registry = metrics.registry
    if registry is None:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        registry.register(BacklogCollector(metrics.backlog))
        if metrics.heartbeats is not None:
            registry.register(HeartbeatCollector(metrics.heartbeats))
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


class BacklogCollector:
    """Gauges of the job backlog, read from their source at each scrape."""

    def __init__(self, source: BacklogSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        try:
            backlog = self.source.read()
        except Exception:  # a scrape must not fail because Redis or the database does
            logger.warning("metrics: the job backlog could not be read", exc_info=True)
            yield GaugeMetricFamily("hourbook_job_backlog_up", "Job backlog readable.", 0)
            return
        yield GaugeMetricFamily("hourbook_job_backlog_up", "Job backlog readable.", 1)
        yield GaugeMetricFamily("hourbook_jobs_queued", "Jobs waiting to run.", backlog.queued)
        yield GaugeMetricFamily(
            "hourbook_jobs_failed", "Jobs given up and kept for inspection.", backlog.failed
        )
        yield GaugeMetricFamily(
            "hourbook_outbox_undispatched",
            "Outbox events not handed to a job yet.",
            backlog.undispatched,
        )
        yield GaugeMetricFamily(
            "hourbook_dead_letters",
            "Outbox events whose notification job was given up (hourbook jobs failed).",
            backlog.dead_letters,
        )
        yield from _refunds_owed(backlog)


def _refunds_owed(backlog: Backlog) -> Iterator[Metric]:
    count = GaugeMetricFamily(
        "hourbook_refunds_owed", "Bookings whose refund is not paid yet.", labels=["currency"]
    )
    cents = GaugeMetricFamily(
        "hourbook_refunds_owed_cents",
        "Money owed back to clients and not paid yet, in cents.",
        labels=["currency"],
    )
    for currency, owed in sorted(backlog.refunds_owed.items()):
        count.add_metric([currency], owed.count)
        cents.add_metric([currency], owed.cents)
    oldest = min((owed.oldest for owed in backlog.refunds_owed.values()), default=None)
    age = 0.0 if oldest is None else max((backlog.read_at - oldest).total_seconds(), 0.0)
    yield count
    yield cents
    yield GaugeMetricFamily(
        "hourbook_refunds_owed_oldest_seconds",
        "How long the longest-owed refund has waited since it was decided (0: none owed).",
        age,
    )


class HeartbeatCollector:
    """When each periodic job last succeeded (Unix time), read from Redis at each scrape."""

    def __init__(self, source: JobHeartbeats) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        try:
            last = self.source.read()
        except Exception:  # a scrape must not fail because Redis does; backlog_up says so
            logger.warning("metrics: the periodic jobs' heartbeats could not be read from Redis",
                           exc_info=True)
            return
        family = GaugeMetricFamily(
            "hourbook_job_last_success_timestamp_seconds",
            "When each periodic job last ran to completion (Unix time).",
            labels=["job"],
        )
        for job, when in sorted(last.items()):
            family.add_metric([job], when)
        yield family


def clear_multiprocess_dir() -> None:
    """Forget the values of a previous server run (gunicorn ``on_starting``)."""
    folder = multiprocess_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)


def forget_worker(pid: int) -> None:
    """Drop a dead worker's live-gauge files (gunicorn ``child_exit``); its counts stay."""
    if multiprocess_dir() is not None:
        prometheus_multiprocess.mark_process_dead(pid)
