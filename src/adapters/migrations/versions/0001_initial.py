"""Initial schema: professionals, clients, users, bookings, idempotency keys, webhooks, outbox.

No two active bookings of one professional may overlap (slot plus buffer, half-open). The
database enforces it on its own, whatever the application does: an exclusion constraint on
PostgreSQL, triggers on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = (  # in creation order; dropped in reverse
    "professionals", "availabilities", "time_off", "clients", "users", "bookings",
    "idempotency_keys", "processed_webhook_events", "outbox",
)


def upgrade() -> None:
    _catalogue()
    _users()
    _bookings()
    _infrastructure()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_no_overlap()
    elif op.get_bind().dialect.name == "sqlite":
        _sqlite_no_overlap()


def downgrade() -> None:
    # Indexes, the exclusion constraint and the triggers go with their tables. The btree_gist
    # extension stays: other schemas in the database may use it.
    for table in reversed(_TABLES):
        op.drop_table(table)


def _instant(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _professional_fk(ondelete: str | None = None, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        "professional_id", sa.Uuid(), sa.ForeignKey("professionals.id", ondelete=ondelete),
        nullable=nullable,
    )


def _catalogue() -> None:
    policy = (
        "granularity", "minimum_notice", "maximum_advance", "minimum_duration",
        "maximum_duration", "buffer", "travel_time", "free_cancellation",
    )
    op.create_table(
        "professionals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("category", sa.String(63), nullable=False),
        _int("hourly_rate_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("travel_mode", sa.String(16), nullable=False),
        _int("travel_fee_cents"),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("location_lat", sa.Float(), nullable=False),
        sa.Column("location_lng", sa.Float(), nullable=False),
        *(_int(f"{name}_minutes") for name in policy),
        sa.Column("late_cancellation_refund_percent", sa.SmallInteger(), nullable=False),
        _int("version"),
        _instant("created_at"),
        _instant("updated_at"),
    )
    op.create_index(
        "ix_professionals_category_location_lat_location_lng",
        "professionals", ["category", "location_lat", "location_lng"],
    )
    op.create_table(
        "availabilities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _professional_fk("CASCADE"),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("day_of_week BETWEEN 0 AND 6", name="day_of_week"),
    )
    op.create_index(
        "ix_availabilities_professional_id_day_of_week",
        "availabilities", ["professional_id", "day_of_week"],
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _professional_fk("CASCADE"),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.CheckConstraint("last_day >= first_day", name="days_in_order"),
    )
    op.create_index("ix_time_off_professional_id", "time_off", ["professional_id"])
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
    )


def _users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("client_id", sa.Uuid(), sa.ForeignKey("clients.id"), nullable=True),
        _professional_fk(nullable=True),
        _instant("created_at"),
        sa.UniqueConstraint("email"),
        sa.CheckConstraint("role IN ('client', 'professional', 'admin')", name="role"),
    )


def _bookings() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _professional_fk(),
        sa.Column("client_id", sa.Uuid(), sa.ForeignKey("clients.id"), nullable=False),
        _instant("start_time"),
        _instant("end_time"),
        _instant("blocked_until"),
        _int("buffer_minutes"),
        _int("total_price_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancellation_reason", sa.String(32), nullable=True),
        sa.Column("payment_intent_id", sa.String(255), nullable=True),
        _int("refund_due_cents"),
        _int("refunded_cents"),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        _int("version"),
        _instant("created_at"),
        _instant("updated_at"),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'cancelled')", name="status"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
        sa.CheckConstraint("blocked_until >= end_time", name="blocked_to_end"),
        sa.CheckConstraint("refunded_cents <= refund_due_cents", name="refund_within_due"),
    )
    op.create_index(
        "ix_bookings_professional_id_start_time_end_time",
        "bookings", ["professional_id", "start_time", "end_time"],
    )
    op.create_index("ix_bookings_status_created_at", "bookings", ["status", "created_at"])
    op.create_index("ix_bookings_client_id_start_time", "bookings", ["client_id", "start_time"])
    _partial_unique("uq_bookings_payment_intent_id", ["payment_intent_id"],
                    "payment_intent_id IS NOT NULL")
    _partial_unique("uq_bookings_client_id_idempotency_key", ["client_id", "idempotency_key"],
                    "status <> 'cancelled'")


def _partial_unique(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name, "bookings", columns, unique=True,
        postgresql_where=sa.text(where), sqlite_where=sa.text(where),
    )


def _infrastructure() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        _instant("claimed_at"),
        _instant("expires_at"),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_table(
        "processed_webhook_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(128), nullable=False),
        _instant("processed_at"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True, autoincrement=True,
        ),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _instant("occurred_at"),
        _instant("created_at"),
        _instant("dispatched_at", nullable=True),
    )
    op.create_index(
        "ix_outbox_undispatched", "outbox", ["id"],
        postgresql_where=sa.text("dispatched_at IS NULL"),
        sqlite_where=sa.text("dispatched_at IS NULL"),
    )


def _postgresql_no_overlap() -> None:
    # btree_gist lets a GiST index combine uuid equality with range overlap.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist ("
        " professional_id WITH =,"
        " tstzrange(start_time, blocked_until, '[)') WITH &&"
        ") WHERE (status <> 'cancelled')"
    )


# Timestamps are fixed-width UTC ISO text on SQLite (adapters.sql.types.UtcDateTime), so text
# comparison is time order. The update trigger only checks when the blocked time changes or a
# cancelled booking would become active again.
_SQLITE_OVERLAP_CHECK = """
BEGIN
    SELECT RAISE(ABORT, 'booking_overlap')
    WHERE EXISTS (
        SELECT 1 FROM bookings AS other
        WHERE other.professional_id = NEW.professional_id
          AND other.id <> NEW.id
          AND other.status <> 'cancelled'
          AND other.start_time < NEW.blocked_until
          AND other.blocked_until > NEW.start_time
    );
END
"""


def _sqlite_no_overlap() -> None:
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings"
        " WHEN NEW.status <> 'cancelled'" + _SQLITE_OVERLAP_CHECK
    )
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE ON bookings"
        " WHEN NEW.status <> 'cancelled' AND ("
        " OLD.status = 'cancelled' OR NEW.professional_id <> OLD.professional_id"
        " OR NEW.start_time <> OLD.start_time OR NEW.blocked_until <> OLD.blocked_until)"
        + _SQLITE_OVERLAP_CHECK
    )
