"""The embedded default's in-process runner: same jobs, dispatched only after they ran."""

from __future__ import annotations

import time
from datetime import timedelta

from adapters.jobs.inline_runner import InlineJobRunner
from booking.ports import Email
from tests.integration.jobs.conftest import World
from tests.integration.jobs.test_outbox_and_worker import undispatched


class BrokenMail:
    def __init__(self) -> None:
        self.attempts = 0

    def send(self, email: Email) -> None:
        self.attempts += 1
        raise OSError("mail server down")


def test_the_runner_sends_each_email_once_and_marks_rows_dispatched(world: World) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.confirm(world.book())
    runner = InlineJobRunner(world.context)

    runner.run_pending()
    runner.run_pending()

    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
    assert undispatched(world.engine) == 0


def test_a_failing_row_is_retried_on_later_ticks_then_given_up_and_logged(world: World) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.confirm(world.book())
    broken = BrokenMail()
    world.notifier = broken  # type: ignore[assignment]
    now = [0.0]
    runner = InlineJobRunner(world.context, max_attempts=3, monotonic=lambda: now[0])

    runner.run_pending()
    runner.run_pending()  # too soon: the retry waits 10 s
    now[0] += 10
    runner.run_pending()
    now[0] += 30
    runner.run_pending()

    assert broken.attempts == 3
    assert len(runner.failed) == 1 and "mail server down" in next(iter(runner.failed.values()))
    assert undispatched(world.engine) == 0


def test_the_runner_thread_starts_and_stops(world: World) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.confirm(world.book())
    runner = InlineJobRunner(world.context, tick_seconds=0.05)

    runner.start()
    for _ in range(100):
        if len(world.notifier.sent) == 2:
            break
        time.sleep(0.05)
    runner.stop()

    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
