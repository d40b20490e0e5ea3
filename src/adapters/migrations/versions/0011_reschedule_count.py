"""Bookings count how often they were moved to another start.

``bookings.reschedule_count`` caps the moves of a booking (``HOURBOOK_MAX_RESCHEDULES_PER_BOOKING``)
and makes its iCalendar SEQUENCE: every move raises it, so a subscribed calendar replaces the
entry of the same UID. Existing rows were never moved: 0, the server default. Added and dropped
with plain ALTER TABLE on both engines, as in 0008: a batch copy of ``bookings`` would have to
rebuild its SQLite overlap triggers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column(
        "reschedule_count", sa.Integer(), nullable=False, server_default=sa.text("0")
    ))


def downgrade() -> None:
    op.execute("ALTER TABLE bookings DROP COLUMN reschedule_count")
