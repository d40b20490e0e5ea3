"""A fresh app per test on a migrated database: SQLite always, PostgreSQL + Redis when reachable.

The ``stack`` parameter picks the services; each test gets its own database (a SQLite file or a
PostgreSQL schema) and Redis key prefix, so nothing needs cleaning between tests. The clock is
fixed (``tests.factories.MONDAY``) so rules about the past and notice are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.payments.simulator import SimulatedPayments
from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import Environment, RateLimits, Settings
from entrypoints.payments import webhook_secret
from tests.factories import FixedClock
from tests.integration.api.support import Api
from tests.integration.conftest import REDIS_URL
from tests.integration.jobs.conftest import own_redis  # noqa: F401 - a fixture for api tests too
from tests.integration.support import UNCAPPED

GENEROUS = RateLimits(
    default="100000/minute",
    login="100000/minute",
    booking="100000/minute",
    search="100000/minute",
    register="100000/minute",
)


FULL_STACK = pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis])


@pytest.fixture(params=["sqlite", FULL_STACK])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Settings for a test app: its own database, and Redis (own prefix) on the full stack."""
    base = Settings(
        env=Environment.TEST,
        secret_key="test-secret-" * 4,
        rate_limits=GENEROUS,
        hold_limits=UNCAPPED,  # test_hold_caps puts the default caps back
    )
    if request.param == "sqlite":
        return replace(base, database_url=request.getfixturevalue("sqlite_url"))
    return replace(
        base,
        database_url=request.getfixturevalue("postgres_url"),
        redis_url=REDIS_URL,
        redis_prefix=request.getfixturevalue("redis_prefix"),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    built = build(settings, clock=clock)
    migrate.upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container.settings, container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def simulator(container: Container, client: FlaskClient) -> SimulatedPayments:
    """Payments in the simulator, delivering their signed events to this app's webhook, as in
    the demo."""

    def deliver(payload: bytes, signature: str) -> None:
        answer = client.post("/stripe/webhook", data=payload,
                             headers={"Stripe-Signature": signature})  # fmt: skip
        assert answer.status_code == 200, answer.get_json()

    container.payments = SimulatedPayments(webhook_secret(container.settings), sink=deliver)
    return container.payments
