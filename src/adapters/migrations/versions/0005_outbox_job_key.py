"""Each outbox row gets a random job key: the id of its job in the queue, unique everywhere.

Row ids restart at 1 in every database and after a restore to an earlier sequence, so a job
named by the row id could be mistaken for another database's job (or an older one of this
database) sharing the queue. The key is written with the row; rows written before this
revision (or by an older process during a rolling upgrade) get one from the relay before
their job is enqueued. The unique index finds a job's row and refuses a duplicate key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("job_key", sa.String(32), nullable=True))
    op.create_index("ix_outbox_job_key", "outbox", ["job_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_outbox_job_key", table_name="outbox")
    op.execute("ALTER TABLE outbox DROP COLUMN job_key")  # as in 0003: no batch copy
