"""An outbox row's life after Redis lost its job: done rows stay done, lost jobs are handed on
again, and the sent log in the database keeps every email to one copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import redis
import sqlalchemy as sa
from rq.job import Job

from adapters.jobs import dead_letters, rq_tasks, tasks
from adapters.jobs.inline_runner import InlineJobRunner
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.jobs.rq_tasks import OutboxEnqueuer, outbox_job_id
from adapters.notifications.sent_log import CachedSentLog, SqlSentLog
from adapters.sql import migrate
from adapters.sql.tables import outbox, sent_emails
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import World
from tests.integration.payments.conftest import free_port

LEASE = 300


def rows(engine: sa.Engine) -> dict[int, sa.Row]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(outbox).order_by(outbox.c.id))
        return {row.id: row for row in found}


def backdate(engine: sa.Engine, ids: list[int], seconds: float) -> None:
    """As if the rows had been handed on ``seconds`` ago."""
    then = datetime.now(UTC) - timedelta(seconds=seconds)
    with engine.begin() as connection:
        connection.execute(sa.update(outbox).where(outbox.c.id.in_(ids)).values(dispatched_at=then))


def job_exists(connection: redis.Redis, job_key: str) -> bool:
    return bool(Job.exists(outbox_job_id(job_key), connection=connection))


def lose_job(connection: redis.Redis, job_key: str) -> None:
    """What a Redis restarted empty does to a job."""
    Job.fetch(outbox_job_id(job_key), connection=connection,
              serializer=rq_tasks.SERIALIZER).delete()  # fmt: skip
    assert not job_exists(connection, job_key)


@pytest.fixture
def durable_world(world: World, shared_redis: redis.Redis, queue_name: str) -> World:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.sent_log = SqlSentLog(world.engine)
    return world


@pytest.mark.redis
def test_the_relay_re_hands_only_a_dispatched_row_whose_job_is_gone_and_not_done_or_dead(
    durable_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = durable_world
    for hour in (10, 12, 14):
        world.confirm(world.book(hour))
    queue = rq_tasks.queue(queue_name, shared_redis)
    enqueuer = OutboxEnqueuer(queue)
    relay = OutboxRelay(world.engine)
    assert relay.relay_once(enqueuer) == len(rows(world.engine)) >= 5
    lost, alive, done, dead, recent = list(rows(world.engine))[:5]
    keys = {row_id: row.job_key for row_id, row in rows(world.engine).items()}
    backdate(world.engine, [lost, alive, done, dead], 60)
    for row_id in (lost, done, dead, recent):
        lose_job(shared_redis, keys[row_id])
    relay.mark_done(done)
    dead_letters.give_up(world.engine, dead, ValueError("poison"))
    alive_enqueued = Job.fetch(outbox_job_id(keys[alive]), connection=shared_redis,
                               serializer=rq_tasks.SERIALIZER).enqueued_at  # fmt: skip

    assert relay.rehand_lost(enqueuer, enqueuer.exists) == 1

    assert job_exists(shared_redis, keys[lost])
    assert [job_exists(shared_redis, keys[i]) for i in (done, dead, recent)] == [False] * 3
    alive_job = Job.fetch(outbox_job_id(keys[alive]), connection=shared_redis,
                          serializer=rq_tasks.SERIALIZER)  # fmt: skip
    assert alive_job.enqueued_at == alive_enqueued  # left alone
    assert relay.rehand_lost(enqueuer, enqueuer.exists) == 0  # not asked again at once
    work(world.context, shared_redis, queue_name, burst=True)
    after = rows(world.engine)
    assert after[lost].done_at is not None
    assert after[alive].done_at is not None
    assert after[recent].done_at is None  # its grace has not passed: handed on later
    assert after[dead].done_at is None and after[dead].failed_at is not None


@pytest.mark.redis
def test_a_job_run_again_after_redis_lost_everything_sends_no_email_twice(
    durable_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = durable_world
    world.confirm(world.book())
    queue = rq_tasks.queue(queue_name, shared_redis)
    enqueuer = OutboxEnqueuer(queue)
    relay = OutboxRelay(world.engine)
    relay.relay_once(enqueuer)
    confirmed = max(rows(world.engine))
    # The job sent its emails, and Redis died before the job finished: all its keys are gone.
    first = tasks.send_notifications(world.context, confirmed)
    for key in shared_redis.scan_iter(match=f"*{queue_name}*"):
        shared_redis.delete(key)
    for row in rows(world.engine).values():
        if Job.exists(outbox_job_id(row.job_key), connection=shared_redis):
            lose_job(shared_redis, row.job_key)
    backdate(world.engine, list(rows(world.engine)), 60)
    world.sent_log = SqlSentLog(world.engine)  # another worker process: only the database knows

    assert relay.rehand_lost(enqueuer, enqueuer.exists) == len(rows(world.engine))
    work(world.context, shared_redis, queue_name, burst=True)

    assert first == 2
    assert sorted(world.recipients()) == ["ada@example.com", "cleo@example.com"]
    assert all(row.done_at is not None for row in rows(world.engine).values())


def test_the_sent_log_claims_once_releases_takes_over_a_lapsed_claim_and_never_resends(
    engine: sa.Engine,
) -> None:
    now = [datetime(2026, 11, 30, 9, tzinfo=UTC)]
    log = SqlSentLog(engine, lease_seconds=LEASE, now=lambda: now[0])

    assert log.claim("outbox-a:0:ada@example.com")
    assert not log.claim("outbox-a:0:ada@example.com")  # being sent
    log.release("outbox-a:0:ada@example.com")  # the send failed
    assert log.claim("outbox-a:0:ada@example.com")  # the retry sends
    now[0] += timedelta(seconds=LEASE - 1)
    assert not log.claim("outbox-a:0:ada@example.com")
    now[0] += timedelta(seconds=2)
    assert log.claim("outbox-a:0:ada@example.com")  # the claimer died; its lease lapsed
    log.mark_sent("outbox-a:0:ada@example.com")
    log.release("outbox-a:0:ada@example.com")  # a release after sending forgets nothing
    now[0] += timedelta(days=10)
    assert not log.claim("outbox-a:0:ada@example.com")
    assert log.was_sent("outbox-a:0:ada@example.com")
    long_key = "outbox-b:1:" + "x" * 300 + "@example.com"
    assert log.claim(long_key)
    assert not log.claim(long_key)
    assert not log.was_sent("outbox-b:0:ada@example.com")


def test_the_purge_forgets_sent_log_keys_after_thirty_days(world: World) -> None:
    now = world.clock.now()
    old = SqlSentLog(world.engine, now=lambda: now - timedelta(days=31))
    recent = SqlSentLog(world.engine, now=lambda: now - timedelta(days=29))
    old.claim("old")
    old.mark_sent("old")
    recent.claim("recent")
    recent.mark_sent("recent")

    tasks.purge_expired_records(world.context)

    with world.engine.connect() as connection:
        assert list(connection.scalars(sa.select(sent_emails.c.key))) == ["recent"]


def test_the_in_process_runner_marks_each_row_done(world: World) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.sent_log = SqlSentLog(world.engine)
    world.confirm(world.book())

    InlineJobRunner(world.context).run_pending()

    assert all(row.done_at is not None and row.dispatched_at is not None
               for row in rows(world.engine).values())  # fmt: skip
    assert sorted(world.recipients()) == ["ada@example.com", "cleo@example.com"]


@pytest.mark.redis
def test_the_redis_cache_in_front_of_the_sent_log_may_be_lost_or_down_and_still_nothing_resends(
    engine: sa.Engine, shared_redis: redis.Redis
) -> None:
    prefix = f"hourbook-test:{uuid4().hex}:"
    truth = SqlSentLog(engine)
    log = CachedSentLog(truth, shared_redis, prefix=prefix)
    assert log.claim("outbox-c:0:ada@example.com")
    log.mark_sent("outbox-c:0:ada@example.com")
    assert shared_redis.get(f"{prefix}sent:outbox-c:0:ada@example.com") == b"sent"

    with engine.begin() as connection:  # the database restored from before the send
        connection.execute(sa.delete(sent_emails))
    assert not log.claim("outbox-c:0:ada@example.com")  # Redis still knows
    truth.mark_sent("outbox-c:0:ada@example.com")
    shared_redis.delete(f"{prefix}sent:outbox-c:0:ada@example.com")  # Redis back empty
    assert not log.claim("outbox-c:0:ada@example.com")  # the database knows
    down = redis.Redis(port=free_port(), socket_connect_timeout=1)
    while_down = CachedSentLog(truth, down, prefix=prefix)
    assert not while_down.claim("outbox-c:0:ada@example.com")
    assert while_down.claim("outbox-d:0:ada@example.com")
    while_down.mark_sent("outbox-d:0:ada@example.com")
    assert truth.was_sent("outbox-d:0:ada@example.com")


def test_rows_dispatched_before_revision_0010_are_taken_as_done_and_never_re_handed(
    bare_engine: sa.Engine,
) -> None:
    migrate.upgrade(bare_engine, "0009")
    then = datetime.now(UTC) - timedelta(hours=1)
    with bare_engine.begin() as connection:
        for job_key, dispatched_at in (("a" * 32, then), ("b" * 32, None)):
            connection.execute(
                outbox.insert().values(  # only the columns 0009 has
                    event_type="BookingConfirmed", payload="{}", occurred_at=then,
                    created_at=then, dispatched_at=dispatched_at, job_key=job_key,
                )
            )  # fmt: skip

    migrate.upgrade(bare_engine)

    done = {row.job_key: row.done_at is not None for row in rows(bare_engine).values()}
    assert done == {"a" * 32: True, "b" * 32: False}
    missing = OutboxRelay(bare_engine).rehand_lost(lambda *_: pytest.fail("re-handed"),
                                                   lambda _key: False)  # fmt: skip
    assert missing == 0
