"""Failed deliveries wait ever longer (with jitter), up to a cap, and die after the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.webhooks_out.retries import RetryPolicy
from tests.factories import MONDAY

FULL = RetryPolicy(jitter=lambda: 0.999999)  # the longest wait jitter allows
HALF = RetryPolicy(jitter=lambda: 0.0)  # the shortest


def test_each_retry_waits_twice_as_long_as_the_one_before() -> None:
    waits = [FULL.delay(n) for n in range(1, 6)]
    assert [round(w.total_seconds()) for w in waits] == [30, 60, 120, 240, 480]


def test_jitter_takes_between_half_and_all_of_the_wait() -> None:
    assert HALF.delay(3) == timedelta(seconds=60)
    assert timedelta(seconds=119) < FULL.delay(3) <= timedelta(seconds=120)


def test_the_wait_never_exceeds_the_cap() -> None:
    assert FULL.delay(30) <= timedelta(hours=6)
    assert FULL.delay(10_000) <= timedelta(hours=6)  # no overflow however many failures
    assert FULL.delay(30) > timedelta(hours=5, minutes=59)


def test_a_failure_is_retried_while_the_next_attempt_falls_inside_three_days() -> None:
    following = FULL.next_attempt(created_at=MONDAY, failures=1, now=MONDAY)
    assert following is not None and following - MONDAY <= timedelta(seconds=30)
    late = MONDAY + timedelta(days=2, hours=17)
    assert FULL.next_attempt(created_at=MONDAY, failures=20, now=late) is not None


def test_a_failure_whose_next_attempt_would_fall_after_the_window_is_dead() -> None:
    late = MONDAY + timedelta(days=2, hours=19)
    assert FULL.next_attempt(created_at=MONDAY, failures=20, now=late) is None
    assert HALF.next_attempt(created_at=MONDAY, failures=20, now=late) is not None


def test_retrying_until_dead_takes_three_days_at_most() -> None:
    now, failures = MONDAY, 0
    while True:
        failures += 1
        following = FULL.next_attempt(created_at=MONDAY, failures=failures, now=now)
        if following is None:
            break
        now = following
    assert MONDAY + timedelta(days=2, hours=18) <= now < MONDAY + timedelta(days=3)
    assert 15 <= failures <= 25


def test_a_delay_follows_a_failure() -> None:
    with pytest.raises(ValueError):
        FULL.delay(0)
