"""An outage of the database or of Redis answers 503 and logs a WARNING naming the dependency,
so that the logs alone can page someone (INFO lines are not enough)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build
from entrypoints.config import Environment, Settings
from tests.integration.api.conftest import GENEROUS
from tests.integration.api.support import Api, booking_body
from tests.integration.jobs.conftest import OwnRedis

BASE = Settings(env=Environment.TEST, secret_key="outage-secret-" * 4, rate_limits=GENEROUS)


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (getattr(record, "dependency", ""), record.getMessage())
        for record in caplog.records
        if record.levelno == logging.WARNING and record.name == "entrypoints.api.errors"
    ]


def drop_sessions(connection: sa.Connection, role: str) -> None:
    connection.execute(
        sa.text(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE usename = :role"
        ),
        {"role": role},
    )


@pytest.fixture
def own_role(postgres_url: str, postgres_admin: tuple[sa.Engine, str]) -> Iterator[str]:
    """A URL on the test's schema as a login role of its own, which the test may lock out
    (superusers, as the suite's usual role is, ignore connection limits)."""
    admin, _ = postgres_admin
    url = make_url(postgres_url)
    schema = str(url.query["options"]).split("=")[1].split(",")[0]
    role = f"outage_{uuid4().hex}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT ALL ON SCHEMA {schema} TO {role}")
    yield url.set(username=role).render_as_string(hide_password=False)
    with admin.connect() as connection:
        drop_sessions(connection, role)
        connection.exec_driver_sql(f"DROP OWNED BY {role} CASCADE")
        connection.exec_driver_sql(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_a_database_outage_answers_503_and_logs_a_warning_naming_the_database(
    own_role: str, postgres_admin: tuple[sa.Engine, str], caplog: pytest.LogCaptureFixture
) -> None:
    container = build(replace(BASE, database_url=own_role))
    migrate.upgrade(container.engine)
    api = Api(create_app(container.settings, container).test_client())
    client = api.register()
    role = make_url(own_role).username
    admin, _ = postgres_admin
    with admin.connect() as connection:  # the server refuses this app, and drops its sessions
        connection.exec_driver_sql(f"ALTER ROLE {role} CONNECTION LIMIT 0")
        drop_sessions(connection, str(role))

    # Reads with a token keep working (revocations are checked in the database); a booking
    # needs its idempotency record, which lives in Redis.
    with caplog.at_level(logging.INFO):
        answer = api.client.post(
            "/bookings",
            json=booking_body(str(uuid4()), datetime.now(UTC) + timedelta(days=2)),
            headers={**client.headers, "Idempotency-Key": str(uuid4())},
        )

    assert answer.status_code == 503, answer.get_json()
    assert answer.get_json()["error"]["code"] == "storage_unavailable"
    assert outage_warnings(caplog) == [
        ("database", "database unavailable: the database cannot be reached; try again later")
    ]
    container.close()


@pytest.mark.redis
def test_a_booking_while_redis_is_down_answers_503_and_logs_a_warning_naming_redis(
    own_redis: OwnRedis, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(BASE, database_url=sqlite_url, redis_url=own_redis.url)
    container = build(settings)
    migrate.upgrade(container.engine)
    api = Api(create_app(settings, container).test_client())
    client = api.register()
    own_redis.stop()

    # Reads with a token keep working (revocations are checked in the database); a booking
    # needs its idempotency record, which lives in Redis.
    with caplog.at_level(logging.INFO):
        answer = api.client.post(
            "/bookings",
            json=booking_body(str(uuid4()), datetime.now(UTC) + timedelta(days=2)),
            headers={**client.headers, "Idempotency-Key": str(uuid4())},
        )

    assert answer.status_code == 503, answer.get_json()
    [(dependency, message)] = outage_warnings(caplog)
    assert dependency == "redis"
    assert message.startswith("redis unavailable: ") and "(Redis)" in message
    container.close()
