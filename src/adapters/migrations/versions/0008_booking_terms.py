"""Bookings keep the cancellation terms they were made under and what their payment took in;
stray payments and disputes are recorded.

- ``bookings.free_cancellation_minutes`` and ``late_cancellation_refund_percent``: the terms
  agreed at the hold, so a later policy change cannot cut a paid client's refund. Existing rows
  take their professional's policy as it is now: the only record of what was agreed, and exact
  for every booking whose professional has not changed the policy since.
- ``bookings.paid_cents``: what the booking's own payment took in. Existing rows that were
  confirmed, or owe or got a refund, were paid their price (the only amount the old code took
  in); the others took nothing.
- ``payment_incidents``: stray payments (owed back in full) and disputes, one row each.

The new columns have server defaults (the default policy, 0), so rows written by other tools
stay valid. Columns are added and dropped with plain ALTER TABLE on both engines: a batch copy
of ``bookings`` would have to rebuild its SQLite overlap triggers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column(
        "free_cancellation_minutes", sa.Integer(), nullable=False, server_default=sa.text("1440")
    ))
    op.add_column("bookings", sa.Column(
        "late_cancellation_refund_percent", sa.SmallInteger(), nullable=False,
        server_default=sa.text("50"),
    ))
    op.add_column("bookings", sa.Column(
        "paid_cents", sa.Integer(), nullable=False, server_default=sa.text("0")
    ))
    op.execute(
        "UPDATE bookings SET"
        " free_cancellation_minutes = (SELECT p.free_cancellation_minutes FROM professionals p"
        "  WHERE p.id = bookings.professional_id),"
        " late_cancellation_refund_percent = (SELECT p.late_cancellation_refund_percent"
        "  FROM professionals p WHERE p.id = bookings.professional_id)"
    )
    op.execute(
        "UPDATE bookings SET paid_cents = total_price_cents"
        " WHERE payment_intent_id IS NOT NULL"
        " AND (status = 'confirmed' OR refund_due_cents > 0 OR refunded_cents > 0)"
    )
    op.create_table(
        "payment_incidents",
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payment_intent_id", sa.String(255), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
        sa.Column("refund_due_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "refunded_cents <= refund_due_cents AND refund_due_cents <= amount_cents",
            name="refund_within_amount",
        ),
        sa.PrimaryKeyConstraint("reference"),
    )
    op.create_index(
        "ix_payment_incidents_payment_intent_id", "payment_incidents", ["payment_intent_id"]
    )
    op.create_index("ix_payment_incidents_recorded_at", "payment_incidents", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_incidents_recorded_at", table_name="payment_incidents")
    op.drop_index("ix_payment_incidents_payment_intent_id", table_name="payment_incidents")
    op.drop_table("payment_incidents")
    for column in ("paid_cents", "late_cancellation_refund_percent", "free_cancellation_minutes"):
        op.execute(f"ALTER TABLE bookings DROP COLUMN {column}")
