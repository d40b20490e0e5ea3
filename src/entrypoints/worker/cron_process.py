"""The cron scheduler's child process, and the thread of ``hourbook worker`` that watches it.

The child (:func:`run_cron`) drives RQ's ``CronScheduler`` through ``LeasedScheduler``: it
survives Redis outages itself, takes part in the scheduler lease, and ends when asked (SIGTERM)
or when its parent is gone (so a killed worker leaves no scheduler behind). Should it die all
the same (a bug, the OOM killer), :class:`CronSupervisor` logs a WARNING and starts a new one
after a growing pause.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

import redis

from adapters.jobs import rq_tasks
from adapters.jobs.backoff import Backoff
from adapters.jobs.periodic_scheduler import LeasedScheduler
from adapters.jobs.scheduler_lease import SchedulerLease, holder_name
from entrypoints.config import Settings
from entrypoints.logs import configure_logging

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 5  # a Redis that stops answering must not stall the lease renewals


def intervals(settings: Settings) -> dict[str, int]:
    return {
        "expire_holds": settings.expire_holds_every_seconds,
        "settle_refunds": settings.settle_refunds_every_seconds,
    }


def run_cron(settings: Settings, queue_name: str, parent_pid: int, holder: str) -> None:
    """The child process: enqueue the periodic jobs while holding the lease, until stopped.
    ``holder`` names the worker, not the child, so a child started again after a crash takes
    its predecessor's lease back at once instead of waiting for it to expire."""
    configure_logging(os.environ.get("HOURBOOK_LOG_LEVEL", "info"))  # a spawned process
    if settings.redis_url is None:
        raise ValueError("the cron scheduler needs REDIS_URL")
    connection = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = LeasedScheduler(
        rq_tasks.schedule(connection, queue_name, intervals(settings)),
        SchedulerLease(connection, prefix=settings.redis_prefix, holder=holder),
    )
    scheduler.run(stop, still_wanted=lambda: os.getppid() == parent_pid)


class CronSupervisor:
    """Keeps one cron child alive: started at once, restarted with backoff when it dies."""

    def __init__(self, settings: Settings, queue_name: str) -> None:
        self.settings = settings
        self.queue_name = queue_name
        self.stopping = threading.Event()
        self.child: BaseProcess | None = None
        self.restarts = 0
        self.holder = holder_name()  # this worker's, kept by every child it starts
        self._spawned_at = 0.0
        self._watcher = threading.Thread(target=self._watch, name="cron-supervisor", daemon=True)

    def start(self) -> None:
        self.child = self._spawn()
        self._watcher.start()

    def stop(self) -> None:
        self.stopping.set()
        self._watcher.join(5)
        if self.child is not None and self.child.is_alive():
            self.child.terminate()
            self.child.join(10)

    def _spawn(self) -> BaseProcess:
        child = multiprocessing.get_context("spawn").Process(
            target=run_cron,
            args=(self.settings, self.queue_name, os.getpid(), self.holder),
            name="hourbook-cron",
        )
        child.start()
        self._spawned_at = time.monotonic()
        return child

    def _watch(self) -> None:
        backoff = Backoff(first=1.0, cap=30.0)
        while not self.stopping.wait(1.0):
            child = self.child
            if child is None or child.is_alive():
                continue
            if time.monotonic() - self._spawned_at > 60:
                backoff.reset()  # it had been running well: this is a new failure
            pause = backoff.next()
            logger.warning(
                "the cron scheduler (pid %s) exited with code %s; it is started again in %.0f s"
                " (check that Redis is reachable, and the scheduler's last log lines)",
                child.pid, child.exitcode, pause,
            )
            if self.stopping.wait(pause):
                return
            self.child = self._spawn()
            self.restarts += 1
