"""The outbox records when a row's job finished; which emails went out is kept in the database.

``outbox.done_at`` is set by the notification job when it succeeded. A row dispatched but
neither done nor a dead letter is *in flight*: its job is in the queue, running, or waiting for
a retry. ``ix_outbox_in_flight`` holds only those rows, so the relay finds the ones whose job
Redis lost without scanning the outbox. Rows dispatched before this revision are taken as done
(their jobs ran under the old code, which did not record it).

``sent_emails`` is the sent log (``adapters.sent_log.SqlSentLog``): a key per email, claimed
before sending and marked sent after, so that a job run again after Redis lost everything does
not send an email twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

IN_FLIGHT = "dispatched_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("done_at", UtcDateTime(), nullable=True))
    op.execute(
        "UPDATE outbox SET done_at = dispatched_at"
        " WHERE dispatched_at IS NOT NULL AND failed_at IS NULL"
    )
    op.create_index(
        "ix_outbox_in_flight", "outbox", ["dispatched_at"],
        postgresql_where=sa.text(IN_FLIGHT), sqlite_where=sa.text(IN_FLIGHT),
    )  # fmt: skip
    op.create_table(
        "sent_emails",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_sent_emails_claimed_at", "sent_emails", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("sent_emails")
    op.drop_index("ix_outbox_in_flight", table_name="outbox")
    op.execute("ALTER TABLE outbox DROP COLUMN done_at")  # as in 0003: no batch copy
