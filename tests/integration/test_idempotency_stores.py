"""Idempotency stores: the in-memory, SQL and Redis ones follow the same rules.

The contract tests run against every store; then each durable store is raced by sixteen threads
repeating one request, and Redis being down must stop a booking before anything is written.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial

import pytest
import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry

from adapters.idempotency.redis_store import RedisIdempotencyStore
from adapters.memory import InMemoryPayments
from adapters.sql.idempotency import SqlIdempotencyStore
from adapters.sql.tables import bookings, idempotency_keys, outbox
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking import services
from booking.errors import IdempotencyKeyReused, RequestInProgress, StorageUnavailable
from booking.ports import IdempotencyStore, StoredResponse
from booking.receipts import BookingReceipt
from tests.factories import MONDAY, FixedClock, at, new_key
from tests.integration.conftest import StoreFactory
from tests.integration.support import all_at_once, count_rows, register, request

SCOPE = "client:42"
LEASE = timedelta(seconds=5)


def test_the_first_claim_owns_the_key_and_a_repeat_waits_for_it(make_store: StoreFactory) -> None:
    store = make_store(FixedClock(), lease=LEASE)
    key = new_key()

    assert store.claim(SCOPE, key, "fp") is None
    with pytest.raises(RequestInProgress):
        store.claim(SCOPE, key, "fp")


def test_a_completed_request_is_replayed(make_store: StoreFactory) -> None:
    store = make_store(FixedClock(), lease=LEASE)
    key = new_key()
    store.claim(SCOPE, key, "fp")

    store.complete(SCOPE, key, StoredResponse('{"receipt": "/ok"}'))

    assert store.claim(SCOPE, key, "fp") == StoredResponse('{"receipt": "/ok"}')


def test_a_key_reused_for_another_request_is_refused(make_store: StoreFactory) -> None:
    store = make_store(FixedClock(), lease=LEASE)
    running, done = new_key(), new_key()
    store.claim(SCOPE, running, "fp")
    store.claim(SCOPE, done, "fp")
    store.complete(SCOPE, done, StoredResponse("{}"))

    for key in (running, done):
        with pytest.raises(IdempotencyKeyReused):
            store.claim(SCOPE, key, "another")


def test_a_released_key_can_be_claimed_again(make_store: StoreFactory) -> None:
    store = make_store(FixedClock(), lease=LEASE)
    key = new_key()
    store.claim(SCOPE, key, "fp")

    store.release(SCOPE, key)

    assert store.claim(SCOPE, key, "fp") is None


def test_keys_are_separate_per_scope(make_store: StoreFactory) -> None:
    store = make_store(FixedClock(), lease=LEASE)
    key = new_key()
    store.claim(SCOPE, key, "fp")

    assert store.claim("client:43", key, "fp") is None


def test_a_crashed_requests_claim_lapses_after_the_lease(make_store: StoreFactory) -> None:
    clock = FixedClock()
    store = make_store(clock, lease=LEASE)
    key = new_key()
    store.claim(SCOPE, key, "fp")  # and never completed nor released: the request crashed

    clock.advance(LEASE - timedelta(seconds=1))
    with pytest.raises(RequestInProgress):
        store.claim(SCOPE, key, "fp")
    clock.advance(timedelta(seconds=1))
    assert store.claim(SCOPE, key, "fp") is None
    with pytest.raises(RequestInProgress):  # and now the retry owns it
        store.claim(SCOPE, key, "fp")


def test_a_completed_record_outlives_the_lease(make_store: StoreFactory) -> None:
    clock = FixedClock()
    store = make_store(clock, lease=LEASE)
    key = new_key()
    store.claim(SCOPE, key, "fp")
    store.complete(SCOPE, key, StoredResponse("{}"))

    clock.advance(LEASE * 10)

    assert store.claim(SCOPE, key, "fp") == StoredResponse("{}")


def test_a_sql_record_past_its_ttl_is_forgotten_and_purged(engine: sa.Engine) -> None:
    clock = FixedClock()
    store = SqlIdempotencyStore(engine, clock, ttl=timedelta(hours=1), lease=LEASE)
    old, fresh = new_key(), new_key()
    store.claim(SCOPE, old, "fp")
    store.complete(SCOPE, old, StoredResponse("{}"))
    clock.advance(timedelta(minutes=30))
    store.claim(SCOPE, fresh, "fp")

    clock.advance(timedelta(minutes=30))
    purged = store.purge_expired(clock.now())

    assert purged == 1
    assert store.claim(SCOPE, old, "another") is None
    assert count_rows(engine, idempotency_keys) == 2


@pytest.mark.redis
def test_a_redis_record_expires_after_its_ttl(redis_client: redis.Redis, redis_prefix: str) -> None:
    store = RedisIdempotencyStore(
        redis_client, FixedClock(), ttl=timedelta(milliseconds=300),
        lease=timedelta(milliseconds=300), prefix=redis_prefix,
    )
    key = new_key()
    store.claim(SCOPE, key, "fp")
    store.complete(SCOPE, key, StoredResponse("{}"))

    time.sleep(0.4)

    assert store.claim(SCOPE, key, "another") is None


# -- the stores under the booking service, raced ----------------------------------------------


@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.redis)])
def durable_store(
    request: pytest.FixtureRequest, engine: sa.Engine
) -> tuple[IdempotencyStore, FixedClock]:
    clock = FixedClock()
    if request.param == "sql":
        return SqlIdempotencyStore(engine, clock), clock
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    return RedisIdempotencyStore(client, clock, prefix=prefix), clock


def test_sixteen_threads_repeating_one_request_make_one_booking(
    engine: sa.Engine, durable_store: tuple[IdempotencyStore, FixedClock]
) -> None:
    store, clock = durable_store
    professional, client = register(engine)
    cmd = request(professional, client, at(MONDAY, 10), timedelta(hours=1))
    payments = InMemoryPayments()

    def repeat() -> BookingReceipt | str:
        try:
            return services.create_booking(
                cmd, uow=SqlUnitOfWork(engine), payments=payments, idempotency=store, clock=clock
            )
        except RequestInProgress as error:
            return error.code

    answers = all_at_once([repeat] * 16)

    receipts = [a for a in answers if isinstance(a, BookingReceipt)]
    assert all(a == "request_in_progress" for a in answers if not isinstance(a, BookingReceipt))
    assert len({r.booking_id for r in receipts}) == 1
    assert [r.replayed for r in receipts].count(False) == 1
    assert count_rows(engine, bookings) == 1
    assert len(payments.intents) == 1

    retried = partial(
        services.create_booking, cmd, uow=SqlUnitOfWork(engine), payments=payments,
        idempotency=store, clock=clock,
    )()
    assert retried.replayed and retried.booking_id == receipts[0].booking_id


def test_redis_being_down_is_storage_unavailable_and_writes_nothing(engine: sa.Engine) -> None:
    clock = FixedClock()
    down = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    professional, client = register(engine)
    cmd = request(professional, client, at(MONDAY, 10), timedelta(hours=1))

    with pytest.raises(StorageUnavailable):
        services.create_booking(
            cmd, uow=SqlUnitOfWork(engine), payments=InMemoryPayments(),
            idempotency=RedisIdempotencyStore(down, clock), clock=clock,
        )

    assert count_rows(engine, bookings) == count_rows(engine, outbox) == 0
