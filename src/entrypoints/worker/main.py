"""``hourbook worker``: the RQ worker that runs the jobs, and RQ's cron scheduler for periodic ones.

One worker process runs jobs (``SimpleWorker``: jobs share this process's database pool
instead of forking per job) with RQ's scheduler for retries and delayed jobs; it outlives Redis
outages of any length (``adapters.jobs.rq_worker.work_until_stopped``). Unless ``--no-cron``, a
child process runs RQ's ``CronScheduler``, which enqueues the outbox relay every 2 s and the
maintenance jobs on their intervals (``adapters.jobs.rq_tasks.SCHEDULE``), and is restarted if it
dies (``entrypoints.worker.cron_process``). Any number of workers may run it: a lease in Redis lets
exactly one of them enqueue at a time, and another takes over within 40 s if that one dies.
It exits non-zero only when it cannot go on (bad settings, or RQ failing while Redis answers).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import redis

from adapters.jobs import rq_tasks
from adapters.jobs.heartbeat import JobHeartbeats
from adapters.jobs.rq_worker import make_worker, work_until_stopped
from adapters.jobs.tasks import JobContext
from entrypoints.bootstrap import DEFAULT_QUEUE, build, make_job_context
from entrypoints.config import ConfigError, Settings, require_rq_key_prefix
from entrypoints.logs import configure_logging
from entrypoints.worker.cron_process import CronSupervisor

logger = logging.getLogger(__name__)

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hourbook worker", description=__doc__)
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help="the RQ queue to work on")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--no-cron", action="store_true", help="do not run the cron scheduler")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("HOURBOOK_LOG_LEVEL", "info"))
    try:
        settings = Settings.from_env()
        require_rq_key_prefix(settings)
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
        cron = CronSupervisor(settings, args.queue)
        cron.start()
    try:
        return work(
            make_job_context(container), container.redis, args.queue, burst=args.burst,
            heartbeats=JobHeartbeats(container.redis, prefix=settings.redis_prefix)
            if container.redis is not None else None,
        )
    finally:
        if cron is not None:
            cron.stop()
        container.close()


def work(
    context: JobContext,
    connection: redis.Redis | None,
    queue_name: str,
    *,
    burst: bool = False,
    heartbeats: JobHeartbeats | None = None,
) -> int:
    """Run jobs from ``queue_name`` with ``context``'s adapters (tests call this directly);
    in burst mode until the queue is empty, else until a stop is asked for."""
    if connection is None:
        raise ValueError("the worker needs Redis")
    rq_tasks.install(context)
    try:
        if burst:
            make_worker(connection, queue_name, heartbeats).work(burst=True, with_scheduler=True)
            return 0
        return work_until_stopped(
            lambda: make_worker(connection, queue_name, heartbeats), connection
        )
    finally:
        rq_tasks.install(None)
