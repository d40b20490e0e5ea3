"""RQ's ``SimpleWorker``, kept working through Redis outages, recording periodic jobs' runs.

``SimpleWorker.work`` waits out a Redis outage only while it is idle (with pauses growing to a
minute, here capped at ``max_connection_wait_time``); a connection error anywhere else (in the
middle of a job, at start, at shutdown) ends its loop or is raised. :func:`work_until_stopped`
therefore runs it in a loop of its own: whenever RQ's loop ends without a stop having been asked
for, it logs a WARNING naming Redis, waits a growing pause and starts a fresh worker. It returns
0 once a stop (SIGTERM, SIGINT) was asked for, and 1 when RQ's loop keeps ending while Redis
answers: something other than Redis is wrong, and a supervisor should restart the process.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.serializers import JSONSerializer

from adapters.jobs.backoff import Backoff
from adapters.jobs.heartbeat import JobHeartbeats

logger = logging.getLogger(__name__)

SERIALIZER = JSONSerializer  # every job as JSON, never pickled (rq_jobs enqueues with it)
PERIODIC = "hourbook_periodic"  # a periodic job's meta key: its name in the schedule
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
GIVE_UP_AFTER = 3  # consecutive ends of RQ's loop, Redis answering, before the process exits
SETTLED_SECONDS = 60.0  # a loop that ran this long before ending starts the count afresh


class RedisOutageIsAWarning(logging.Filter):
    """RQ logs each failed reconnection of an idle worker as an ERROR; an outage of Redis that
    the worker waits out is a WARNING here, as every other dependency outage is."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and "could not connect to Redis" in str(record.msg):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_REDIS_OUTAGE_IS_A_WARNING = RedisOutageIsAWarning()


class HourbookWorker(SimpleWorker):
    max_connection_wait_time = 5.0  # RQ waits up to 60 s between reconnections when idle
    heartbeats: JobHeartbeats | None = None
    stop_requested = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)

    def handle_job_success(self, job: Job, *args: Any, **kwargs: Any) -> None:
        super().handle_job_success(job, *args, **kwargs)
        name = (job.meta or {}).get(PERIODIC)
        if self.heartbeats is not None and isinstance(name, str):
            self.heartbeats.record(name)


def make_worker(
    connection: redis.Redis, queue_name: str, heartbeats: JobHeartbeats | None
) -> HourbookWorker:
    logging.getLogger("rq.worker").addFilter(_REDIS_OUTAGE_IS_A_WARNING)  # once: same object
    worker = HourbookWorker(
        [Queue(queue_name, connection=connection, serializer=SERIALIZER)],
        connection=connection,
        serializer=SERIALIZER,
        maintenance_interval=60,  # also restarts RQ's retry scheduler if an outage killed it
    )
    worker.heartbeats = heartbeats
    return worker


def redis_answers(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except REDIS_ERRORS:
        return False


def work_until_stopped(
    new_worker: Callable[[], HourbookWorker],
    connection: redis.Redis,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run fresh workers one after the other until a stop is asked for; the exit status."""
    backoff = Backoff()
    unexplained = 0
    while True:
        _stop_on_signals()  # RQ's handlers, left from the last worker, would ask Redis first
        worker: HourbookWorker | None = None
        started = time.monotonic()
        detail = ""
        try:
            worker = new_worker()  # RQ names its connection here: Redis must answer already
            worker.work(with_scheduler=True)
            redis_down = not redis_answers(connection)
        except REDIS_ERRORS as error:
            redis_down, detail = True, f" ({error})"
        except StopRequested:
            return 0
        if worker is not None and worker.stop_requested:
            return 0
        if time.monotonic() - started > SETTLED_SECONDS:
            unexplained = 0
            backoff.reset()
        pause = backoff.next()
        if redis_down:
            unexplained = 0
            logger.warning("worker: Redis is unreachable%s; the worker starts again in %.1f s",
                           detail, pause)
        else:
            unexplained += 1
            if unexplained >= GIVE_UP_AFTER:
                logger.error("worker: RQ's work loop ended %s times in a row while Redis"
                             " answers; exiting so that a supervisor restarts it", unexplained)
                return 1
            logger.warning("worker: RQ's work loop ended (its log line says why); it starts"
                           " again in %.1f s", pause)
        try:
            sleep(pause)
        except StopRequested:
            return 0


def _raise_stop(signum: int, frame: Any) -> None:
    raise StopRequested()


def _stop_on_signals() -> None:
    """Between two RQ workers, SIGTERM and SIGINT end the loop (RQ installs its own inside)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _raise_stop)
