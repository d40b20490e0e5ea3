"""Every key a deployment writes to Redis starts with HOURBOOK_REDIS_PREFIX, RQ's included.

The flow runs against a redis-server of the test's own, so every key in it is this
deployment's: book, pay, cancel with a refund, log out, hit the login limit, scrape the
metrics, relay the outbox, register the cron scheduler and run a worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from rq import defaults as rq_defaults

from adapters.jobs import rq_tasks
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.payments.simulator import SimulatedPayments
from adapters.sql import migrate
from entrypoints import redis_keys
from entrypoints.api.app import create_app
from entrypoints.bootstrap import DEFAULT_QUEUE, Container, build, make_job_context
from entrypoints.config import ConfigError, Environment, RateLimits, Settings, require_rq_key_prefix
from entrypoints.payments import webhook_secret
from entrypoints.worker.main import work
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import PASSWORD, Api
from tests.integration.jobs.conftest import OwnRedis
from tests.json_logs import capture_json_log

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def suite_prefix() -> str:
    """The prefix whose RQ keys this test process has: RQ reads its prefix once per process,
    and the suite imports ``entrypoints`` (which sets it) before rq (tests/conftest.py)."""
    loaded = rq_defaults.RQ_KEY_PREFIX
    assert loaded.endswith("rq") and loaded != "rq", loaded
    return loaded.removesuffix("rq")


@pytest.fixture
def deployment(postgres_url: str, own_redis: OwnRedis, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        env=Environment.TEST, secret_key="redis-keys-secret-" * 3, database_url=postgres_url,
        redis_url=own_redis.url, redis_prefix=suite_prefix(), mail_dir=tmp_path / "mail",
        rate_limits=RateLimits(default="1000/minute", login="6/minute", booking="1000/minute"),
    )
    container = build(settings, clock=FixedClock())
    migrate.upgrade(container.engine)
    yield container
    container.close()


def test_after_a_full_flow_every_key_in_redis_starts_with_the_prefix(
    deployment: Container, own_redis: OwnRedis
) -> None:
    prefix = deployment.settings.redis_prefix
    client = create_app(deployment.settings, deployment).test_client()
    deployment.payments = SimulatedPayments(
        webhook_secret(deployment.settings), sink=webhook_to(client)
    )
    api = Api(client)
    _, professional = api.professional()
    customer = api.register()

    booking = api.book(customer, professional["id"], at(MONDAY, 10)).get_json()
    paid = client.post(f"/simulator/payment_intents/{booking['payment']['payment_intent_id']}"
                       "/pay", json={"payment_method": "pm_card_visa",
                                     "client_secret": booking["payment"]["client_secret"]})
    cancelled = client.post(f"/bookings/{booking['id']}/cancel", headers=customer.headers)
    logout = client.post("/auth/logout", headers=customer.headers)
    logins = [client.post("/auth/login", json={"email": "nobody@example.com",
                                               "password": PASSWORD}).status_code
              for _ in range(8)]
    scrape = client.get("/metrics")
    assert (paid.status_code, cancelled.status_code, logout.status_code) == (200, 200, 204)
    assert cancelled.get_json()["refunded_cents"] > 0
    assert 429 in logins
    assert scrape.status_code == 200
    connection = redis.Redis.from_url(own_redis.url)
    cron = rq_tasks.schedule(connection, DEFAULT_QUEUE)
    cron.register_birth()  # the cron scheduler's registration, as `hourbook worker` does
    cron.enqueue_jobs()
    queue = rq_tasks.queue(DEFAULT_QUEUE, connection)
    relayed = OutboxRelay(deployment.engine).relay_once(rq_tasks.OutboxEnqueuer(queue))
    with capture_json_log():  # a handler on the root, so RQ adds none of its own to rq.worker
        work(make_job_context(deployment), connection, DEFAULT_QUEUE, burst=True)

    keys = sorted(key.decode() for key in connection.scan_iter(count=1000))

    assert relayed >= 3  # requested, confirmed, cancelled
    assert len(list((deployment.settings.mail_dir).glob("*.eml"))) >= 4
    assert [key for key in keys if not key.startswith(prefix)] == []
    families = {family for family in ("rq:queues", "rq:job:outbox-", "rq:worker", "rq:cron",
                                      "rq:results:", "ratelimit:", "sent:", "revoked:")
                if any(key.startswith(prefix + family) for key in keys)}
    assert families == {"rq:queues", "rq:job:outbox-", "rq:worker", "rq:cron", "rq:results:",
                        "ratelimit:", "sent:", "revoked:"}
    assert any(key.startswith(prefix) and "idempotency" in key for key in keys), keys
    connection.close()


def webhook_to(client: FlaskClient) -> Any:
    def deliver(payload: bytes, signature: str) -> None:
        answer = client.post("/stripe/webhook", data=payload,
                             headers={"Stripe-Signature": signature})  # fmt: skip
        assert answer.status_code == 200, answer.get_json()

    return deliver


# -- the prefix itself -------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["has space:", "slash/y:", "é:", "x" * 65, "semi;colon"])
def test_a_prefix_rq_could_not_use_is_refused_at_start(prefix: str) -> None:
    with pytest.raises(ConfigError, match="HOURBOOK_REDIS_PREFIX"):
        Settings.from_env({"HOURBOOK_REDIS_PREFIX": prefix})


def test_the_rq_prefix_follows_the_deployment_prefix_and_replaces_an_inherited_one() -> None:
    environ = {"HOURBOOK_REDIS_PREFIX": "brand-b:", "RQ_KEY_PREFIX": "staging:rq"}

    redis_keys.apply_rq_key_prefix(environ)

    assert environ["RQ_KEY_PREFIX"] == "brand-b:rq"
    assert Settings.from_env(environ).redis_prefix == "brand-b:"


def test_a_process_whose_rq_took_another_prefix_refuses_to_run_with_redis() -> None:
    other = Settings(redis_url="redis://127.0.0.1:1/0", redis_prefix="not-" + suite_prefix())

    with pytest.raises(ConfigError, match="rq uses the key prefix"):
        require_rq_key_prefix(other)
    require_rq_key_prefix(Settings(redis_url="redis://127.0.0.1:1/0", redis_prefix=suite_prefix()))


def test_the_worker_refuses_to_start_when_rq_was_imported_before_the_prefix_was_set(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HOURBOOK_REDIS_PREFIX": "staging:", "RQ_KEY_PREFIX": "rq",
           "REDIS_URL": "redis://127.0.0.1:1/0", "HOURBOOK_INSTANCE_DIR": str(tmp_path)}
    script = "import rq, sys; from entrypoints.worker.main import main; sys.exit(main([]))"

    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "rq uses the key prefix 'rq'" in done.stderr
    assert "'staging:rq'" in done.stderr


def test_the_app_refuses_to_start_when_its_prefix_is_not_the_one_rq_took(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOURBOOK_REDIS_PREFIX", "not-" + suite_prefix())
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("HOURBOOK_INSTANCE_DIR", str(tmp_path))

    with pytest.raises(ConfigError, match="rq uses the key prefix"):
        create_app()
