"""``hourbook worker``: the RQ worker that runs the jobs, and RQ's cron scheduler for periodic ones.

One worker process runs jobs (``SimpleWorker``: jobs share this process's database pool
instead of forking per job) with RQ's scheduler for retries and delayed jobs. Unless
``--no-cron``, a child process runs RQ's ``CronScheduler``, which enqueues the outbox relay
every 2 s and the maintenance jobs on their intervals (``adapters.rq_jobs.SCHEDULE``). Run the
cron scheduler in one process only; start extra workers with ``--no-cron``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

import redis
from rq import Queue, SimpleWorker

from adapters import rq_jobs
from adapters.jobs import JobContext
from adapters.sent_log import InMemorySentLog, RedisSentLog, SentLog
from entrypoints.bootstrap import Container, build, make_notifier
from entrypoints.config import ConfigError, Settings
from entrypoints.logs import configure_logging

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "hourbook"


def make_job_context(container: Container) -> JobContext:
    settings = container.settings
    sent_log: SentLog = (
        RedisSentLog(container.redis, prefix=settings.redis_prefix)
        if container.redis is not None
        else InMemorySentLog()
    )
    return JobContext(
        engine=container.engine,
        uow=container.uow,
        payments=container.payments,
        notifier=make_notifier(settings),
        clock=container.clock,
        sent_log=sent_log,
        hold_time=timedelta(minutes=settings.hold_minutes),
        purge_idempotency=getattr(container.idempotency, "purge_expired", None),
    )


def run_cron(redis_url: str, queue_name: str) -> None:
    """The child process: RQ's cron scheduler, enqueueing the periodic jobs until stopped."""
    configure_logging(os.environ.get("HOURBOOK_LOG_LEVEL", "info"))  # a spawned process
    rq_jobs.schedule(redis.Redis.from_url(redis_url), queue_name).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hourbook worker", description=__doc__)
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help="the RQ queue to work on")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--no-cron", action="store_true", help="do not run the cron scheduler")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("HOURBOOK_LOG_LEVEL", "info"))
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"hourbook worker: {error}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print(
            "hourbook worker: REDIS_URL is not set. Without Redis, `hourbook serve` runs the"
            " jobs in-process; the worker is for deployments with Redis.",
            file=sys.stderr,
        )
        return 2
    container = build(settings)
    cron = None
    if not (args.no_cron or args.burst):
        cron = multiprocessing.get_context("spawn").Process(
            target=run_cron, args=(settings.redis_url, args.queue), name="hourbook-cron"
        )
        cron.start()
    try:
        return work(make_job_context(container), container.redis, args.queue, burst=args.burst)
    finally:
        if cron is not None:
            cron.terminate()
            cron.join(10)
        container.close()


def work(
    context: JobContext, connection: redis.Redis | None, queue_name: str, *, burst: bool = False
) -> int:
    """Run jobs from ``queue_name`` with ``context``'s adapters (tests call this directly)."""
    if connection is None:
        raise ValueError("the worker needs Redis")
    rq_jobs.install(context)
    try:
        queue = Queue(queue_name, connection=connection)
        worker = SimpleWorker([queue], connection=connection)
        worker.work(burst=burst, with_scheduler=True)
    finally:
        rq_jobs.install(None)
    return 0
