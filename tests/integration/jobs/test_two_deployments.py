"""Two deployments share one Redis: two databases, two prefixes, a real `hourbook worker` each.

Their outbox ids are the same (1, 2, ...), as two databases' are. Each worker delivers all of
its own emails and none of the other's, every key is under one of the two prefixes, and a
database restored to an earlier outbox sequence loses nothing and sends nothing twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from uuid import UUID

import pytest
import redis
import sqlalchemy as sa

from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.tables import outbox
from tests.integration.conftest import fresh_schema
from tests.integration.jobs.conftest import OwnRedis, World

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

_OUTSIDE = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "SMTP_URL",
            "STRIPE_WEBHOOK_SECRET", "RQ_KEY_PREFIX", "HOURBOOK_REDIS_PREFIX", "HOURBOOK_ENV")


@pytest.fixture
def second_postgres_url(postgres_admin: tuple[sa.Engine, str]) -> Iterator[str]:
    """Another schema of its own: the second deployment's database."""
    with fresh_schema(postgres_admin) as url:
        yield url


@dataclass
class Deployment:
    prefix: str
    world: World
    mail: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    bookings: tuple[UUID, ...] = ()

    def confirm_booking(self, hour: int) -> None:
        receipt = self.world.book(hour)
        self.world.confirm(receipt)
        self.bookings = (*self.bookings, receipt.booking_id)

    def start_worker(self, database_url: str, redis_url: str, folder: Path) -> None:
        env = {name: value for name, value in os.environ.items() if name not in _OUTSIDE}
        env.update(
            DATABASE_URL=database_url, REDIS_URL=redis_url, HOURBOOK_REDIS_PREFIX=self.prefix,
            HOURBOOK_MAIL_DIR=str(self.mail), HOURBOOK_INSTANCE_DIR=str(folder),
            HOURBOOK_SECRET_KEY="two-deployments-secret-" * 2,
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli.main", "worker"],
            env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )

    def stop_worker(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def emails(self) -> list[bytes]:
        return [path.read_bytes() for path in sorted(self.mail.glob("*.eml"))]

    def booking_of(self, email: bytes) -> UUID:
        """The one booking of this deployment the email is about (its calendar entry's UID)."""
        parts = message_from_bytes(email).walk()
        text = b"".join(part.get_payload(decode=True) or b"" for part in parts)
        mentioned = [booking for booking in self.bookings if str(booking).encode() in text]
        assert len(mentioned) == 1, text[:600]
        return mentioned[0]


def wait_for_emails(deployments: list[Deployment], counts: list[int], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for deployment in deployments:
            if deployment.process is not None and deployment.process.poll() is not None:
                log = deployment.log.read_text()[-3000:]
                pytest.fail(f"{deployment.prefix} worker exited: {log}")
        if all(len(d.emails()) >= n for d, n in zip(deployments, counts, strict=True)):
            time.sleep(6)  # three more relay ticks: a duplicate would show up by now
            return
        time.sleep(0.5)
    got = [len(deployment.emails()) for deployment in deployments]
    logs = "\n".join(d.log.read_text()[-2000:] for d in deployments)
    pytest.fail(f"emails {got}, expected {counts} within {seconds:.0f} s\n{logs}")


def restore_outbox(engine: sa.Engine, backup: list[sa.Row[tuple[object, ...]]]) -> None:
    """As a restore from a backup taken earlier: the rows then, undispatched, and the id
    sequence back where it was, so the next rows reuse ids the queue has seen."""
    with engine.begin() as connection:
        connection.execute(sa.delete(outbox))
        connection.execute(outbox.insert(), [row._asdict() for row in backup])
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('outbox', 'id'), max(id)) FROM outbox"
        )


def test_two_deployments_on_one_redis_each_deliver_all_their_own_emails_and_only_those(
    postgres_url: str, second_postgres_url: str, own_redis: OwnRedis, tmp_path: Path
) -> None:
    engines = [make_engine(postgres_url), make_engine(second_postgres_url)]
    for engine in engines:
        migrate.upgrade(engine)
    a, b = (
        Deployment(prefix, World(engine), tmp_path / f"mail-{name}", tmp_path / f"{name}.log")
        for prefix, engine, name in (("staging:", engines[0], "a"), ("brand-b:", engines[1], "b"))
    )
    a.confirm_booking(10)
    with a.world.engine.connect() as connection:  # the backup: the first booking's rows only
        backup = list(connection.execute(sa.select(outbox)))
    a.confirm_booking(12)
    b.confirm_booking(10)
    b.confirm_booking(12)
    assert a.world.job_keys() != b.world.job_keys()
    try:
        for deployment, url in ((a, postgres_url), (b, second_postgres_url)):
            deployment.start_worker(url, own_redis.url, tmp_path / deployment.prefix.strip(":"))

        wait_for_emails([a, b], [4, 4])  # two bookings each, client and professional each

        for deployment in (a, b):
            emails = deployment.emails()
            assert len(emails) == 4
            assert sorted(deployment.booking_of(email) for email in emails) == sorted(
                deployment.bookings * 2
            )

        # A's database restored: rows 1-2 back undispatched, ids from 3 reused by new rows.
        keys_before_restore = set(a.world.job_keys())
        restore_outbox(a.world.engine, backup)
        a.confirm_booking(14)
        assert a.world.job_keys()[:2] == [row.job_key for row in backup]

        wait_for_emails([a, b], [6, 4])

        emails = a.emails()
        assert len(emails) == 6  # the restored rows' emails were not sent again
        assert sorted(a.booking_of(email) for email in emails) == sorted(a.bookings * 2)
        assert len(b.emails()) == 4
    finally:
        for deployment in (a, b):
            deployment.stop_worker()
        for engine in engines:
            engine.dispose()

    logs = a.log.read_text() + b.log.read_text()
    assert "no such row" not in logs  # neither worker took the other's jobs
    client = redis.Redis.from_url(own_redis.url)
    keys = [key.decode() for key in client.scan_iter(count=1000)]
    assert keys
    assert [key for key in keys if not key.startswith(("staging:", "brand-b:"))] == []
    ever = {"staging:": keys_before_restore | set(a.world.job_keys()),
            "brand-b:": set(b.world.job_keys())}
    for prefix, other in (("staging:", "brand-b:"), ("brand-b:", "staging:")):
        jobs_here = {key.rsplit("-", 1)[1] for key in keys
                     if key.startswith(f"{prefix}rq:job:outbox-")}
        assert jobs_here  # the finished jobs are kept, under the prefix
        assert jobs_here <= ever[prefix]
        assert not jobs_here & ever[other]
    client.close()

