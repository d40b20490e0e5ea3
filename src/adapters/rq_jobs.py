"""The jobs as RQ sees them: importable functions, their retry policy, and their schedule.

RQ pickles a job as a function reference plus arguments, so the functions here take only plain
arguments and find their collaborators in the :class:`JobContext` the worker installed at start
(``install``); a job run by a process that did not install one fails with a clear error.
A notification job that fails is retried: over ``RETRY_INTERVALS`` (hours) while a dependency
is down, but only ``dead_letters.POISON_ATTEMPTS`` times, seconds apart, when the error is one
that retrying cannot cure. Given up, it is kept, with its traceback, in RQ's
``FailedJobRegistry``, and its outbox row is marked a dead letter (``adapters.dead_letters``).

Periodic work is scheduled with RQ's own ``CronScheduler`` (``schedule``); the outbox relay is
one of those periodic jobs, and enqueues one ``send_notifications`` job per outbox row.
"""

from __future__ import annotations

import logging
import re

import redis
from rq import Queue, Retry
from rq.cron import CronScheduler
from rq.job import Job, get_current_job

from adapters import dead_letters, jobs
from adapters.jobs import JobContext
from adapters.outbox_relay import OutboxRelay, QueueUnavailable

logger = logging.getLogger(__name__)

# Seconds before each retry: about seven hours in all, so that an outage of the payment
# provider or the mail server of an afternoon is ridden out (a hold's payment release and its
# emails wait in these retries). After the last one the job waits in RQ's failed registry, its
# row is a dead letter, and the HourbookDeadLetters alert asks for a look (docs/operations.md).
RETRY_INTERVALS = list(dead_letters.RETRY_INTERVALS)
POISON_FAILURES = "hourbook_poison_failures"  # job.meta key: failures retrying cannot cure
KEPT_SECONDS = 24 * 3600
FAILED_KEPT_SECONDS = 30 * 24 * 3600
_context: JobContext | None = None


def install(context: JobContext | None) -> None:
    """Give this process's jobs their collaborators (the worker does it once, at start)."""
    global _context  # one per process, set by the composition root
    _context = context


def context() -> JobContext:
    if _context is None:
        raise RuntimeError("no job context in this process: run jobs with `hourbook worker`")
    return _context


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


# -- the jobs ----------------------------------------------------------------------------------


def send_notifications(outbox_id: int) -> int:
    ctx = context()
    try:
        return jobs.send_notifications(ctx, outbox_id)
    except Exception as error:
        job = get_current_job()
        if job is not None:
            _after_failure(job, ctx, outbox_id, error)
        raise


def _after_failure(job: Job, ctx: JobContext, outbox_id: object, error: Exception) -> None:
    """Shorten the retries of a poison message; mark the row a dead letter on the last try.

    RQ decides after this returns, from ``job.retries_left``, whether to retry (at
    ``retry_intervals[len - retries_left]``) or to move the job to its failed registry."""
    if not dead_letters.is_transient(error):
        failures = int(job.meta.get(POISON_FAILURES, 0)) + 1
        job.meta[POISON_FAILURES] = failures
        bound = max(dead_letters.POISON_ATTEMPTS - failures, 0)
        job.retries_left = min(job.retries_left or 0, bound)  # shortened, never lengthened
        job.retry_intervals = list(dead_letters.POISON_RETRY_INTERVALS)
        job.save_meta()  # a retry saves the job anyway; the last failure would not
    if job.retries_left:
        return
    logger.error("job %s for outbox %s given up: %r", job.id, outbox_id, error)
    if not isinstance(outbox_id, int):
        return
    try:
        dead_letters.give_up(ctx.engine, outbox_id, error)
    except Exception:  # the job stays in RQ's failed registry, which is counted too
        logger.exception("outbox %s could not be marked a dead letter", outbox_id)


def requeue(queue: Queue, outbox_id: int) -> None:
    """Run a dead letter's notifications again: its old job is dropped, a fresh one with the
    full retry policy is enqueued (the sent log keeps emails already sent from going twice).
    Raises QueueUnavailable when Redis cannot be reached."""
    job_id = outbox_job_id(queue.name, outbox_id)
    try:
        if Job.exists(job_id, connection=queue.connection):
            Job.fetch(job_id, connection=queue.connection).delete()
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise QueueUnavailable(str(error)) from error
    OutboxEnqueuer(queue)(outbox_id)


def expire_holds() -> int:
    return jobs.expire_holds(context())


def settle_refunds() -> int:
    return jobs.settle_refunds(context())


def send_reminders() -> int:
    return jobs.send_reminders(context())


def purge_idempotency_keys() -> int:
    return jobs.purge_expired_records(context())


def relay_outbox() -> int:
    """Enqueue a notification job per undispatched outbox row, on the queue this job runs on."""
    current = get_current_job()
    if current is None:
        raise RuntimeError("relay_outbox runs as an RQ job")
    queue = Queue(current.origin, connection=current.connection)
    return OutboxRelay(context().engine).relay_once(OutboxEnqueuer(queue))


def outbox_job_id(queue_name: str, outbox_id: int) -> str:
    """``<queue>-outbox-<id>``: RQ job ids are global to a Redis database, outbox ids are per
    database, so the queue name (one per deployment) keeps two deployments apart."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', queue_name)}-outbox-{outbox_id}"


class OutboxEnqueuer:
    """Enqueues ``send_notifications(outbox_id)`` under a job id fixed by the row, once.

    Re-enqueueing an existing job id would run it again, so a row handed on before a crash is
    skipped while its job (kept a day after it ran) exists; after that, the sent log dedupes.
    """

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def __call__(self, outbox_id: int) -> None:
        try:
            self._enqueue(outbox_id)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise QueueUnavailable(str(error)) from error

    def _enqueue(self, outbox_id: int) -> None:
        job_id = outbox_job_id(self.queue.name, outbox_id)
        if Job.exists(job_id, connection=self.queue.connection):
            return
        self.queue.enqueue(
            send_notifications,
            outbox_id,
            job_id=job_id,
            retry=retry_policy(),
            result_ttl=KEPT_SECONDS,
            failure_ttl=FAILED_KEPT_SECONDS,
            description=f"notifications for outbox row {outbox_id}",
        )


# -- the schedule ------------------------------------------------------------------------------

SCHEDULE: tuple[tuple[str, int], ...] = (  # (job, every so many seconds)
    ("relay_outbox", 2),
    ("expire_holds", 60),
    ("settle_refunds", 300),
    ("send_reminders", 300),
    ("purge_idempotency_keys", 3600),
)


def schedule(connection: redis.Redis, queue_name: str) -> CronScheduler:
    """A cron scheduler that enqueues every periodic job on ``queue_name``."""
    cron = CronScheduler(connection=connection)
    for name, seconds in SCHEDULE:
        cron.register(
            globals()[name], queue_name, interval=seconds, result_ttl=seconds * 2,
            failure_ttl=FAILED_KEPT_SECONDS,
        )
    return cron
