"""Each outbox row's job is its own: named by the row's random key, stored as JSON, and marked
dispatched only once that job is in the queue."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from adapters.jobs import rq_tasks
from adapters.jobs.outbox_relay import OutboxRelay, QueueUnavailable
from adapters.jobs.rq_tasks import OutboxEnqueuer
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.rows import new_job_key
from adapters.sql.tables import outbox
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import World
from tests.json_logs import capture_json_log

pytestmark = pytest.mark.redis


def dispatched(engine: sa.Engine) -> dict[int, bool]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.id, outbox.c.dispatched_at))
        return {row.id: row.dispatched_at is not None for row in rows}


def stored_job(connection: redis.Redis, job_id: str) -> object:
    """A job's data as RQ stored it in Redis: zlib-compressed bytes of the serializer."""
    raw = connection.hget(Job.key_for(job_id), "data")
    assert isinstance(raw, bytes)
    return json.loads(zlib.decompress(raw))


def test_every_row_is_written_with_a_random_job_key_of_its_own(world: World) -> None:
    world.confirm(world.book())
    world.confirm(world.book(12))

    keys = world.job_keys()

    assert len(keys) == 4
    assert len(set(keys)) == 4
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)


def test_a_row_is_enqueued_as_json_under_its_key_with_only_the_key_as_argument(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    redis_world.confirm(redis_world.book())
    queue = rq_tasks.queue(queue_name, shared_redis)

    OutboxRelay(redis_world.engine).relay_once(OutboxEnqueuer(queue))

    keys = redis_world.job_keys()
    assert queue.job_ids == [rq_tasks.outbox_job_id(key) for key in keys]
    for key in keys:  # json.loads would fail on a pickle
        function, _, args, kwargs = stored_job(shared_redis, rq_tasks.outbox_job_id(key))  # type: ignore[misc]
        assert (function, args, kwargs) == ("adapters.jobs.rq_tasks.send_notifications", [key], {})


def test_the_cron_scheduler_enqueues_its_jobs_as_json_too(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    cron = rq_tasks.schedule(shared_redis, queue_name)

    cron.enqueue_jobs()

    queue = rq_tasks.queue(queue_name, shared_redis)
    functions = sorted(stored_job(shared_redis, job_id)[0] for job_id in queue.job_ids)  # type: ignore[index]
    assert functions == sorted(f"adapters.jobs.rq_tasks.{name}" for name, _ in rq_tasks.SCHEDULE)


def test_the_enqueuer_refuses_a_queue_that_would_pickle(shared_redis: redis.Redis) -> None:
    with pytest.raises(ValueError, match="JSON"):
        OutboxEnqueuer(Queue("pickling", connection=shared_redis))


def test_a_row_whose_job_cannot_be_enqueued_stays_undispatched_with_those_after_it(
    world: World,
) -> None:
    world.confirm(world.book())  # two rows
    world.confirm(world.book(12))  # two more
    taken: list[int] = []

    def queue_that_fails_on_the_third(outbox_id: int, job_key: str) -> None:
        if len(taken) == 2:
            raise QueueUnavailable("connection refused")
        taken.append(outbox_id)

    relayed = OutboxRelay(world.engine).relay_once(queue_that_fails_on_the_third)

    assert relayed == 2
    assert dispatched(world.engine) == {1: True, 2: True, 3: False, 4: False}


def test_a_failing_enqueue_marks_nothing_dispatched(world: World) -> None:
    world.confirm(world.book())

    def queue_down(outbox_id: int, job_key: str) -> None:
        raise QueueUnavailable("connection refused")

    assert OutboxRelay(world.engine).relay_once(queue_down) == 0
    assert set(dispatched(world.engine).values()) == {False}


def test_another_databases_job_with_the_same_row_id_does_not_dispatch_this_row(
    redis_world: World, shared_redis: redis.Redis, queue_name: str, tmp_path: Path
) -> None:
    # Two databases sharing one queue (the worst case: same Redis, same prefix, same queue):
    # their outbox ids are both 1 and 2, their keys are not.
    other_engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'other.sqlite3'}")
    migrate.upgrade(other_engine)
    other = World(other_engine)
    queue = rq_tasks.queue(queue_name, shared_redis)
    redis_world.confirm(redis_world.book())
    other.confirm(other.book())
    OutboxRelay(other.engine).relay_once(OutboxEnqueuer(queue))

    relayed = OutboxRelay(redis_world.engine).relay_once(OutboxEnqueuer(queue))

    assert relayed == 2
    assert sorted(queue.job_ids) == sorted(
        rq_tasks.outbox_job_id(key) for key in redis_world.job_keys() + other.job_keys()
    )
    other.engine.dispose()


def test_a_row_written_before_job_keys_existed_gets_one_then_is_relayed_on_the_next_tick(
    world: World,
) -> None:
    world.confirm(world.book())
    with world.engine.begin() as connection:  # as an older process would have written them
        connection.execute(sa.update(outbox).values(job_key=None))
    handed: list[tuple[int, str]] = []

    first = OutboxRelay(world.engine).relay_once(lambda row, key: handed.append((row, key)))
    keys = world.job_keys()
    second = OutboxRelay(world.engine).relay_once(lambda row, key: handed.append((row, key)))

    assert (first, second) == (0, 2)
    assert all(key is not None for key in keys)
    assert handed == [(1, keys[0]), (2, keys[1])]


def test_the_worker_drops_without_retrying_a_job_whose_key_names_no_row_here(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    queue = rq_tasks.queue(queue_name, shared_redis)
    stranger, malformed = new_job_key(), "not-a-key"
    OutboxEnqueuer(queue)(1, stranger)  # e.g. another deployment's, or a purged row's
    queue.enqueue(rq_tasks.send_notifications, malformed, job_id="outbox-malformed")

    with capture_json_log() as log:
        work(redis_world.context, shared_redis, queue_name, burst=True)

    assert FailedJobRegistry(queue=queue).get_job_ids() == []
    job = Job.fetch(rq_tasks.outbox_job_id(stranger), connection=shared_redis,
                    serializer=rq_tasks.SERIALIZER)
    assert job.get_status() == "finished" and job.return_value() == 0
    assert job.retries_left == len(rq_tasks.RETRY_INTERVALS)  # never retried
    lines = log.from_logger("adapters.jobs.rq_tasks")
    warnings = [(line["level"], line["message"]) for line in lines]
    assert warnings == [
        ("WARNING", f"notification job for outbox key {stranger}: no such row here, dropped"),
        ("WARNING", "notification job with a malformed outbox key 'not-a-key': dropped"),
    ]
    assert redis_world.notifier.sent == []


def test_a_pickled_job_is_never_run_by_the_worker(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    redis_world.confirm(redis_world.book())
    key = redis_world.job_keys()[-1]
    pickling = Queue(queue_name, connection=shared_redis)  # as a release that pickled did
    pickling.enqueue(rq_tasks.send_notifications, key, job_id="pickled")

    work(redis_world.context, shared_redis, queue_name, burst=True)

    assert redis_world.notifier.sent == []
    assert shared_redis.exists(Job.key_for("pickled"))
