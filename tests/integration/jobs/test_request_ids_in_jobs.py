"""The request id travels with the outbox row to the job, and the job logs under it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from adapters.jobs import rq_tasks
from adapters.jobs.inline_runner import InlineJobRunner
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.jobs.rq_tasks import OutboxEnqueuer
from adapters.request_context import current_request_id, request_id_bound
from adapters.sql.tables import outbox
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import World
from tests.integration.jobs.test_inline_runner import BrokenMail
from tests.json_logs import JsonLog, capture_json_log


def request_ids_by_event(engine: sa.Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.event_type, outbox.c.request_id))
        return {row.event_type: row.request_id for row in rows}


def request_id_of_each_job(log: JsonLog) -> dict[str, str | None]:
    """For each ``outbox N (Event): ...`` line the jobs logged, the request id it carried."""
    return {
        line["message"].split("(", 1)[1].split(")", 1)[0]: line["request_id"]
        for line in log.from_logger("adapters.jobs.tasks")
    }


def booked_then_confirmed(world: World) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    with request_id_bound("req-book"):
        receipt = world.book()
    with request_id_bound("req-webhook"):
        world.confirm(receipt)


def test_the_unit_of_work_stores_the_bound_request_id_with_each_event(world: World) -> None:
    booked_then_confirmed(world)

    assert request_ids_by_event(world.engine) == {
        "BookingRequested": "req-book",
        "BookingConfirmed": "req-webhook",
    }


def test_events_committed_outside_any_request_have_no_request_id(world: World) -> None:
    world.book()

    assert request_ids_by_event(world.engine) == {"BookingRequested": None}


def test_the_inline_runner_logs_each_job_under_the_request_that_caused_it(world: World) -> None:
    booked_then_confirmed(world)

    with capture_json_log() as log:
        InlineJobRunner(world.context).run_pending()

    assert request_id_of_each_job(log) == {
        "BookingRequested": "req-book",
        "BookingConfirmed": "req-webhook",
    }
    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
    assert current_request_id() is None  # the job's binding ended with it


@pytest.mark.redis
def test_an_rq_job_logs_under_the_request_that_caused_it(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    booked_then_confirmed(redis_world)
    OutboxRelay(redis_world.engine).relay_once(
        OutboxEnqueuer(rq_tasks.queue(queue_name, shared_redis))
    )

    with capture_json_log() as log:
        work(redis_world.context, shared_redis, queue_name, burst=True)

    assert request_id_of_each_job(log) == {
        "BookingRequested": "req-book",
        "BookingConfirmed": "req-webhook",
    }
    assert current_request_id() is None


def test_a_failing_job_logs_its_failure_under_the_request_id(world: World) -> None:
    booked_then_confirmed(world)
    world.notifier = BrokenMail()  # type: ignore[assignment]

    with capture_json_log() as log:
        InlineJobRunner(world.context).run_pending()

    lines = log.from_logger("adapters.jobs.tasks")
    failures = [line for line in lines if "failed" in line["message"]]
    assert [line["request_id"] for line in failures] == ["req-webhook"]
    assert "mail server down" in failures[0]["message"]
