"""Logouts are kept in the database and only cached in Redis: a Redis that loses its data, or
is down, neither lets a revoked token back in nor stops clients from reading their bookings.

Each test runs its own throwaway redis-server, which it flushes, stops and starts again; the
shared Redis is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import redis
from flask.testing import FlaskClient

from adapters.auth.redis_revocations import CachedRevokedTokens
from adapters.sql import migrate
from adapters.sql.users import SqlRevokedTokens
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import Environment, Settings
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.conftest import GENEROUS
from tests.integration.api.support import Api, error_code
from tests.integration.jobs.conftest import OwnRedis
from tests.integration.payments.conftest import free_port

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@dataclass
class Stack:
    redis: OwnRedis
    container: Container
    client: FlaskClient

    @property
    def api(self) -> Api:
        return Api(self.client)

    def flushall(self) -> None:
        own = redis.Redis.from_url(self.redis.url)
        own.flushall()  # our own redis-server, nobody else's
        own.close()


@pytest.fixture
def stack(own_redis: OwnRedis, postgres_url: str) -> Iterator[Stack]:
    settings = Settings(
        env=Environment.TEST, secret_key="test-secret-" * 4, rate_limits=GENEROUS,
        database_url=postgres_url, redis_url=own_redis.url, redis_prefix="hourbook-own:",
    )  # fmt: skip
    container = build(settings, clock=FixedClock())
    migrate.upgrade(container.engine)
    yield Stack(own_redis, container, create_app(settings, container).test_client())
    container.close()


def test_a_token_logged_out_before_redis_is_flushed_is_still_refused_after(stack: Stack) -> None:
    api = stack.api
    leaving, staying = api.register(), api.register()
    assert api.client.post("/auth/logout", headers=leaving.headers).status_code == 204

    stack.flushall()

    after = api.client.get("/clients/me", headers=leaving.headers)
    assert after.status_code == 401
    assert error_code(after) == "token_revoked"
    assert api.client.get("/clients/me", headers=staying.headers).status_code == 200


def test_logging_out_everywhere_survives_a_flush(stack: Stack) -> None:
    api = stack.api
    client = api.register()
    api.client.post("/auth/logout-all", headers=client.headers)

    stack.flushall()

    assert api.client.get("/clients/me", headers=client.headers).status_code == 401


def test_while_redis_is_down_a_client_still_reads_their_own_bookings(stack: Stack) -> None:
    api = stack.api
    _, pro = api.professional()
    client = api.register()
    booked = api.book(client, pro["id"], at(MONDAY, 10)).get_json()

    stack.redis.stop()

    listed = api.client.get("/bookings", headers=client.headers)
    me = api.client.get("/clients/me", headers=client.headers)
    assert listed.status_code == 200, listed.get_json()
    assert [item["id"] for item in listed.get_json()["items"]] == [booked["id"]]
    assert me.status_code == 200
    booking = api.book(client, pro["id"], at(MONDAY, 12), expect=503)  # idempotency needs Redis
    assert error_code(booking) == "storage_unavailable"


def test_while_redis_is_down_revoked_tokens_stay_refused_and_logouts_still_work(
    stack: Stack,
) -> None:
    api = stack.api
    before, during = api.register(), api.register()
    api.client.post("/auth/logout", headers=before.headers)

    stack.redis.stop()
    refused = api.client.get("/clients/me", headers=before.headers)
    logout = api.client.post("/auth/logout", headers=during.headers)
    refused_too = api.client.get("/clients/me", headers=during.headers)
    stack.redis.start()  # back, and empty

    assert refused.status_code == refused_too.status_code == 401
    assert logout.status_code == 204
    assert api.client.get("/clients/me", headers=during.headers).status_code == 401
    assert api.client.get("/clients/me", headers=before.headers).status_code == 401


def test_a_revocation_that_missed_redis_is_not_missed_once_redis_answers_again(
    own_redis: OwnRedis, postgres_url: str
) -> None:
    """Redis kept its data through the blip, so its copy lacks the revocation made meanwhile."""
    engine = build(Settings(env=Environment.TEST, database_url=postgres_url)).engine
    migrate.upgrade(engine)
    live = redis.Redis.from_url(own_redis.url)
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    cache = CachedRevokedTokens(SqlRevokedTokens(engine), live, prefix=f"t-{uuid4().hex}:")
    account, issued = uuid4(), datetime.now(UTC)
    assert not cache.is_revoked(["kept"], account, issued)  # the copy is loaded and complete

    cache.client = unreachable
    cache.revoke("lost-in-the-blip", datetime.now(UTC) + timedelta(hours=1))
    cache.client = live

    assert cache.is_revoked(["lost-in-the-blip"], account, issued)
    assert not cache.is_revoked(["kept"], account, issued)
    live.close()
    engine.dispose()
