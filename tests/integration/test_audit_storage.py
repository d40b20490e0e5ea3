"""The audit log's table is append-only: entries are inserted, never rewritten; only the
retention purge deletes them, in bounded batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.request_context import actor_bound
from adapters.sql import migrate
from adapters.sql.audit import AuditQuery, SqlAuditLog, write_changes
from adapters.sql.engine import make_engine
from adapters.sql.tables import audit_log
from booking.audit import WORKER, Entity, changed

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def log_entries(engine: sa.Engine, count: int, when: datetime) -> None:
    change = changed(Entity.BOOKING, uuid4(), "expired", {"status": "pending"}, {"status": "x"})
    with actor_bound(WORKER), engine.begin() as connection:
        write_changes(connection, [change] * count, when)


def count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(audit_log)) or 0)


def test_an_entry_is_stamped_with_the_actor_bound_when_it_was_written(engine: sa.Engine) -> None:
    log_entries(engine, 1, NOW)

    (entry,) = SqlAuditLog(engine).page(AuditQuery()).entries

    assert entry.actor == WORKER
    assert entry.occurred_at == NOW
    assert entry.before == {"status": "pending"}


def test_an_entry_cannot_be_updated(engine: sa.Engine) -> None:
    log_entries(engine, 1, NOW)

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(sa.update(audit_log).values(action="forged"))

    assert [entry.action for entry in SqlAuditLog(engine).page(AuditQuery()).entries] == ["expired"]


def test_retention_deletes_only_older_entries_in_batches_and_resumes_next_time(
    engine: sa.Engine,
) -> None:
    log_entries(engine, 5, NOW - timedelta(days=2))
    log_entries(engine, 2, NOW)
    store = SqlAuditLog(engine)

    first = store.purge_before(NOW - timedelta(days=1), batch_size=2, max_batches=2)
    second = store.purge_before(NOW - timedelta(days=1), batch_size=2, max_batches=2)

    assert (first, second) == (4, 1)
    assert count(engine) == 2


@pytest.mark.postgres
def test_on_postgresql_a_delete_other_than_the_retention_purge_is_refused(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    try:
        migrate.upgrade(engine)
        log_entries(engine, 1, NOW)

        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.delete(audit_log))

        assert count(engine) == 1
        purged = SqlAuditLog(engine).purge_before(
            NOW + timedelta(days=1), batch_size=10, max_batches=1
        )
        assert purged == 1
    finally:
        engine.dispose()
