"""Poison messages: a notification job that retrying cannot cure becomes a dead letter after
a few quick attempts, while one whose dependency is down keeps its long retry. Dead letters show
in /metrics and in ``hourbook jobs failed``, and ``hourbook jobs requeue`` runs them again.

The poison test runs the real ``hourbook worker`` (RQ, its scheduler doing the retries) as a
child process, on a queue and key prefix of its own in the shared Redis."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask.testing import FlaskClient

from adapters.jobs import dead_letters, rq_tasks, tasks
from adapters.jobs.inline_runner import InlineJobRunner
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.memory import ListNotifier
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.event_codec import BadEventPayload
from adapters.sql.tables import outbox
from booking.errors import InvalidInput, PaymentUnavailable, StorageUnavailable
from entrypoints.api.app import create_app
from entrypoints.config import Environment, Settings
from tests.integration.api.test_metrics import Scrape
from tests.integration.cli.support import environment, hourbook
from tests.integration.conftest import REDIS_URL
from tests.integration.jobs.conftest import World
from tests.integration.jobs.test_inline_runner import BrokenMail

WAIT_SECONDS = 90  # generous: the bound itself is 3 attempts, 2 s and 10 s apart


def add_poison_row(engine: sa.Engine) -> int:
    """A BookingConfirmed event whose payload lost its fields: it can never be decoded."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.insert(outbox)
                .values(
                    event_type="BookingConfirmed", payload="{}", occurred_at=now, created_at=now
                )
                .returning(outbox.c.id)
            ).scalar_one()
        )


def wait_for(what: str, check: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT_SECONDS} s: {what}")
        time.sleep(0.1)


@dataclass
class Deployment:
    """A database schema, a queue and a key prefix of the test's own, and a mail folder."""

    database_url: str
    queue: str
    prefix: str
    folder: Path

    @property
    def mail(self) -> Path:
        return self.folder / "mail"

    def env(self) -> dict[str, str]:
        return environment(
            self.folder, DATABASE_URL=self.database_url, REDIS_URL=REDIS_URL,
            HOURBOOK_REDIS_PREFIX=self.prefix, HOURBOOK_MAIL_DIR=str(self.mail),
            HOURBOOK_SECRET_KEY="dead-letter-secret-" * 3, HOURBOOK_LOG_LEVEL="warning",
        )  # fmt: skip

    def settings(self) -> Settings:
        return Settings(
            env=Environment.TEST, database_url=self.database_url, redis_url=REDIS_URL,
            redis_prefix=self.prefix, secret_key="dead-letter-secret-" * 3,
        )  # fmt: skip

    def emails(self) -> int:
        return len(list(self.mail.glob("*.eml")))

    def jobs(self, *args: str) -> subprocess.CompletedProcess[str]:
        return hourbook("jobs", *args, "--queue", self.queue, env=self.env(), cwd=self.folder)


@pytest.fixture
def deployment(postgres_url: str, queue_name: str, redis_prefix: str, tmp_path: Path) -> Deployment:
    return Deployment(postgres_url, queue_name, redis_prefix, tmp_path)


@pytest.fixture
def pg_engine(deployment: Deployment) -> Iterator[sa.Engine]:
    engine = make_engine(deployment.database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def worker(deployment: Deployment) -> Iterator[subprocess.Popen[bytes]]:
    log = (deployment.folder / "worker.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "entrypoints.cli.main", "worker", "--queue", deployment.queue],
        env=deployment.env(), cwd=deployment.folder, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def metrics(deployment: Deployment) -> Scrape:
    client: FlaskClient = create_app(deployment.settings()).test_client()
    response = client.get("/metrics")
    assert response.status_code == 200
    return Scrape(response.text)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_poison_job_becomes_a_dead_letter_shows_and_is_requeued_without_holding_others_back(
    pg_engine: sa.Engine,
    deployment: Deployment,
    shared_redis: redis.Redis,
    worker: subprocess.Popen[bytes],
) -> None:
    engine = pg_engine
    poison = add_poison_row(engine)  # first in the outbox, so relayed ahead of the good emails
    world = World(engine)
    world.confirm(world.book())  # BookingRequested (no email), BookingConfirmed (two)

    wait_for("the confirmation's two emails", lambda: deployment.emails() == 2, worker)
    dead_when_mailed = dead_letters.is_dead(engine, poison)
    wait_for("the poison job's dead letter", lambda: dead_letters.is_dead(engine, poison), worker)

    assert not dead_when_mailed  # the good emails did not wait for the poison's retries
    # The worker's RQ keys are under the deployment's prefix (this process's rq has another):
    # read them as stored.
    with engine.connect() as connection:
        key = connection.scalar(sa.select(outbox.c.job_key).where(outbox.c.id == poison))
    poison_job = rq_tasks.outbox_job_id(key)
    meta = json.loads(shared_redis.hget(f"{deployment.prefix}rq:job:{poison_job}", "meta"))
    assert meta[rq_tasks.POISON_FAILURES] == dead_letters.POISON_ATTEMPTS == 3
    failed = shared_redis.zrange(f"{deployment.prefix}rq:failed:{deployment.queue}", 0, -1)
    assert failed == [poison_job.encode()]
    assert metrics(deployment).value("hourbook_dead_letters") == 1
    listed = deployment.jobs("failed")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{poison}\tBookingConfirmed\t")
    assert "BadEventPayload: BookingConfirmed: missing" in line

    with engine.begin() as connection:  # the operator repairs the row, then requeues it
        good = connection.scalar(
            sa.select(outbox.c.payload).where(
                outbox.c.event_type == "BookingConfirmed", outbox.c.id != poison
            )
        )
        connection.execute(sa.update(outbox).where(outbox.c.id == poison).values(payload=good))
    requeued = deployment.jobs("requeue", str(poison))
    wait_for("the requeued row's emails", lambda: deployment.emails() == 4, worker)

    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout == f"{poison}\trequeued\n"
    assert not dead_letters.is_dead(engine, poison)
    assert metrics(deployment).value("hourbook_dead_letters") == 0
    assert deployment.jobs("failed").stdout == ""


def test_requeue_refuses_an_id_that_is_not_a_dead_letter(tmp_path: Path, sqlite_url: str) -> None:
    env = environment(tmp_path, DATABASE_URL=sqlite_url, HOURBOOK_SECRET_KEY="x" * 40)
    hourbook("db", "upgrade", env=env, cwd=tmp_path)

    refused = hourbook("jobs", "requeue", "77", env=env, cwd=tmp_path)
    neither = hourbook("jobs", "requeue", env=env, cwd=tmp_path)

    assert refused.returncode == 1 and "not dead letters: 77" in refused.stderr
    assert neither.returncode == 1 and "name outbox ids, or --all" in neither.stderr


def test_requeue_all_hands_every_dead_letter_back_to_the_in_process_runner(
    tmp_path: Path, sqlite_url: str
) -> None:
    env = environment(tmp_path, DATABASE_URL=sqlite_url, HOURBOOK_SECRET_KEY="x" * 40)
    hourbook("db", "upgrade", env=env, cwd=tmp_path)
    engine = make_engine(sqlite_url)
    rows = [add_poison_row(engine) for _ in range(3)]
    for row in rows:
        dead_letters.give_up(engine, row, BadEventPayload("never decodes"))
    listed = hourbook("jobs", "failed", env=env, cwd=tmp_path)

    requeued = hourbook("jobs", "requeue", "--all", env=env, cwd=tmp_path)

    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == list(map(str, rows))
    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout.splitlines() == [f"{row}\trequeued" for row in rows]
    assert dead_letters.count(engine) == 0
    assert OutboxRelay(engine).pending() == rows  # the runner's to try again
    engine.dispose()


# -- the in-process runner ---------------------------------------------------------------------


class PoisonMail:
    def __init__(self) -> None:
        self.attempts = 0

    def send(self, email: object) -> None:
        self.attempts += 1
        raise InvalidInput("a stored value the mail cannot carry")


def test_the_in_process_runner_gives_a_poison_row_up_after_the_bound_and_requeues_it(
    world: World,
) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.confirm(world.book())
    poison_mail = PoisonMail()
    world.notifier = poison_mail  # type: ignore[assignment]
    runner = InlineJobRunner(world.context, poison_retry_intervals=[0])

    for _ in range(5):
        runner.run_pending()

    assert poison_mail.attempts == dead_letters.POISON_ATTEMPTS  # not max_attempts
    [letter] = dead_letters.listing(world.engine)
    assert letter.event_type == "BookingConfirmed"
    assert letter.error == "InvalidInput: a stored value the mail cannot carry"
    assert dead_letters.count(world.engine) == 1

    world.notifier = ListNotifier()  # mail works again
    runner.context = world.context
    assert dead_letters.revive(world.engine, letter.outbox_id, redispatch=True)
    runner.run_pending()

    assert dead_letters.count(world.engine) == 0
    assert world.recipients() == ["ada@example.com", "cleo@example.com"]


def test_the_in_process_runner_retries_a_mail_outage_for_hours_before_giving_up(
    world: World,
) -> None:
    world.clock.advance(-timedelta(days=3))  # outside the reminder window
    world.confirm(world.book())
    broken = BrokenMail()  # OSError: the mail server is down
    world.notifier = broken  # type: ignore[assignment]
    now = [0.0]
    runner = InlineJobRunner(world.context, monotonic=lambda: now[0])
    attempts_before_each_wait = []

    runner.run_pending()
    for wait in dead_letters.RETRY_INTERVALS:
        now[0] += wait - 1
        runner.run_pending()  # a second early: nothing
        attempts_before_each_wait.append(broken.attempts)
        now[0] += 1
        runner.run_pending()

    assert attempts_before_each_wait == list(range(1, len(dead_letters.RETRY_INTERVALS) + 1))
    assert broken.attempts == len(dead_letters.RETRY_INTERVALS) + 1 == 14
    assert sum(dead_letters.RETRY_INTERVALS) > 6 * 3600  # an afternoon's outage is ridden out
    assert dead_letters.count(world.engine) == 1


# -- which errors are transient ----------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        StorageUnavailable("down"),
        PaymentUnavailable("down"),
        redis.ConnectionError("refused"),
        ConnectionRefusedError("smtp"),
        TimeoutError("smtp"),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPResponseException(421, b"try later"),
        sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
)
def test_errors_of_a_dependency_that_is_down_are_transient(error: Exception) -> None:
    assert dead_letters.is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("Header values may not contain linefeed or carriage return characters"),
        BadEventPayload("no outbox row 7"),
        InvalidInput("name must be 1-200 characters"),
        KeyError("professional"),
        smtplib.SMTPResponseException(550, b"no such mailbox"),
        smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")}),
    ],
)
def test_errors_retrying_cannot_cure_are_permanent(error: Exception) -> None:
    assert not dead_letters.is_transient(error)


def test_a_permanent_error_caused_by_an_outage_is_transient() -> None:
    try:
        try:
            raise redis.ConnectionError("refused")
        except redis.ConnectionError as cause:
            raise RuntimeError("sent log unavailable") from cause
    except RuntimeError as error:
        assert dead_letters.is_transient(error)


def test_a_dead_letter_is_purged_with_the_dispatched_rows_after_the_retention(
    world: World,
) -> None:
    row = add_poison_row(world.engine)
    dead_letters.give_up(world.engine, row, BadEventPayload("never decodes"))
    world.clock.current = datetime.now(UTC) + tasks.RETENTION - timedelta(hours=1)
    kept = tasks.purge_expired_records(world.context)
    world.clock.current = datetime.now(UTC) + tasks.RETENTION + timedelta(hours=1)

    purged = tasks.purge_expired_records(world.context)

    assert (kept, purged) == (0, 1)
    assert dead_letters.count(world.engine) == 0
