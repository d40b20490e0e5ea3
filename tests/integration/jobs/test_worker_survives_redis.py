"""The real ``hourbook worker``, as a child process, through Redis outages and the death of a peer.

Each test owns its Redis (a throwaway ``redis-server`` without persistence, so a restart brings
it back empty), a PostgreSQL schema and localstripe; the worker sends mail to a folder. The test
process books, confirms and cancels through the service layer, as the API would, while the
worker relays the outbox, sends the emails, expires holds and settles refunds.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
import redis
import sqlalchemy as sa
import stripe

from adapters.jobs.heartbeat import JobHeartbeats
from adapters.jobs.scheduler_lease import SchedulerLease
from adapters.payments.stripe_gateway import StripeGateway
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.tables import IN_FLIGHT, outbox
from booking import services
from booking.commands import CancelBooking, RecordPaymentSucceeded
from booking.model import CancellationReason
from booking.notifications import describe_time
from tests.integration.cli.support import environment
from tests.integration.jobs.conftest import OwnRedis
from tests.integration.payments.conftest import (  # noqa: F401 - fixtures used here
    Shop,
    free_port,
    localstripe,
    stripe_client,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.stripe, pytest.mark.slow]

PREFIX = "hb-survives:"
OUTAGE_SECONDS = 12  # Redis stays down at least 10 s
EMAILS_WITHIN = 30  # seconds after Redis is back


class Worker:
    """``hourbook worker`` in a session of its own (so its cron child can be killed with it)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli.main", "worker"],
                env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def lines(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its cron child at once, as when their host dies."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a cron child left behind, if any


class Deployment:
    """One database, one Redis, localstripe, a mail folder, and the workers started on them."""

    def __init__(self, folder: Path, database_url: str, redis_server: OwnRedis, api: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.redis = redis_server
        self.engine = make_engine(database_url)
        migrate.upgrade(self.engine)
        self.mail = folder / "mail"
        self.gateway = StripeGateway("sk_test_hourbook", api_base=api, max_network_retries=1)
        self.shop = Shop(self.engine, self.gateway)
        self.api = api
        self.workers: list[Worker] = []
        self.booked = 0

    def env(self) -> dict[str, str]:
        return environment(
            self.folder,
            HOURBOOK_ENV="development",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url,
            HOURBOOK_REDIS_PREFIX=PREFIX,
            HOURBOOK_SECRET_KEY="worker-test-secret-" + "x" * 24,
            HOURBOOK_MAIL_DIR=str(self.mail),
            HOURBOOK_HOLD_MINUTES="1",
            HOURBOOK_EXPIRE_HOLDS_EVERY_SECONDS="5",
            HOURBOOK_SETTLE_REFUNDS_EVERY_SECONDS="5",
            STRIPE_API_KEY="sk_test_hourbook",
            STRIPE_API_BASE=self.api,
            STRIPE_WEBHOOK_SECRET="whsec_worker_test_" + "x" * 24,
            HOURBOOK_LOG_LEVEL="info",
        )

    def start_worker(self) -> Worker:
        worker = Worker(self.env(), self.folder / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.engine.dispose()

    # -- what the API would do ------------------------------------------------------------

    def next_slot(self, first_day: int = 3) -> tuple[int, int]:
        """A day and an hour no other booking of this test uses (days ahead: no reminders)."""
        self.booked += 1
        return first_day + self.booked // 7, 10 + self.booked % 7

    def confirmed_booking(self) -> UUID:
        days, hour = self.next_slot()
        receipt = self.shop.book(days, hour)
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=str(receipt.payment_intent_id),
                amount_received_cents=receipt.total_price_cents, currency=receipt.currency,
            ),
            uow=self.shop.uow, clock=self.shop.clock,
        )
        return receipt.booking_id

    def stale_hold(self) -> UUID:
        """A hold opened ten minutes ago and never paid: the worker must end it."""
        days, hour = self.next_slot(first_day=30)
        real_now = self.shop.clock.current
        self.shop.clock.current = real_now - timedelta(minutes=10)
        try:
            return self.shop.book(days, hour).booking_id
        finally:
            self.shop.clock.current = real_now

    def refund_owed(self, client: stripe.StripeClient) -> UUID:
        """A paid booking the professional cancelled while the provider was unreachable."""
        days, hour = self.next_slot()
        receipt = self.shop.book(days, hour)
        intent = str(receipt.payment_intent_id)
        client.v1.payment_intents.update(intent, params={"payment_method": "pm_card_visa"})
        client.v1.payment_intents.confirm(intent)
        services.record_payment_succeeded(
            RecordPaymentSucceeded(
                payment_intent_id=intent, amount_received_cents=receipt.total_price_cents,
                currency=receipt.currency,
            ),
            uow=self.shop.uow, clock=self.shop.clock,
        )
        unreachable = StripeGateway(
            "sk_test_hourbook", api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0
        )
        services.cancel_booking(
            CancelBooking(booking_id=receipt.booking_id, reason=CancellationReason.PROFESSIONAL),
            uow=self.shop.uow, payments=unreachable, clock=self.shop.clock,
        )
        assert self.shop.booking(receipt.booking_id).refund_outstanding_cents == 6000
        return receipt.booking_id

    def break_mail(self) -> None:
        """The mail folder becomes a file: every send fails (an OSError, retried) until mended."""
        self.mail.rename(self.folder / "mail-kept")
        self.mail.write_text("not a folder")

    def mend_mail(self) -> None:
        self.mail.unlink()
        (self.folder / "mail-kept").rename(self.mail)

    # -- what the test looks at -----------------------------------------------------------

    def in_flight(self) -> int:
        """Outbox rows handed to Redis whose job has not finished."""
        with self.engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(outbox).where(sa.text(IN_FLIGHT))
            return int(connection.scalar(query) or 0)

    def emails(self) -> Counter[tuple[str, str]]:
        """(recipient, subject) of every email written so far, with how often."""
        found: Counter[tuple[str, str]] = Counter()
        for path in self.mail.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            subject = " ".join(str(message["Subject"]).split())  # unfolded
            found[(str(message["To"]), subject)] += 1
        return found

    def confirmation_emails(self, booking_id: UUID) -> set[tuple[str, str]]:
        when = describe_time(self.shop.booking(booking_id), self.shop.professional)
        return {(to, subject) for to, subject in self.emails()
                if subject.startswith(("Booking confirmed", "New booking"))
                and subject.endswith(when)}

    def status(self, booking_id: UUID) -> str:
        return self.shop.booking(booking_id).status.value


@pytest.fixture
def own_redis_url() -> Iterator[OwnRedis]:
    """A port for a Redis the test starts (and kills) itself; stopped at the end."""
    server = OwnRedis()
    yield server
    server.stop()


@pytest.fixture
def deployment(
    tmp_path: Path, postgres_url: str, own_redis_url: OwnRedis, localstripe: str  # noqa: F811
) -> Iterator[Deployment]:
    built = Deployment(tmp_path, postgres_url, own_redis_url, localstripe)
    yield built
    built.close()


def kill(server: OwnRedis) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    server.process = None


def wait_for(condition: Callable[[], bool], seconds: float, what: str, *workers: Worker) -> float:
    """Seconds it took ``condition`` to hold; fails (with the workers' logs) if it never does."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    logs = "\n".join(worker.lines()[-4000:] for worker in workers)
    pytest.fail(f"{what}: not within {seconds:.0f} s\n{logs}")


def heartbeats(server: OwnRedis) -> dict[str, float]:
    client = redis.Redis.from_url(server.url)
    try:
        return JobHeartbeats(client, prefix=PREFIX).read()
    except redis.ConnectionError:
        return {}
    finally:
        client.close()


def relayed_since(server: OwnRedis, moment: float) -> bool:
    return heartbeats(server).get("relay_outbox", 0) > moment


def warnings_naming_redis(worker: Worker) -> list[str]:
    return [line for line in worker.lines().splitlines()
            if '"level": "WARNING"' in line and "Redis is unreachable" in line]


def assert_each_email_once(deployment: Deployment, confirmed: list[UUID]) -> None:
    sent = deployment.emails()
    assert [key for key, times in sent.items() if times > 1] == []
    for booking_id in confirmed:
        assert len(deployment.confirmation_emails(booking_id)) == 2, booking_id


def test_the_worker_outlives_a_redis_restart_in_the_middle_of_confirmations(
    deployment: Deployment, stripe_client: stripe.StripeClient  # noqa: F811
) -> None:
    deployment.redis.start()
    worker = deployment.start_worker()
    started = time.time()
    wait_for(lambda: relayed_since(deployment.redis, started), 90, "the worker relays", worker)
    confirmed = [deployment.confirmed_booking() for _ in range(3)]
    wait_for(lambda: all(len(deployment.confirmation_emails(b)) == 2 for b in confirmed),
             30, "the first confirmations' emails", worker)
    # Jobs that Redis holds when it dies: handed on, tried, failed on the mail folder, and
    # waiting there for their retry.
    deployment.break_mail()
    confirmed += [deployment.confirmed_booking() for _ in range(2)]
    wait_for(lambda: deployment.in_flight() >= 2 and "notifications failed" in worker.lines(),
             30, "jobs handed to Redis and waiting for a retry", worker)
    confirmed.append(deployment.confirmed_booking())

    kill(deployment.redis)  # while bookings are being confirmed: some were, more follow
    killed_at = time.monotonic()
    lost = deployment.in_flight()
    confirmed += [deployment.confirmed_booking() for _ in range(3)]
    owed = deployment.refund_owed(stripe_client)
    deployment.mend_mail()
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - killed_at)))
    assert worker.alive(), worker.lines()[-4000:]
    deployment.redis.start()  # back, and empty: the jobs it held are gone
    confirmed += [deployment.confirmed_booking() for _ in range(2)]
    stale = deployment.stale_hold()  # last: one unpaid hold per client and professional

    wait_for(
        lambda: all(len(deployment.confirmation_emails(b)) == 2 for b in confirmed),
        EMAILS_WITHIN, "every confirmation's two emails", worker,
    )
    wait_for(lambda: deployment.status(stale) == "cancelled", 30, "the hold expires", worker)
    wait_for(lambda: deployment.shop.booking(owed).refund_outstanding_cents == 0, 30,
             "the refund is paid", worker)
    time.sleep(4)  # two more relay ticks: nothing is sent twice
    assert_each_email_once(deployment, confirmed)
    assert lost >= 2
    assert worker.lines().count("was lost by the queue; handed on again") >= lost
    assert worker.alive()
    assert warnings_naming_redis(worker) != []


def test_a_worker_started_while_redis_is_down_waits_for_it_and_then_does_everything(
    deployment: Deployment, stripe_client: stripe.StripeClient  # noqa: F811
) -> None:
    worker = deployment.start_worker()  # no Redis on its port yet
    confirmed = [deployment.confirmed_booking() for _ in range(3)]
    owed = deployment.refund_owed(stripe_client)
    stale = deployment.stale_hold()  # last: one unpaid hold per client and professional
    time.sleep(OUTAGE_SECONDS)
    assert worker.alive(), worker.lines()[-4000:]

    deployment.redis.start()

    wait_for(
        lambda: all(len(deployment.confirmation_emails(b)) == 2 for b in confirmed),
        EMAILS_WITHIN, "every confirmation's two emails", worker,
    )
    wait_for(lambda: deployment.status(stale) == "cancelled", 30, "the hold expires", worker)
    wait_for(lambda: deployment.shop.booking(owed).refund_outstanding_cents == 0, 30,
             "the refund is paid", worker)
    time.sleep(4)
    assert_each_email_once(deployment, confirmed)
    assert worker.alive()
    assert warnings_naming_redis(worker) != []
    worker.process.terminate()
    assert worker.process.wait(30) == 0  # a stop asked for is a clean exit


def enqueued_periodic_jobs(worker: Worker) -> int:
    return worker.lines().count("Enqueued job relay_outbox")


def lease_holder(server: OwnRedis) -> str | None:
    client = redis.Redis.from_url(server.url)
    try:
        return SchedulerLease(client, prefix=PREFIX).current_holder()
    finally:
        client.close()


def test_of_two_workers_one_schedules_and_the_other_takes_over_when_it_is_killed(
    deployment: Deployment,
) -> None:
    deployment.redis.start()
    first, second = deployment.start_worker(), deployment.start_worker()
    started = time.time()
    wait_for(lambda: relayed_since(deployment.redis, started), 90, "a worker relays",
             first, second)
    time.sleep(12)  # both schedulers have asked for the lease by now (they ask every 10 s)

    counts = [enqueued_periodic_jobs(first), enqueued_periodic_jobs(second)]
    assert sorted(count > 0 for count in counts) == [False, True], counts
    active, standby = (first, second) if counts[0] else (second, first)
    assert f":{active.process.pid}:" in str(lease_holder(deployment.redis))  # host:pid:random

    active.kill()
    stale = deployment.stale_hold()

    took = wait_for(lambda: deployment.status(stale) == "cancelled", 120,
                    "the other worker expires the hold", standby)
    assert took < 60
    assert enqueued_periodic_jobs(standby) > 0
    assert "holds the lease" in standby.lines()
    assert f":{standby.process.pid}:" in str(lease_holder(deployment.redis))


def cron_child(worker: Worker) -> int:
    """The pid of the worker's cron scheduler: its child started by multiprocessing's spawn."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == worker.process.pid and b"spawn_main" in command:
            return int(entry.name)
    pytest.fail(f"no cron child of {worker.process.pid}\n{worker.lines()[-4000:]}")


def test_a_cron_scheduler_that_dies_is_started_again_by_its_worker(
    deployment: Deployment,
) -> None:
    deployment.redis.start()
    worker = deployment.start_worker()
    started = time.time()
    wait_for(lambda: relayed_since(deployment.redis, started), 90, "the worker relays", worker)
    child = cron_child(worker)

    os.kill(child, signal.SIGKILL)
    killed = time.time()

    wait_for(lambda: f"the cron scheduler (pid {child}) exited" in worker.lines(), 15,
             "a warning about the dead scheduler", worker)
    wait_for(lambda: relayed_since(deployment.redis, killed + 1), 60,
             "the relay runs again", worker)
    assert cron_child(worker) != child
    assert worker.alive()
    stale = deployment.stale_hold()
    wait_for(lambda: deployment.status(stale) == "cancelled", 30, "the hold expires", worker)
