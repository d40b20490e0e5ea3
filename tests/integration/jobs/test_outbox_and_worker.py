"""The outbox relay and the RQ jobs with a real Redis and a real (burst) worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry

from adapters.jobs import rq_tasks, tasks
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.jobs.rq_tasks import OutboxEnqueuer
from adapters.notifications.sent_log import RedisSentLog
from adapters.sql.rows import new_job_key
from adapters.sql.tables import outbox
from booking import services
from booking.commands import CancelBooking
from booking.model import CancellationReason
from entrypoints.worker.main import work
from tests.integration.jobs.conftest import MailServerDown, OwnRedis, World

pytestmark = pytest.mark.redis


def undispatched(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(outbox.c.dispatched_at.is_(None))
        ).scalar_one()


def test_a_confirmation_reaches_client_and_professional_once(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = redis_world
    world.confirm(world.book())
    queue = rq_tasks.queue(queue_name, shared_redis)

    relayed = OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    work(world.context, shared_redis, queue_name, burst=True)

    assert relayed == 2  # BookingRequested (no email) and BookingConfirmed
    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
    assert all(email.attachments[0][1] == "text/calendar" for email in world.notifier.sent)
    assert undispatched(world.engine) == 0


def test_relaying_and_working_again_sends_nothing_more(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = redis_world
    world.confirm(world.book())
    queue = rq_tasks.queue(queue_name, shared_redis)
    OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    work(world.context, shared_redis, queue_name, burst=True)

    with world.engine.begin() as connection:  # as if the relay crashed before its commit
        connection.execute(sa.update(outbox).values(dispatched_at=None))
    OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    for outbox_id in outbox_ids(world.engine):  # and as if each job ran once more
        tasks.send_notifications(world.context, outbox_id)
    work(world.context, shared_redis, queue_name, burst=True)

    assert len(world.notifier.sent) == 2


def outbox_ids(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(outbox.c.id)))


def test_with_redis_down_during_a_confirmation_exactly_one_email_goes_out_after_restart(
    world: World, own_redis: OwnRedis
) -> None:
    connection = redis.Redis.from_url(own_redis.url, socket_timeout=1, socket_connect_timeout=1)
    world.sent_log = RedisSentLog(connection)
    queue = rq_tasks.queue("hourbook", connection)
    receipt = world.book()
    OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))  # the hold's event

    own_redis.stop()
    world.confirm(receipt)  # the webhook's commit writes the event to the outbox
    relayed_while_down = OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    own_redis.start()
    relayed_after = OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    OutboxRelay(world.engine).relay_once(OutboxEnqueuer(queue))
    work(world.context, connection, "hourbook", burst=True)

    assert (relayed_while_down, relayed_after) == (0, 1)
    assert world.recipients() == ["ada@example.com", "cleo@example.com"]
    connection.close()


def test_a_job_that_keeps_failing_is_retried_then_kept_in_the_failed_registry(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = redis_world
    world.notifier = MailServerDown()  # type: ignore[assignment]
    world.confirm(world.book())
    queue = rq_tasks.queue(queue_name, shared_redis)
    confirmed = world.job_keys()[-1]
    OutboxEnqueuer(queue)(2, confirmed)  # its emails cannot be sent
    job_id = rq_tasks.outbox_job_id(confirmed)

    job = Job.fetch(job_id, connection=shared_redis, serializer=rq_tasks.SERIALIZER)
    assert job.retries_left == len(rq_tasks.RETRY_INTERVALS)
    assert job.retry_intervals == rq_tasks.RETRY_INTERVALS
    assert sum(rq_tasks.RETRY_INTERVALS) > 6 * 3600  # a provider outage of an afternoon
    job.retries_left = 0  # the retries would take hours; the last attempt fails for good
    job.save()
    work(world.context, shared_redis, queue_name, burst=True)

    failed = FailedJobRegistry(queue=queue)
    assert failed.get_job_ids() == [job_id]
    result = Job.fetch(job_id, connection=shared_redis,
                       serializer=rq_tasks.SERIALIZER).latest_result()
    assert result is not None and "mail server down" in str(result.exc_string)


def test_a_handed_on_row_is_not_enqueued_twice(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    queue = rq_tasks.queue(queue_name, shared_redis)
    key = new_job_key()

    OutboxEnqueuer(queue)(7, key)
    OutboxEnqueuer(queue)(7, key)

    assert queue.job_ids == [rq_tasks.outbox_job_id(key)]


def test_rqs_cron_scheduler_enqueues_the_periodic_jobs_which_relay_and_expire(
    redis_world: World, shared_redis: redis.Redis, queue_name: str
) -> None:
    world = redis_world
    world.confirm(world.book(10))
    stale = world.book(12)
    world.clock.advance(timedelta(minutes=16))
    cron = rq_tasks.schedule(shared_redis, queue_name)

    cron.enqueue_jobs()
    work(world.context, shared_redis, queue_name, burst=True)

    assert {job.func_name.rsplit(".", 1)[1]: job.interval for job in cron.get_jobs()} == dict(
        rq_tasks.SCHEDULE
    )
    assert world.booking_status(stale.booking_id) == "cancelled"
    subjects = sorted(email.subject.split(":")[0] for email in world.notifier.sent)
    assert subjects == [  # the expired hold's email follows with the next relay
        "Booking confirmed",
        "New booking",
        "Reminder",  # the confirmed booking starts within 24 h
        "Reminder",
    ]


def test_a_refund_that_failed_at_cancellation_is_paid_by_the_settle_job(world: World) -> None:
    receipt = world.book()
    world.confirm(receipt)
    world.payments.unavailable = True
    services.cancel_booking(
        CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
        uow=world.uow(), payments=world.payments, clock=world.clock,
    )
    assert tasks.settle_refunds(world.context) == 0

    world.payments.unavailable = False

    assert tasks.settle_refunds(world.context) == 1
    assert tasks.settle_refunds(world.context) == 0
    assert world.payments.refunds == [(receipt.payment_intent_id, 6000)]


def test_reminders_go_out_once_for_bookings_starting_within_the_lead_time(world: World) -> None:
    world.confirm(world.book(10))
    world.book(12)  # pending: no reminder

    first = tasks.send_reminders(world.context)
    second = tasks.send_reminders(world.context)

    assert (first, second) == (2, 0)
    assert all(email.subject.startswith("Reminder") for email in world.notifier.sent)


def test_the_purge_job_forgets_old_dispatched_rows(world: World) -> None:
    world.confirm(world.book())
    OutboxRelay(world.engine).relay_once(lambda outbox_id, job_key: None)
    world.clock.current = datetime.now(UTC) + timedelta(days=31)  # rows are stamped in real time

    purged = tasks.purge_expired_records(world.context)

    assert purged == 2
    assert undispatched(world.engine) == 0
