"""Dead letters keep the error that made their job give up; refunds owed are found by index.

An outbox row whose notification job was given up (by RQ after its retries, or by the
in-process runner) has ``failed_at`` set; ``last_error`` now says why, so that
``hourbook jobs failed`` can show it without Redis.

``ix_bookings_refund_owed`` holds only bookings whose refund is not fully paid, so the settle
job and the refunds-owed gauges (read at every scrape) do not scan all bookings.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("last_error", sa.String(500), nullable=True))
    op.create_index(
        "ix_bookings_refund_owed", "bookings", ["updated_at"],
        postgresql_where=sa.text("refund_due_cents > refunded_cents"),
        sqlite_where=sa.text("refund_due_cents > refunded_cents"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_bookings_refund_owed", table_name="bookings")
    op.execute("ALTER TABLE outbox DROP COLUMN last_error")  # as in 0003: no batch copy
