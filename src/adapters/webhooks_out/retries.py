"""When a failed delivery is tried again: exponential backoff with jitter, for a window of days.

The n-th retry waits ``base * 2**(n-1)`` capped at ``cap``, times a random factor between 0.5
and 1 (so receivers that failed together are not retried together). A failure whose next try
would fall after ``window`` from the delivery's creation makes the delivery *dead*.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=6)
    window: timedelta = timedelta(days=3)
    jitter: Callable[[], float] = field(default=random.random, compare=False)  # in [0, 1)

    def delay(self, failures: int) -> timedelta:
        """How long to wait after the ``failures``-th failure (1 for the first)."""
        if failures < 1:
            raise ValueError("a delay follows at least one failure")
        exponent = min(failures - 1, 40)  # 2**40 of anything is past any cap
        full = min(self.base * (2**exponent), self.cap)
        return full * (0.5 + self.jitter() / 2)

    def next_attempt(
        self, *, created_at: datetime, failures: int, now: datetime
    ) -> datetime | None:
        """When to try again after the ``failures``-th failure at ``now``; None: dead."""
        following = now + self.delay(failures)
        if following >= created_at + self.window:
            return None
        return following
