"""Calendar feed tokens: one random token per professional, stored as its SHA-256 only.

The feed URL used to carry HMAC(secret key, professional id), which never changes: a leaked
URL gave the professional's bookings away for good. A token is now made (and the one before
it revoked) by ``POST /professionals/{id}/calendar-feed/rotate``; until then a professional
has no feed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed_tokens",
        sa.Column(
            "professional_id",
            sa.Uuid(),
            sa.ForeignKey(
                "professionals.id",
                name="fk_calendar_feed_tokens_professional_id_professionals",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("professional_id", name="pk_calendar_feed_tokens"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feed_tokens")
