"""The job backlog the metrics gauges show: RQ's queue and failed jobs, or the outbox's rows."""

from __future__ import annotations

import pytest
import redis
from rq.job import Job

from adapters.jobs import rq_tasks
from adapters.jobs.backlog import OutboxBacklog, RqBacklog
from adapters.jobs.inline_runner import InlineJobRunner
from adapters.jobs.rq_tasks import OutboxEnqueuer
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import World
from tests.integration.jobs.test_inline_runner import BrokenMail
from tests.integration.jobs.test_request_ids_in_jobs import booked_then_confirmed


def test_rows_the_inline_runner_gave_up_count_as_failed_jobs(world: World) -> None:
    booked_then_confirmed(world)
    world.notifier = BrokenMail()  # type: ignore[assignment]
    runner = InlineJobRunner(world.context, max_attempts=2, retry_intervals=[0])
    waiting = OutboxBacklog(world.engine).read()

    runner.run_pending()
    runner.run_pending()

    assert (waiting.queued, waiting.failed) == (2, 0)
    after = OutboxBacklog(world.engine).read()
    assert (after.queued, after.failed, after.undispatched) == (0, 1, 0)


@pytest.mark.redis
def test_the_rq_backlog_counts_waiting_and_failed_jobs_and_unrelayed_rows(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    queue = rq_tasks.queue(queue_name, shared_redis)
    redis_world.notifier = BrokenMail()  # type: ignore[assignment]
    redis_world.confirm(redis_world.book())  # two rows the relay has not handed on
    confirmed = redis_world.job_keys()[-1]
    OutboxEnqueuer(queue)(2, confirmed)  # the confirmation's job, by hand: its mail will fail
    backlog = RqBacklog(redis_world.engine, shared_redis, queue_name)
    waiting = backlog.read()

    job = Job.fetch(rq_tasks.outbox_job_id(confirmed), connection=shared_redis,
                    serializer=rq_tasks.SERIALIZER)
    job.retries_left = 0
    job.save()
    work(redis_world.context, shared_redis, queue_name, burst=True)

    assert (waiting.queued, waiting.failed, waiting.undispatched) == (1, 0, 2)
    after = backlog.read()
    # The job given up makes its row a dead letter (no longer waiting to be handed on).
    assert (after.queued, after.failed, after.undispatched) == (0, 1, 1)
    assert after.dead_letters == 1
