"""The composition root: every adapter is built here, from :class:`Settings`, and nowhere else.

``build(settings)`` is called by the app factory, the worker and the CLI; nothing is
constructed at import time. Tests call it with their own settings, or build a ``Container`` by
hand with fakes (the clock in particular).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import redis
from argon2 import PasswordHasher
from sqlalchemy import Engine

from adapters.clock import SystemClock
from adapters.redis_idempotency import RedisIdempotencyStore
from adapters.redis_revocations import RedisRevokedTokens
from adapters.sql.engine import default_sqlite_url, make_engine
from adapters.sql.feed_tokens import SqlFeedTokens
from adapters.sql.idempotency import SqlIdempotencyStore
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlRevokedTokens, SqlUsers
from booking.ports import Clock, IdempotencyStore, PaymentGateway, UnitOfWork
from entrypoints.config import Environment, Settings
from entrypoints.payments import make_payments


class RevokedTokens(Protocol):
    """The logout list: token ids that must be refused until they would have expired anyway."""

    def revoke(self, jti: str, expires_at: datetime) -> None: ...

    def is_revoked(self, jti: str) -> bool: ...


@dataclass(kw_only=True)
class Container:
    """Everything the entrypoints need, built once per process (or per test)."""

    settings: Settings
    engine: Engine
    clock: Clock
    payments: PaymentGateway
    idempotency: IdempotencyStore
    users: SqlUsers
    revoked_tokens: RevokedTokens
    password_hasher: PasswordHasher
    feed_tokens: SqlFeedTokens
    redis: redis.Redis | None = None
    uow_factory: Callable[[], UnitOfWork] = field(repr=False)
    reader_factory: Callable[[], UnitOfWork] = field(repr=False)

    def uow(self) -> UnitOfWork:
        """A new unit of work: never share one between requests or threads."""
        return self.uow_factory()

    def reader(self) -> UnitOfWork:
        """A new unit of work for use cases that only read (it refuses to commit)."""
        return self.reader_factory()

    def close(self) -> None:
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    clock = clock if clock is not None else SystemClock()
    engine = make_database(settings)
    known = ProfessionalCache()  # one per engine: ids and versions are per database
    client = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        payments=make_payments(settings),
        idempotency=make_idempotency(settings, engine, client, clock),
        users=SqlUsers(engine),
        revoked_tokens=make_revoked_tokens(settings, engine, client),
        password_hasher=make_password_hasher(settings),
        feed_tokens=SqlFeedTokens(engine),
        redis=client,
        uow_factory=lambda: SqlUnitOfWork(engine, known_professionals=known),
        reader_factory=lambda: SqlUnitOfWork(engine, known_professionals=known, read_only=True),
    )


def make_database(settings: Settings) -> Engine:
    """The engine; on the embedded default, its instance folder is made if a fresh machine
    has none (any other SQLite path must exist: a typo should fail, not grow folders)."""
    if settings.database_url == default_sqlite_url(settings.instance_dir):
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


def make_password_hasher(settings: Settings) -> PasswordHasher:
    """Argon2id, memory-hard (RFC 9106 low-memory profile); cheap only in the test suite."""
    if settings.env is Environment.TEST:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def make_idempotency(
    settings: Settings, engine: Engine, client: redis.Redis | None, clock: Clock
) -> IdempotencyStore:
    if client is not None:
        return RedisIdempotencyStore(client, clock, prefix=settings.redis_prefix)
    return SqlIdempotencyStore(engine, clock)


def make_revoked_tokens(
    settings: Settings, engine: Engine, client: redis.Redis | None
) -> RevokedTokens:
    if client is not None:
        return RedisRevokedTokens(client, prefix=settings.redis_prefix)
    return SqlRevokedTokens(engine)
