"""A client's own time zone (IANA name), in which their emails give times.

``clients.time_zone`` is nullable: a client who gave none reads times in the professional's
zone, as every client did before this revision.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:  # SQLite drops a column by copying
        batch.drop_column("time_zone")
