"""The jobs as RQ sees them: importable functions, their retry policy, and their schedule.

Every job is stored as JSON (``SERIALIZER``, RQ's ``JSONSerializer``: a function reference plus
plain arguments), never pickled, so reading a job back runs no code; the functions here take
only plain arguments and find their collaborators in the :class:`JobContext` the worker
installed at start (``install``); a job run by a process that did not install one fails with a
clear error. Whatever enqueues or runs jobs (the relay, the cron scheduler, the worker, the
backlog gauges) uses ``SERIALIZER`` through :func:`queue`.
Failed jobs are retried with ``RETRY`` and then kept, with their traceback, in RQ's
``FailedJobRegistry``.
A notification job that fails is retried: over ``RETRY_INTERVALS`` (hours) while a dependency
is down, but only ``dead_letters.POISON_ATTEMPTS`` times, seconds apart, when the error is one
that retrying cannot cure. Given up, it is kept, with its traceback, in RQ's
``FailedJobRegistry``, and its outbox row is marked a dead letter (``adapters.jobs.dead_letters``).

Periodic work is scheduled with RQ's ``CronScheduler`` (``schedule``); the outbox relay is one
of those periodic jobs, and enqueues one ``send_notifications`` job per outbox row, named by
the row's random job key (``outbox-<key>``) so that it is nobody else's job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import redis
from rq import Queue, Retry
from rq.cron import CronJob, CronScheduler
from rq.job import Job, get_current_job
from rq.utils import now
from sqlalchemy import Engine

from adapters.jobs import dead_letters, tasks
from adapters.jobs.outbox_relay import OutboxRelay, QueueUnavailable
from adapters.jobs.rq_worker import PERIODIC, SERIALIZER
from adapters.jobs.tasks import JobContext

logger = logging.getLogger(__name__)

# Seconds before each retry: about seven hours in all, so that an outage of the payment
# provider or the mail server of an afternoon is ridden out (a hold's payment release and its
# emails wait in these retries). After the last one the job waits in RQ's failed registry, its
# row is a dead letter, and the HourbookDeadLetters alert asks for a look (docs/operations.md).
RETRY_INTERVALS = list(dead_letters.RETRY_INTERVALS)
POISON_FAILURES = "hourbook_poison_failures"  # job.meta key: failures retrying cannot cure
KEPT_SECONDS = 24 * 3600
FAILED_KEPT_SECONDS = 30 * 24 * 3600
_JOB_KEY = re.compile(r"[0-9a-f]{32}")
_context: JobContext | None = None


def install(context: JobContext | None) -> None:
    """Give this process's jobs their collaborators (the worker does it once, at start)."""
    global _context  # one per process, set by the composition root
    _context = context


def context() -> JobContext:
    if _context is None:
        raise RuntimeError("no job context in this process: run jobs with `hourbook worker`")
    return _context


def queue(name: str, connection: redis.Redis) -> Queue:
    """The queue ``name``, storing its jobs as JSON."""
    return Queue(name, connection=connection, serializer=SERIALIZER)


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


# -- the jobs ----------------------------------------------------------------------------------


def send_notifications(job_key: str) -> int:
    """The notifications of the outbox row with this job key. A key that names no row of this
    database is not this deployment's job (or its row was purged): logged and dropped, not
    retried, since no retry can make the row appear."""
    if not isinstance(job_key, str) or not _JOB_KEY.fullmatch(job_key):
        logger.warning("notification job with a malformed outbox key %r: dropped", job_key)
        return 0
    ctx = context()
    outbox_id = OutboxRelay(ctx.engine).row_of(job_key)
    if outbox_id is None:
        logger.warning("notification job for outbox key %s: no such row here, dropped", job_key)
        return 0
    relay = OutboxRelay(ctx.engine)
    try:
        sent = tasks.send_notifications(ctx, outbox_id)
        relay.mark_done(outbox_id)  # where a dead letter is marked failed: no re-hand now
    except Exception as error:
        job = get_current_job()
        if job is not None:
            _after_failure(job, ctx, outbox_id, error)
        raise
    return sent


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


def requeue(queue: Queue, engine: Engine, outbox_id: int) -> None:
    """Run a dead letter's notifications again: its old job is dropped, a fresh one with the
    full retry policy is enqueued under the row's own key (the sent log keeps emails already
    sent from going twice). Raises QueueUnavailable when Redis cannot be reached."""
    job_key = OutboxRelay(engine).key_of(outbox_id)
    try:
        job_id = outbox_job_id(job_key)
        if Job.exists(job_id, connection=queue.connection):
            Job.fetch(job_id, connection=queue.connection, serializer=SERIALIZER).delete()
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise QueueUnavailable(str(error)) from error
    OutboxEnqueuer(queue)(outbox_id, job_key)


def expire_holds() -> int:
    return tasks.expire_holds(context())


def settle_refunds() -> int:
    return tasks.settle_refunds(context())


def send_reminders() -> int:
    return tasks.send_reminders(context())


def purge_idempotency_keys() -> int:
    return tasks.purge_expired_records(context())


def relay_outbox() -> int:
    """Enqueue a notification job per undispatched outbox row, on the queue this job runs on,
    and again for each in-flight row whose job Redis lost (``OutboxRelay.rehand_lost``)."""
    current = get_current_job()
    if current is None:
        raise RuntimeError("relay_outbox runs as an RQ job")
    relay = OutboxRelay(context().engine)
    enqueuer = OutboxEnqueuer(queue(current.origin, current.connection))
    return relay.relay_once(enqueuer) + relay.rehand_lost(enqueuer, enqueuer.exists)


def outbox_job_id(job_key: str) -> str:
    """``outbox-<key>``: the row's random key, which no other row of any database shares."""
    return f"outbox-{job_key}"


class OutboxEnqueuer:
    """Enqueues ``send_notifications(job_key)`` under the job id the row's key gives, once.

    Re-enqueueing an existing job id would run it again, so a row handed on before a crash is
    not enqueued again while its job (kept a day after it ran) exists: that job is this row's,
    since its id comes from the row's random key. After that, the sent log dedupes.
    """

    def __init__(self, queue: Queue) -> None:
        if queue.serializer is not SERIALIZER:
            raise ValueError("the outbox's jobs are stored as JSON: use rq_tasks.queue()")
        self.queue = queue

    def __call__(self, outbox_id: int, job_key: str) -> None:
        try:
            self._enqueue(outbox_id, job_key)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise QueueUnavailable(str(error)) from error

    def exists(self, job_key: str) -> bool:
        """Whether Redis holds the row's job (queued, running, scheduled, finished or failed)."""
        try:
            return bool(Job.exists(outbox_job_id(job_key), connection=self.queue.connection))
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise QueueUnavailable(str(error)) from error

    def _enqueue(self, outbox_id: int, job_key: str) -> None:
        job_id = outbox_job_id(job_key)
        if Job.exists(job_id, connection=self.queue.connection):
            return
        self.queue.enqueue(
            send_notifications,
            job_key,
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


class JsonCronScheduler(CronScheduler):
    """RQ's cron scheduler, enqueueing through a JSON queue: RQ's own ``CronJob.enqueue`` builds
    a default (pickling) queue, whose jobs a JSON worker could not read. It keeps no history of
    the jobs it enqueued (RQ's cron job history and registry are for RQ's dashboard)."""

    def enqueue_jobs(self) -> list[CronJob]:
        due = [job for job in self.get_jobs() if job.should_run()]
        enqueued_at = now()
        for job in due:
            queue(job.queue_name, self.connection).enqueue(
                job.func, args=job.args, kwargs=job.kwargs, **job.job_options
            )
            job.set_enqueue_time(enqueued_at)
            name = getattr(job.func, "__name__", job.func_name)
            logger.info("Enqueued job %s to queue %s", name, job.queue_name)  # as RQ logs it
        return due


def schedule(
    connection: redis.Redis, queue_name: str, every: Mapping[str, int] | None = None
) -> CronScheduler:
    """A cron scheduler that enqueues every periodic job on ``queue_name``, each ``SCHEDULE``'s
    number of seconds apart unless ``every`` names another. Each job carries its name in its
    meta (``rq_worker.PERIODIC``), so the worker records when it last succeeded."""
    intervals = dict(SCHEDULE) | dict(every or {})
    cron = JsonCronScheduler(connection=connection)
    for name, seconds in intervals.items():
        cron.register(
            globals()[name], queue_name, interval=seconds, result_ttl=seconds * 2,
            failure_ttl=FAILED_KEPT_SECONDS, meta={PERIODIC: name},
        )
    return cron
