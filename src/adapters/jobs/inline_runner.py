"""The embedded default's job runner: the same jobs, in a background thread, without Redis.

Each tick runs the notification job of every undispatched outbox row and marks the row
dispatched and done only after the job succeeded (so a crash re-runs it on restart, and the
sent log, in the database, keeps that from doubling emails). A row whose job keeps failing is
retried on later ticks, as RQ retries it: over hours (``dead_letters.RETRY_INTERVALS``) while a
dependency is down, but only ``dead_letters.POISON_ATTEMPTS`` times, seconds apart, when the
error is one retrying cannot cure; then it is logged and made a dead letter in the outbox
(``failed_at`` and ``last_error``, counted by the gauges, listed by ``hourbook jobs failed``).
Periodic jobs run when their interval has passed. One process only: for several, use Redis
and ``hourbook worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from adapters.jobs import dead_letters, tasks
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.jobs.tasks import JobContext

logger = logging.getLogger(__name__)

PERIODIC: tuple[tuple[Callable[[JobContext], int], float], ...] = (
    (tasks.expire_holds, 60),
    (tasks.settle_refunds, 300),
    (tasks.send_reminders, 300),
    (tasks.purge_expired_records, 3600),
)


class InlineJobRunner:
    def __init__(
        self,
        context: JobContext,
        *,
        tick_seconds: float = 1.0,
        max_attempts: int = len(dead_letters.RETRY_INTERVALS) + 1,
        retry_intervals: Sequence[float] = dead_letters.RETRY_INTERVALS,
        poison_retry_intervals: Sequence[float] = dead_letters.POISON_RETRY_INTERVALS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.relay = OutboxRelay(context.engine)
        self.tick_seconds = tick_seconds
        self.max_attempts = max_attempts
        self.retry_intervals = tuple(retry_intervals) or (0,)
        self.poison_retry_intervals = tuple(poison_retry_intervals) or (0,)
        self.failed: dict[int, str] = {}  # outbox id -> last error, once given up
        self._attempts: dict[int, int] = {}
        self._not_before: dict[int, float] = {}  # outbox id -> monotonic time of its next try
        self._monotonic = monotonic
        self._last_run: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="hourbook-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_pending(self) -> int:
        """One tick: notifications for the outbox, then whatever periodic job is due."""
        done = self._notify()
        for job, every in PERIODIC:
            last = self._last_run.get(job.__name__)
            if last is None or self._monotonic() - last >= every:
                self._last_run[job.__name__] = self._monotonic()
                self._guarded(job.__name__, lambda job=job: job(self.context))
        return done

    def _notify(self) -> int:
        done = 0
        for outbox_id in self.relay.pending():
            if self._monotonic() < self._not_before.get(outbox_id, 0.0):
                continue  # waiting for its next retry
            try:
                tasks.send_notifications(self.context, outbox_id)
            except Exception as error:
                attempts = self._attempts.get(outbox_id, 0) + 1
                self._attempts[outbox_id] = attempts
                logger.warning("outbox %s failed (attempt %s): %s", outbox_id, attempts, error)
                intervals, bound = self._policy(error)
                if attempts < bound:
                    wait = intervals[min(attempts, len(intervals)) - 1]
                    self._not_before[outbox_id] = self._monotonic() + wait
                    continue
                logger.error("outbox %s given up after %s attempts", outbox_id, attempts)
                self.failed[outbox_id] = repr(error)
                dead_letters.give_up(self.context.engine, outbox_id, error)
            else:
                self.relay.mark_done(outbox_id)
            self._attempts.pop(outbox_id, None)
            self._not_before.pop(outbox_id, None)
            done += 1
        return done

    def _policy(self, error: Exception) -> tuple[tuple[float, ...], int]:
        """(seconds before each retry, attempts in all) for a job that failed with ``error``."""
        if dead_letters.is_transient(error):
            return self.retry_intervals, self.max_attempts
        return self.poison_retry_intervals, min(self.max_attempts, dead_letters.POISON_ATTEMPTS)

    def _guarded(self, name: str, run: Callable[[], int]) -> None:
        try:
            run()
        except Exception:
            logger.exception("periodic job %s failed; it runs again next time", name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._guarded("tick", self.run_pending)
            self._stop.wait(self.tick_seconds)
