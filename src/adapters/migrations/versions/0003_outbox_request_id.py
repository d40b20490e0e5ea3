"""Outbox rows remember the request that caused them.

``request_id`` carries the X-Request-ID of the request whose commit wrote the event, so the
job that handles the row logs under it and its lines can be joined with the request's. It is
nullable: existing rows, and events no request caused, have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite has it since 3.35): a batch copy of
    # the table would have to rebuild the partial index ix_outbox_undispatched.
    op.execute("ALTER TABLE outbox DROP COLUMN request_id")
