"""Fixtures for the outbox and the jobs: a booking world on a real database, Redis, a queue.

Queue names and key prefixes are unique per test (database 14 of the shared Redis); the outage
test starts a throwaway ``redis-server`` of its own, never touching the shared one.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
import redis
import sqlalchemy as sa

from adapters.jobs.tasks import JobContext
from adapters.memory import InMemoryIdempotencyStore, InMemoryPayments, ListNotifier
from adapters.notifications.sent_log import InMemorySentLog, RedisSentLog, SentLog
from adapters.sql.tables import outbox
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.commands import RecordPaymentSucceeded
from booking.receipts import BookingReceipt
from tests.factories import MONDAY, FixedClock, at
from tests.integration.conftest import service_unavailable
from tests.integration.payments.conftest import free_port
from tests.integration.support import register, request


@dataclass
class World:
    engine: sa.Engine
    sent_log: SentLog = field(default_factory=InMemorySentLog)
    clock: FixedClock = field(default_factory=FixedClock)
    payments: InMemoryPayments = field(default_factory=InMemoryPayments)
    notifier: ListNotifier = field(default_factory=ListNotifier)

    def __post_init__(self) -> None:
        self.professional, self.client = register(self.engine)
        self.idempotency = InMemoryIdempotencyStore(self.clock)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    @property
    def context(self) -> JobContext:
        return JobContext(
            engine=self.engine, uow=self.uow, payments=self.payments, notifier=self.notifier,
            clock=self.clock, sent_log=self.sent_log,
        )

    def book(self, hour: int = 10) -> BookingReceipt:
        return services.create_booking(
            request(self.professional, self.client, at(MONDAY, hour), timedelta(hours=1)),
            uow=self.uow(), payments=self.payments, idempotency=self.idempotency,
            clock=self.clock,
        )

    def confirm(self, receipt: BookingReceipt) -> None:
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=str(receipt.payment_intent_id),
                amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
            ),
            uow=self.uow(), clock=self.clock,
        )

    def recipients(self) -> list[str]:
        return sorted(email.to for email in self.notifier.sent)

    def job_keys(self) -> list[str]:
        """The outbox rows' job keys, oldest row first."""
        with self.engine.connect() as connection:
            return list(connection.scalars(sa.select(outbox.c.job_key).order_by(outbox.c.id)))

    def booking_status(self, booking_id: UUID) -> str:
        return services.get_booking(booking_id, uow=self.uow()).status.value


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return World(engine)


@pytest.fixture
def shared_redis(redis_client: redis.Redis) -> redis.Redis:
    """The Redis that RQ and its worker share (the integration suite's own client)."""
    return redis_client


@pytest.fixture
def queue_name(shared_redis: redis.Redis) -> Iterator[str]:
    name = f"hourbook-test-{uuid4().hex}"
    yield name
    for key in shared_redis.scan_iter(match=f"*{name}*"):
        shared_redis.delete(key)


@pytest.fixture
def redis_world(world: World, shared_redis: redis.Redis) -> Iterator[World]:
    prefix = f"hourbook-test:{uuid4().hex}:"
    world.sent_log = RedisSentLog(shared_redis, prefix=prefix)
    yield world
    for key in shared_redis.scan_iter(match=f"{prefix}*"):
        shared_redis.delete(key)


class MailServerDown:
    """A notifier whose every send fails, as with the mail server unreachable."""

    def send(self, email: object) -> None:
        raise OSError("mail server down")


class OwnRedis:
    """A throwaway redis-server (no persistence) that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            service_unavailable("redis-server", "install redis", FileNotFoundError())
        self.process = subprocess.Popen(  # noqa: S603 - a fixed local executable
            [str(executable), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()
