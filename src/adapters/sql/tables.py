"""The database schema as SQLAlchemy Core tables, separate from the domain classes.

Rows are translated to and from domain objects at the repository edge (``repositories.py``)
instead of mapping the dataclasses with the ORM: the booking hot path then runs a handful of
Core statements (docs: performance floors), and the domain stays free of persistence concerns.

Invariants only one engine can express live in the migration, not here: the PostgreSQL
exclusion constraint and the SQLite triggers that forbid overlapping active bookings.
``versions/0001_initial.py`` is the source of truth for the DDL; this module must agree with it
(a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)

from adapters.sql.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# BIGSERIAL on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _minutes(name: str) -> Column[int]:
    return Column(f"{name}_minutes", Integer, nullable=False)


professionals = Table(
    "professionals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("category", String(63), nullable=False),
    Column("hourly_rate_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("travel_mode", String(16), nullable=False),
    Column("travel_fee_cents", Integer, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("location_lat", Float, nullable=False),
    Column("location_lng", Float, nullable=False),
    _minutes("granularity"),
    _minutes("minimum_notice"),
    _minutes("maximum_advance"),
    _minutes("minimum_duration"),
    _minutes("maximum_duration"),
    _minutes("buffer"),
    _minutes("travel_time"),
    _minutes("free_cancellation"),
    Column("late_cancellation_refund_percent", SmallInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "category", "location_lat", "location_lng"),
)

availabilities = Table(
    "availabilities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "professional_id",
        Uuid,
        ForeignKey("professionals.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", SmallInteger, nullable=False),  # keeps the domain tuple's order
    Column("day_of_week", SmallInteger, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("is_active", Boolean, nullable=False),
    CheckConstraint("day_of_week BETWEEN 0 AND 6", name="day_of_week"),
    Index(None, "professional_id", "day_of_week"),
)

time_off = Table(
    "time_off",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "professional_id",
        Uuid,
        ForeignKey("professionals.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", SmallInteger, nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("reason", String(200), nullable=False),
    CheckConstraint("last_day >= first_day", name="days_in_order"),
    Index(None, "professional_id"),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("client_id", Uuid, ForeignKey("clients.id"), nullable=True),
    Column("professional_id", Uuid, ForeignKey("professionals.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set when the owner follows the link mailed to ``email``; booking may wait for it.
    Column("email_verified_at", UtcDateTime, nullable=True),
    UniqueConstraint("email"),
    CheckConstraint("role IN ('client', 'professional', 'admin')", name="role"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("professional_id", Uuid, ForeignKey("professionals.id"), nullable=False),
    Column("client_id", Uuid, ForeignKey("clients.id"), nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("end_time", UtcDateTime, nullable=False),
    # end + buffer, stored so that both engines can index and constrain the blocked interval
    Column("blocked_until", UtcDateTime, nullable=False),
    Column("buffer_minutes", Integer, nullable=False),
    Column("total_price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("cancellation_reason", String(32), nullable=True),
    Column("payment_intent_id", String(255), nullable=True),
    # The cancellation terms agreed at the hold (0008); the defaults are the default policy's,
    # for rows written by something other than the repository.
    Column("free_cancellation_minutes", Integer, nullable=False, server_default=text("1440")),
    Column(
        "late_cancellation_refund_percent", SmallInteger, nullable=False,
        server_default=text("50"),
    ),
    # What the booking's own payment took in (0008).
    Column("paid_cents", Integer, nullable=False, server_default=text("0")),
    Column("refund_due_cents", Integer, nullable=False),
    Column("refunded_cents", Integer, nullable=False),
    Column("idempotency_key", String(255), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'confirmed', 'cancelled')", name="status"),
    CheckConstraint("end_time > start_time", name="ends_after_start"),
    CheckConstraint("blocked_until >= end_time", name="blocked_to_end"),
    CheckConstraint("refunded_cents <= refund_due_cents", name="refund_within_due"),
    Index(None, "professional_id", "start_time", "end_time"),
    Index(None, "status", "created_at"),  # finds expired holds
    Index(None, "client_id", "start_time"),
    # Refunds still owed, oldest first: the settle job and the refunds-owed gauges read these.
    Index(
        "ix_bookings_refund_owed",
        "updated_at",
        postgresql_where=text("refund_due_cents > refunded_cents"),
        sqlite_where=text("refund_due_cents > refunded_cents"),
    ),
    # One payment pays for one booking.
    Index(
        "uq_bookings_payment_intent_id",
        "payment_intent_id",
        unique=True,
        postgresql_where=text("payment_intent_id IS NOT NULL"),
        sqlite_where=text("payment_intent_id IS NOT NULL"),
    ),
    # A key makes at most one live booking per client: a retry whose idempotency record was
    # lost cannot book twice. Cancelled bookings are left out so that a retry after a failed
    # payment start (which cancels the hold and releases the key) can book again.
    Index(
        "uq_bookings_client_id_idempotency_key",
        "client_id",
        "idempotency_key",
        unique=True,
        postgresql_where=text("status <> 'cancelled'"),
        sqlite_where=text("status <> 'cancelled'"),
    ),
)

# Stray payments (a success that cannot pay for its booking, owed back in full) and disputes,
# each kept once under its reference: the intent id, or the dispute id (0008).
payment_incidents = Table(
    "payment_incidents",
    metadata,
    Column("reference", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("payment_intent_id", String(255), nullable=False),
    Column("booking_id", Uuid, nullable=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("detail", String(255), nullable=False),
    Column("refund_due_cents", BigInteger, nullable=False),
    Column("refunded_cents", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "refunded_cents <= refund_due_cents AND refund_due_cents <= amount_cents",
        name="refund_within_amount",
    ),
    Index(None, "payment_intent_id"),
    Index(None, "recorded_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(128), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("response", Text, nullable=True),  # NULL while the first request is in flight
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "key"),
    Index(None, "expires_at"),
)

processed_webhook_events = Table(
    "processed_webhook_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(128), nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
)

IN_FLIGHT = "dispatched_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL"

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # JSON of the event's fields
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=True),
    # The request that caused the event (its X-Request-ID), so the job's log lines carry it.
    Column("request_id", String(64), nullable=True),
    # Set when the row's notification job was given up, by the in-process runner (with
    # dispatched_at) or by RQ after its retries: a dead letter (adapters/jobs/dead_letters.py).
    Column("failed_at", UtcDateTime, nullable=True),
    # Random, written with the row: the id of its job in the queue, which no other database's
    # row (nor a row of this database restored to an earlier sequence) shares. NULL only on
    # rows older than revision 0005; the relay gives those one before enqueueing.
    Column("job_key", String(32), nullable=True),
    Index("ix_outbox_job_key", "job_key", unique=True),
    Column("last_error", String(500), nullable=True),  # why it was given up
    # Set by the notification job when it succeeded. Dispatched, not done and not failed: the
    # row is in flight, and the relay re-hands it if Redis lost its job (outbox_relay.py).
    Column("done_at", UtcDateTime, nullable=True),
    # The dispatcher reads undispatched rows in order; dispatched ones drop out of the index.
    Index(
        "ix_outbox_undispatched",
        "id",
        postgresql_where=text("dispatched_at IS NULL"),
        sqlite_where=text("dispatched_at IS NULL"),
    ),
    Index(
        "ix_outbox_failed",
        "id",
        postgresql_where=text("failed_at IS NOT NULL"),
        sqlite_where=text("failed_at IS NOT NULL"),
    ),
    Index(
        "ix_outbox_in_flight",
        "dispatched_at",
        postgresql_where=text(IN_FLIGHT),
        sqlite_where=text(IN_FLIGHT),
    ),
)

# The sent log: one row per email (``<cause>:<position>:<recipient>``), claimed before sending
# and marked sent after, so that a job run twice sends each email once
# (adapters/notifications/sent_log.py).
sent_emails = Table(
    "sent_emails",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("claimed_at", UtcDateTime, nullable=False),  # the last claim; the lease runs from it
    Column("sent_at", UtcDateTime, nullable=True),
    Index(None, "claimed_at"),
)

# Token ids (``jti``) and refresh-token families (``fam``) ended before they expire by a logout
# or by reuse detection. The durable store; Redis, when configured, caches it. Rows past
# ``expires_at`` can be purged.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

# One row per login (a family of tokens): the one refresh token of it that may be used next.
# Refreshing swaps it for the new one; presenting any other ends the family (reuse detection).
token_families = Table(
    "token_families",
    metadata,
    Column("family_id", String(64), primary_key=True),
    Column("account_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("current_jti", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

# "Log out everywhere": the account's tokens issued at or before ``valid_after`` are refused.
token_valid_after = Table(
    "token_valid_after",
    metadata,
    Column("account_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("valid_after", UtcDateTime, nullable=False),
)

# A professional's calendar feed token, as its SHA-256 (the token itself is shown once, when
# made): a database leak gives no feed away, and a new token replaces the row.
calendar_feed_tokens = Table(
    "calendar_feed_tokens",
    metadata,
    Column(
        "professional_id",
        Uuid,
        ForeignKey("professionals.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("token_sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
