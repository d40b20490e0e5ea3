"""The loop that drives RQ's ``CronScheduler``: through Redis outages, and one at a time.

RQ's own ``CronScheduler.start`` ends at the first connection error, so this loop calls the
scheduler's parts itself (``enqueue_jobs``, ``save``, ``heartbeat``, ``calculate_sleep_interval``):

- before enqueueing anything it takes or renews the :class:`SchedulerLease`, so of all the
  schedulers running (one per ``hourbook worker``) exactly one enqueues the periodic jobs; the
  others ask again every ``renew_every`` seconds and take over once the holder's lease expires;
- a Redis error is logged as a WARNING naming Redis, and the loop tries again after a growing
  pause (``Backoff``) for as long as the outage lasts;
- it ends when ``stop`` is set or ``still_wanted()`` turns false (the parent process is gone),
  giving the lease up so another scheduler can take over at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis
from rq.cron import CronScheduler

from adapters.jobs.backoff import Backoff
from adapters.jobs.scheduler_lease import RENEW_SECONDS, SchedulerLease

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


class LeasedScheduler:
    def __init__(
        self, cron: CronScheduler, lease: SchedulerLease, *, renew_every: float = RENEW_SECONDS
    ) -> None:
        self.cron = cron
        self.lease = lease
        self.renew_every = renew_every
        self.active = False  # holds the lease, as far as the last tick knew

    def tick(self) -> float:
        """Renew or take the lease and, holding it, enqueue what is due; seconds to wait."""
        held = self.lease.hold()
        if held and not self.active:
            logger.info("scheduler %s holds the lease: it enqueues the periodic jobs",
                        self.lease.holder)
        elif self.active and not held:
            logger.warning("scheduler %s lost the lease to %s: it stands by",
                           self.lease.holder, self.lease.current_holder())
        self.active = held
        if not held:
            return self.renew_every
        if self.cron.enqueue_jobs():
            self.cron.save()
        self.cron.heartbeat()
        return min(self.cron.calculate_sleep_interval(), self.renew_every)

    def run(
        self, stop: threading.Event, still_wanted: Callable[[], bool] = lambda: True
    ) -> None:
        backoff = Backoff()
        while not stop.is_set() and still_wanted():
            try:
                pause = self.tick()
            except REDIS_ERRORS as error:
                self.active = False  # the lease may lapse meanwhile; asked for again after
                pause = backoff.next()
                logger.warning("scheduler: Redis is unreachable (%s); trying again in %.1f s",
                               error, pause)
            else:
                backoff.reset()
            stop.wait(pause)
        self.step_down()

    def step_down(self) -> None:
        try:
            self.lease.release()
            self.cron.register_death()
        except REDIS_ERRORS:
            pass  # the lease expires by itself
