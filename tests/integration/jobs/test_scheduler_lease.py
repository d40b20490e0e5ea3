"""The scheduler lease, the leased cron loop and the periodic jobs' heartbeats, on real Redis."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue

from adapters.jobs import rq_tasks
from adapters.jobs.backlog import Backlog
from adapters.jobs.heartbeat import JobHeartbeats
from adapters.jobs.periodic_scheduler import LeasedScheduler
from adapters.jobs.scheduler_lease import SchedulerLease
from entrypoints.metrics import build_metrics, exposition
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import World


def lease(client: redis.Redis, prefix: str, holder: str, seconds: float = 30) -> SchedulerLease:
    return SchedulerLease(client, prefix=prefix, holder=holder, seconds=seconds)


def test_one_holder_at_a_time_and_the_holder_renews(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    first, second = lease(redis_client, redis_prefix, "a"), lease(redis_client, redis_prefix, "b")

    assert [first.hold(), second.hold(), first.hold(), second.hold()] == [True, False, True, False]
    assert first.current_holder() == "a"
    assert first.key.startswith(redis_prefix)


def test_an_expired_lease_goes_to_the_next_scheduler_that_asks(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    dead = lease(redis_client, redis_prefix, "dead", seconds=0.2)
    assert dead.hold()

    time.sleep(0.3)  # the holder died: nobody renewed

    assert lease(redis_client, redis_prefix, "heir").hold()
    assert not dead.hold()  # back from the dead, it does not take it back


def test_a_lease_wiped_from_redis_is_taken_again(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    holder = lease(redis_client, redis_prefix, "a")
    holder.hold()

    redis_client.delete(holder.key)  # what a flush or a restart without persistence does

    assert holder.current_holder() is None
    assert holder.hold()
    assert holder.current_holder() == "a"


def test_release_gives_up_only_ones_own_lease(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    first, second = lease(redis_client, redis_prefix, "a"), lease(redis_client, redis_prefix, "b")
    first.hold()

    second.release()
    assert first.current_holder() == "a"
    first.release()

    assert second.hold()


def test_of_two_leased_schedulers_only_the_holder_enqueues(
    shared_redis: redis.Redis, redis_prefix: str, queue_name: str
) -> None:
    schedulers = [
        LeasedScheduler(rq_tasks.schedule(shared_redis, queue_name),
                        lease(shared_redis, redis_prefix, name))
        for name in ("a", "b")
    ]

    waits = [scheduler.tick() for scheduler in schedulers]

    assert [scheduler.active for scheduler in schedulers] == [True, False]
    assert Queue(queue_name, connection=shared_redis).count == len(rq_tasks.SCHEDULE)
    assert waits[1] == schedulers[1].renew_every  # the stand-by asks again later
    schedulers[0].step_down()
    schedulers[1].tick()
    assert schedulers[1].active


def test_a_periodic_job_that_succeeds_records_its_heartbeat_which_metrics_export(
    redis_world: World, shared_redis: redis.Redis, redis_prefix: str, queue_name: str
) -> None:
    heartbeats = JobHeartbeats(shared_redis, prefix=redis_prefix)
    before = time.time()
    rq_tasks.schedule(shared_redis, queue_name, {"expire_holds": 5}).enqueue_jobs()

    work(redis_world.context, shared_redis, queue_name, burst=True, heartbeats=heartbeats)

    last = heartbeats.read()
    assert set(last) == {name for name, _ in rq_tasks.SCHEDULE}
    assert min(last.values()) >= before
    scrape = exposition(build_metrics(EmptyBacklog(), heartbeats))[0].decode()
    exported = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in scrape.splitlines()
        if line.startswith("hourbook_job_last_success_timestamp_seconds{")
    }
    assert exported == pytest.approx(last)


def test_jobs_enqueued_by_hand_record_no_heartbeat(
    redis_world: World, shared_redis: redis.Redis, redis_prefix: str, queue_name: str
) -> None:
    heartbeats = JobHeartbeats(shared_redis, prefix=redis_prefix)
    Queue(queue_name, connection=shared_redis).enqueue(rq_tasks.expire_holds)

    work(redis_world.context, shared_redis, queue_name, burst=True, heartbeats=heartbeats)

    assert heartbeats.read() == {}


class EmptyBacklog:
    def read(self) -> Backlog:
        return Backlog(queued=0, failed=0, undispatched=0)
