"""Partial indexes on the bookings each job and check needs, so their cost does not grow with
history (docs/performance.md "The scale curve").

- ``ix_bookings_confirmed_start``: confirmed bookings by start, for the reminder job's "starting
  within 24 hours". Without it the query read a whole index of every booking ever made
  (``(client_id, start_time)``, filtered on its second column).
- ``ix_bookings_pending_created``: unpaid holds by age, for the hold-expiry job. It replaces
  ``ix_bookings_status_created_at``, which indexed every booking (and was updated on every
  write of any of them) to find the few pending ones.
- ``ix_bookings_pending_client``: a client's unpaid holds, for the hold caps on every booking.
  Without it the check read the client's whole history through ``(client_id, start_time)``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

CONFIRMED = "status = 'confirmed'"
PENDING = "status = 'pending'"


def upgrade() -> None:
    for name, columns, where in (
        ("ix_bookings_confirmed_start", ["start_time"], CONFIRMED),
        ("ix_bookings_pending_created", ["created_at"], PENDING),
        ("ix_bookings_pending_client", ["client_id"], PENDING),
    ):
        op.create_index(
            name, "bookings", columns,
            postgresql_where=sa.text(where), sqlite_where=sa.text(where),
        )  # fmt: skip
    op.drop_index("ix_bookings_status_created_at", table_name="bookings")


def downgrade() -> None:
    op.create_index("ix_bookings_status_created_at", "bookings", ["status", "created_at"])
    for name in ("ix_bookings_pending_client", "ix_bookings_pending_created",
                 "ix_bookings_confirmed_start"):  # fmt: skip
        op.drop_index(name, table_name="bookings")
