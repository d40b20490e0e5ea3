"""``work_until_stopped``: the worker loop around RQ's, with fakes for RQ's worker and Redis."""

from __future__ import annotations

import logging
import signal
from typing import Any, cast

import redis

from adapters.jobs.backoff import Backoff
from adapters.jobs.rq_worker import HourbookWorker, RedisOutageIsAWarning, work_until_stopped


class FakeRedis:
    def __init__(self, *, answers: bool) -> None:
        self.answers = answers

    def ping(self) -> bool:
        if not self.answers:
            raise redis.ConnectionError("Connection refused")
        return True


class FakeWorker:
    """Plays one scripted ending of RQ's work loop: a Redis error, a plain end, or a stop."""

    def __init__(self, ending: str) -> None:
        self.ending = ending
        self.stop_requested = ending == "stop"

    def work(self, **_: Any) -> bool:
        if self.ending == "redis":
            raise redis.ConnectionError("Connection closed by server.")
        return True


def run(endings: list[str], *, redis_answers: bool = True) -> tuple[int, list[float], int]:
    """The exit status, the pauses taken, and how many workers were built."""
    pauses: list[float] = []
    built = 0

    def new_worker() -> HourbookWorker:
        nonlocal built
        built += 1
        return cast(HourbookWorker, FakeWorker(endings.pop(0)))

    connection = cast(redis.Redis, FakeRedis(answers=redis_answers))
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = work_until_stopped(new_worker, connection, sleep=pauses.append)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return status, pauses, built


def test_a_redis_error_in_the_middle_of_a_job_starts_a_fresh_worker_after_a_pause() -> None:
    status, pauses, built = run(["redis", "redis", "redis", "stop"])

    assert (status, built) == (0, 4)
    assert pauses == [0.5, 1.0, 2.0]


def test_an_rq_loop_that_ends_while_redis_is_down_is_waited_out_however_often() -> None:
    status, pauses, built = run(["end"] * 10 + ["stop"], redis_answers=False)

    assert (status, built) == (0, 11)
    assert max(pauses) == 5.0  # the pauses stop growing: work resumes soon after the outage


def test_an_rq_loop_that_keeps_ending_while_redis_answers_exits_non_zero() -> None:
    status, pauses, built = run(["end", "end", "end", "stop"])

    assert (status, built) == (1, 3)
    assert len(pauses) == 2


def test_a_stop_asked_for_ends_the_loop_with_success() -> None:
    assert run(["stop"]) == (0, [], 1)


def test_the_backoff_doubles_up_to_its_cap_and_starts_over_after_a_reset() -> None:
    backoff = Backoff(first=0.5, cap=3.0)

    first = [backoff.next() for _ in range(5)]
    backoff.reset()

    assert first == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.next() == 0.5


def test_rqs_reconnection_errors_are_logged_as_warnings_and_other_errors_stay_errors() -> None:
    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("rq.worker", logging.ERROR, "", 0, message, (), None)

    outage = record("Worker %s: could not connect to Redis instance: %s retrying in %d seconds...")
    other = record("Worker %s: found an unhandled exception, quitting...")
    for each in (outage, other):
        RedisOutageIsAWarning().filter(each)

    assert (outage.levelname, other.levelname) == ("WARNING", "ERROR")
