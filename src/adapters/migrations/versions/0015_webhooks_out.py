"""Outgoing webhooks: endpoints, the events published, their deliveries and every attempt.

``webhook_events`` and ``webhook_deliveries`` are written in the transaction of the change they
report (adapters/webhooks_out/publisher.py), so the worker delivers exactly the committed
changes. ``ix_webhook_deliveries_due`` holds only pending deliveries, which the worker reads in
order of their next attempt.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = "state = 'pending'"


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_expires_at", UtcDateTime(), nullable=True),
        sa.Column("consecutive_dead", sa.Integer(), nullable=False),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "webhook_events",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("id", name="uq_webhook_events_id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "endpoint_id", sa.Uuid(),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE",
                          name="fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            nullable=False,
        ),
        sa.Column(
            "event_seq", BigId,
            sa.ForeignKey("webhook_events.seq",
                          name="fk_webhook_deliveries_event_seq_webhook_events"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'succeeded', 'dead')", name="ck_webhook_deliveries_state"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_id", "webhook_deliveries", ["endpoint_id", "id"]
    )
    op.create_index(
        "ix_webhook_deliveries_finished_at", "webhook_deliveries", ["finished_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"],
        postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING),
    )  # fmt: skip
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id", BigId,
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE",
                          name="fk_webhook_attempts_delivery_id_webhook_deliveries"),
            nullable=False,
        ),
        sa.Column("attempted_at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])
    op.create_index("ix_webhook_attempts_attempted_at", "webhook_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_endpoints")
