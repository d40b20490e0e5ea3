"""Accounts: verified e-mail addresses, and "log out everywhere".

``users.email_verified_at`` is set when the owner follows the link mailed to the address; with
``HOURBOOK_EMAIL_VERIFICATION=required`` an account books only once it is set. Accounts made
before this revision keep booking: their addresses count as verified from their creation.
``token_valid_after`` holds, per account, the instant before which its tokens are refused, and
``token_families`` the one refresh token of each login that may be used next.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.types import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", UtcDateTime(), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at")
    op.create_table(
        "token_valid_after",
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_token_valid_after_account_id_users"
            ),
            nullable=False,
        ),
        sa.Column("valid_after", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_token_valid_after"),
    )
    op.create_table(
        "token_families",
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_token_families_account_id_users"
            ),
            nullable=False,
        ),
        sa.Column("current_jti", sa.String(64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("family_id", name="pk_token_families"),
    )
    op.create_index("ix_token_families_expires_at", "token_families", ["expires_at"])


def downgrade() -> None:
    op.drop_table("token_families")
    op.drop_table("token_valid_after")
    op.execute("ALTER TABLE users DROP COLUMN email_verified_at")  # as in 0003: no batch copy
