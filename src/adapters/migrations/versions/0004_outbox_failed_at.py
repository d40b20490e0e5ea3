"""Outbox rows the in-process job runner gave up are marked, so they can be counted.

``failed_at`` is set (with ``dispatched_at``) when the runner of the embedded default stops
retrying a row's job; the failed-jobs gauge counts those rows, which a partial index keeps
cheap. With Redis, RQ keeps failed jobs itself and the column stays empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("failed_at", UtcDateTime(), nullable=True))
    op.create_index(
        "ix_outbox_failed", "outbox", ["id"],
        postgresql_where=sa.text("failed_at IS NOT NULL"),
        sqlite_where=sa.text("failed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_failed", table_name="outbox")
    op.execute("ALTER TABLE outbox DROP COLUMN failed_at")  # as in 0003: no batch copy
