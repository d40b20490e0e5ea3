"""Password reset tokens, stored as their SHA-256 only, each good once for 30 minutes.

Reset tokens used to be stateless (signed, and spent by the password change they allowed).
Each request now writes a row here, and the link's mail to the outbox, in one transaction: the
mail survives a mail server that is down, and a token is spent, with every other token of its
account, by the reset it allows. A request for an address without an account writes the same
rows (``account_id`` NULL, never mailed), so both cost the same.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey(
                "users.id", name="fk_password_reset_tokens_account_id_users", ondelete="CASCADE"
            ),
            nullable=True,
        ),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_password_reset_tokens_token_sha256"),
    )
    op.create_index(
        "ix_password_reset_tokens_account_id", "password_reset_tokens", ["account_id"]
    )
    op.create_index(
        "ix_password_reset_tokens_expires_at", "password_reset_tokens", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_table("password_reset_tokens")
