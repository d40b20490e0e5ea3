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
from sqlalchemy.engine import make_url

from adapters.auth.redis_revocations import CachedRevokedTokens
from adapters.clock import SystemClock
from adapters.idempotency.redis_store import RedisIdempotencyStore
from adapters.jobs.tasks import JobContext
from adapters.notifications.mail import FolderNotifier, SmtpNotifier
from adapters.notifications.sent_log import CachedSentLog, SentLog, SqlSentLog
from adapters.sql.account_mail import SqlAccountMail
from adapters.sql.audit import SqlAuditLog
from adapters.sql.engine import default_sqlite_url, make_engine
from adapters.sql.feed_tokens import SqlFeedTokens
from adapters.sql.idempotency import SqlIdempotencyStore
from adapters.sql.password_resets import SqlPasswordResets
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.recent_writers import RecentWriters
from adapters.sql.replicas import ReadRouting, Replica, replica_name
from adapters.sql.unit_of_work import SqlUnitOfWork
from adapters.sql.users import SqlRevokedTokens, SqlUsers
from adapters.webhooks_out.addresses import UrlPolicy
from adapters.webhooks_out.deliveries import DeliverySettings, WebhookDeliverer
from adapters.webhooks_out.endpoints import SqlWebhookEndpoints
from adapters.webhooks_out.events import Renderers
from adapters.webhooks_out.publisher import WebhookPublisher
from adapters.webhooks_out.retries import RetryPolicy
from booking.ports import Clock, IdempotencyStore, Notifier, PaymentGateway, UnitOfWork
from entrypoints import account_mail
from entrypoints.api.resources import booking_resource, professional_resource
from entrypoints.config import Environment, Settings, WebhookSettings, running_tests
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
    password_resets: SqlPasswordResets
    account_mail: SqlAccountMail  # verification links, through the outbox
    audit_log: SqlAuditLog
    webhook_endpoints: SqlWebhookEndpoints
    webhook_urls: UrlPolicy
    webhook_publisher: WebhookPublisher | None = None  # every read-write unit of work's
    redis: redis.Redis | None = None
    read_routing: ReadRouting | None = None  # with DATABASE_REPLICA_URLS
    recent_writers: RecentWriters | None = None  # with DATABASE_REPLICA_URLS
    uow_factory: Callable[[], UnitOfWork] = field(repr=False)
    reader_factory: Callable[[], UnitOfWork] = field(repr=False)
    primary_reader_factory: Callable[[], UnitOfWork] | None = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        """A new unit of work: never share one between requests or threads."""
        return self.uow_factory()

    def reader(self, *, primary: bool = False) -> UnitOfWork:
        """A new unit of work for use cases that only read (it refuses to commit).

        With replicas it reads from a fit standby, unless ``primary``: a caller who must see
        their own recent write reads from the primary.
        """
        if primary and self.primary_reader_factory is not None:
            return self.primary_reader_factory()
        return self.reader_factory()

    def close(self) -> None:
        self.engine.dispose()
        if self.read_routing is not None:
            self.read_routing.dispose()
        if self.redis is not None:
            self.redis.close()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    clock = clock if clock is not None else SystemClock()
    engine = make_database(settings)
    known = ProfessionalCache()  # one per engine: ids and versions are per database
    client = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    hasher = make_password_hasher(settings)
    webhooks = WebhookPublisher(RENDERERS, clock)
    routing = make_read_routing(settings, engine)
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
        password_resets=SqlPasswordResets(engine),
        account_mail=SqlAccountMail(engine),
        audit_log=SqlAuditLog(engine),
        webhook_endpoints=SqlWebhookEndpoints(engine),
        webhook_urls=webhook_url_policy(settings.webhooks),
        webhook_publisher=webhooks,
        redis=client,
        read_routing=routing,
        recent_writers=make_recent_writers(settings, client),
        uow_factory=lambda: SqlUnitOfWork(engine, known_professionals=known, webhooks=webhooks),
        # A version of a professional holds the same values on every server, so the standbys
        # share the primary's cache.
        reader_factory=lambda: SqlUnitOfWork(
            routing or engine, known_professionals=known, read_only=True
        ),
        primary_reader_factory=lambda: SqlUnitOfWork(
            engine, known_professionals=known, read_only=True
        ),
    )


REPLICA_CONNECT_TIMEOUT_SECONDS = 2  # a standby that does not answer is skipped this soon


def make_read_routing(settings: Settings, primary: Engine) -> ReadRouting | None:
    """The standbys of ``DATABASE_REPLICA_URLS``, or None without any."""
    replicas = settings.replicas
    if not replicas.urls:
        return None
    engines = []
    for url in replicas.urls:
        parsed = make_url(url)
        if "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict(
                {"connect_timeout": str(REPLICA_CONNECT_TIMEOUT_SECONDS)}
            )
        engines.append(make_engine(parsed.render_as_string(hide_password=False)))
    return ReadRouting(
        primary=primary,
        replicas=[Replica(name=replica_name(engine), engine=engine) for engine in engines],
        max_lag=replicas.max_lag_seconds,
        retry_after=replicas.retry_after_seconds,
    )


def make_recent_writers(settings: Settings, client: redis.Redis | None) -> RecentWriters | None:
    """Read-your-writes marks, needed only when reads may go to a standby."""
    if not settings.replicas.urls or client is None:
        return None
    return RecentWriters(
        client,
        prefix=settings.redis_prefix,
        window_seconds=settings.replicas.read_your_writes_seconds,
    )


# The data of outgoing webhooks is the API's own representation of the resource.
RENDERERS = Renderers(booking=booking_resource, professional=professional_resource)


def webhook_url_policy(settings: WebhookSettings) -> UrlPolicy:
    return UrlPolicy(
        require_https=settings.require_https, allowed_networks=settings.allowed_networks
    )


def make_webhook_deliverer(container: Container) -> WebhookDeliverer:
    """The worker's sender of outgoing webhooks, on the container's clock and notifier."""
    hooks = container.settings.webhooks
    retry = RetryPolicy(
        base=timedelta(seconds=hooks.retry_base_seconds),
        cap=timedelta(seconds=hooks.retry_cap_seconds),
        window=timedelta(hours=hooks.retry_window_hours),
    )
    return WebhookDeliverer(
        container.engine,
        policy=container.webhook_urls,
        clock=container.clock,
        notifier=container.notifier,
        settings=DeliverySettings(
            timeout_seconds=hooks.timeout_seconds, retry=retry, disable_after=hooks.disable_after
        ),
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
        account_mail=account_mail.composer(container),
        audit_retention=timedelta(days=settings.audit_retention_days),
        deliver_webhooks=make_webhook_deliverer(container).deliver_due,
    )
