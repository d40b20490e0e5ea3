"""The Prometheus metrics: what is counted, and how one scrape is rendered.

Two modes, chosen by ``PROMETHEUS_MULTIPROC_DIR`` (the variable prometheus_client itself reads,
at import, to decide where metric values live):

- unset: each app has a registry of its own, which a scrape renders (with process and GC
  metrics), so an app per test starts from zero;
- set (gunicorn with several workers): every process writes its values to files in that
  folder and a scrape, answered by any one worker, adds up the files of all of them
  (``MultiProcessCollector``). The folder must be emptied when the server starts and a dead
  worker forgotten (``clear_multiprocess_dir`` and ``forget_worker``, called by the gunicorn
  hooks in ``entrypoints.gunicorn_conf``).

The job gauges are read at scrape time from their source (``adapters.job_backlog``), never
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

from adapters.job_backlog import BacklogSource

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


def build_metrics(backlog: BacklogSource) -> Metrics:
    registry = None if multiprocess_dir() is not None else CollectorRegistry()
    if registry is not None:
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        registry.register(BacklogCollector(backlog))

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
    )


def exposition(metrics: Metrics, accept: str | None = None) -> tuple[bytes, str]:
    """One scrape and its content type: the Prometheus text format, or OpenMetrics when the
    scraper's ``Accept`` header asks for it."""
    registry = metrics.registry
    if registry is None:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        registry.register(BacklogCollector(metrics.backlog))
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
