"""The composition root: every adapter is built here, from :class:`Settings`, and nowhere else.

``build(settings)`` is called by the app factory, the worker and the CLI; nothing is
constructed at import time. Tests call it with their own settings, or build a ``Container`` by
hand with fakes (the clock in particular).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import redis
from argon2 import PasswordHasher
from sqlalchemy import Engine

from adapters.auth.redis_revocations import CachedRevokedTokens
from adapters.clock import SystemClock
from adapters.idempotency.redis_store import RedisIdempotencyStore
from adapters.jobs.tasks import JobContext
from adapters.notifications.mail import FolderNotifier, SmtpNotifier
from adapters.notifications.sent_log import CachedSentLog, SentLog, SqlSentLog
from adapters.sql.engine import default_sqlite_url, make_engine
from adapters.sql.feed_tokens import SqlFeedTokens
from adapters.sql.idempotency import SqlIdempotencyStore
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlRevokedTokens, SqlUsers
from booking.ports import Clock, IdempotencyStore, Notifier, PaymentGateway, UnitOfWork
from entrypoints.config import Environment, Settings, running_tests
from entrypoints.passwords import Passwords
from entrypoints.payments import make_payments


class RevokedTokens(Protocol):
    """The logout list: token and refresh-family ids refused until they would have expired
    anyway, and per-account cut-offs ("log out everywhere")."""

    def revoke(self, jti: str, expires_at: datetime) -> bool:
        """List ``jti``; True if it was not listed already (refresh tokens are good once)."""
        ...

    def start_family(
        self, family_id: str, account_id: UUID, refresh_jti: str, expires_at: datetime
    ) -> None:
        """A new login: ``refresh_jti`` is its refresh token that may be used next."""
        ...

    def rotate(self, family_id: str, presented: str, successor: str, expires_at: datetime) -> bool:
        """Spend ``presented`` for ``successor``; False if it is not the login's usable one."""
        ...

    def revoke_all(self, account_id: UUID, valid_after: datetime) -> None: ...

    def is_revoked(self, ids: Sequence[str], account_id: UUID, issued_at: datetime) -> bool: ...


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
    passwords: Passwords
    notifier: Notifier
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
    hasher = make_password_hasher(settings)
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        payments=make_payments(settings),
        idempotency=make_idempotency(settings, engine, client, clock),
        users=SqlUsers(engine),
        revoked_tokens=make_revoked_tokens(settings, engine, client),
        password_hasher=hasher,
        passwords=Passwords(hasher, limit=settings.max_concurrent_hashes),
        notifier=make_notifier(settings),
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


def make_notifier(settings: Settings) -> Notifier:
    """SMTP when ``SMTP_URL`` is set, else .eml files in the mail folder."""
    if settings.smtp_url:
        return SmtpNotifier(settings.smtp_url)
    return FolderNotifier(settings.mail_dir)


def make_password_hasher(settings: Settings) -> PasswordHasher:
    """Argon2id, memory-hard (RFC 9106 low-memory profile); cheap only in the test suite."""
    if settings.env is Environment.TEST and running_tests():
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
    """The database's list, cached in Redis when there is one (durable either way)."""
    durable = SqlRevokedTokens(engine)
    if client is not None:
        return CachedRevokedTokens(durable, client, prefix=settings.redis_prefix)
    return durable


DEFAULT_QUEUE = "hourbook"  # the RQ queue of the outbox's jobs, unless told another


def make_job_context(container: Container) -> JobContext:
    """What the jobs need, whichever runner runs them (the RQ worker or the in-process one)."""
    settings = container.settings
    sent_log: SentLog = SqlSentLog(container.engine)  # the truth: it outlives Redis
    if container.redis is not None:
        sent_log = CachedSentLog(sent_log, container.redis, prefix=settings.redis_prefix)
    return JobContext(
        engine=container.engine,
        uow=container.uow,
        payments=container.payments,
        notifier=make_notifier(settings),
        clock=container.clock,
        sent_log=sent_log,
        hold_time=timedelta(minutes=settings.hold_minutes),
        purge_idempotency=getattr(container.idempotency, "purge_expired", None),
    )
