"""The reads that must not grow with history use the indexes made for them, as the adapter
runs them (PostgreSQL's own plans, reported by auto_explain on the connection used).

A professional with two years of bookings, and bookings of others beside: the calendar's read
of one month looks up the no-overlap constraint's GiST index by range (not every earlier
booking of the professional), the reminder job's list of confirmed bookings starting soon uses
the partial index of confirmed bookings by start, the hold-expiry job's the partial index of
pending holds by age, and the hold caps' read of a client's holds the partial index of pending
holds by client (migration 0016).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.model import BookingStatus
from booking.ports import BookingQuery
from booking.slot import Slot
from tests.integration.support import register

pytestmark = pytest.mark.postgres

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
HISTORY_SQL = """
INSERT INTO bookings (id, professional_id, client_id, start_time, end_time, blocked_until,
    buffer_minutes, total_price_cents, currency, status, refund_due_cents, refunded_cents,
    version, created_at, updated_at)
SELECT gen_random_uuid(), %(pro)s, %(client)s, at, at + interval '1 hour',
    at + interval '1 hour', 0, 6000, 'eur',
    %(status)s, 0, 0, 1, at, at
FROM generate_series(1, %(count)s) AS n,
     LATERAL (SELECT %(first)s::timestamptz + n * interval '9 hours') AS t(at)
"""


@pytest.fixture
def plans(postgres_url: str) -> Iterator[tuple[sa.Engine, list[str]]]:
    """An engine on a migrated schema with history, whose connections report every plan."""
    engine = make_engine(postgres_url)
    seen: list[str] = []

    def explain_everything(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.add_notice_handler(lambda notice: seen.append(notice.message_primary))
        with dbapi_connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute("SET auto_explain.log_min_duration = 0")
            cursor.execute("SET auto_explain.log_level = 'notice'")
            cursor.execute("SET auto_explain.log_nested_statements = on")
        dbapi_connection.commit()

    sa.event.listen(engine, "connect", explain_everything)  # before any connection is made
    migrate.upgrade(engine)
    yield engine, seen
    engine.dispose()


@pytest.fixture
def history(plans: tuple[sa.Engine, list[str]]) -> dict[str, Any]:
    engine, seen = plans
    professional, client = register(engine)
    others = [register(engine) for _ in range(3)]
    with engine.begin() as connection:
        for pro, owner in [(professional, client), *others]:
            for status, count, first in (
                ("confirmed", 1_600, NOW - timedelta(days=730)),  # history, and ahead
                ("cancelled", 400, NOW - timedelta(days=729)),
                ("pending", 40, NOW + timedelta(days=400)),  # holds, some of them stale
            ):
                connection.exec_driver_sql(HISTORY_SQL, {
                    "pro": pro.id, "client": owner.id, "count": count, "status": status,
                    "first": first,
                })  # fmt: skip
        connection.exec_driver_sql("ANALYZE bookings")
    seen.clear()
    return {"professional": professional.id, "client": client.id}


def plans_of(seen: list[str], marker: str) -> list[str]:
    """The plans of the statements whose text contains ``marker``."""
    return [message for message in seen if "Query Text" in message and marker in message]


def test_a_months_calendar_is_read_by_range_from_the_no_overlap_index(
    plans: tuple[sa.Engine, list[str]], history: dict[str, Any]
) -> None:
    engine, seen = plans
    month = Slot(NOW, NOW + timedelta(days=30))

    with SqlUnitOfWork(engine, read_only=True) as uow:
        uow.bookings.blocked_intervals(history["professional"], month)
    with SqlUnitOfWork(engine, read_only=True) as uow:
        uow.bookings.active_blocking(history["professional"], month)

    found = plans_of(seen, "tstzrange(")
    assert len(found) == 2
    for plan in found:  # looked up by professional and range in the index, not filtered after
        assert "&&" in _index_condition(plan), plan


def test_the_reminder_job_lists_confirmed_bookings_by_start_from_their_partial_index(
    plans: tuple[sa.Engine, list[str]], history: dict[str, Any]
) -> None:
    engine, seen = plans
    due = BookingQuery(
        status=BookingStatus.CONFIRMED,
        starts_from=NOW - timedelta(days=200),
        starts_before=NOW - timedelta(days=199),
        limit=100,
    )

    with SqlUnitOfWork(engine, read_only=True) as uow:
        listed = uow.bookings.list(due)

    assert listed
    found = plans_of(seen, "ORDER BY bookings.start_time")
    assert len(found) == 1
    assert "ix_bookings_confirmed_start" in found[0], found


def test_the_hold_expiry_job_and_the_hold_caps_read_pending_holds_from_their_partial_indexes(
    plans: tuple[sa.Engine, list[str]], history: dict[str, Any]
) -> None:
    engine, seen = plans

    with SqlUnitOfWork(engine, read_only=True) as uow:
        uow.bookings.pending_created_before(NOW, 200)
    with SqlUnitOfWork(engine) as uow:
        uow.bookings.lock_client_holds(history["client"], 3)

    expiring = plans_of(seen, "bookings.created_at <")
    capped = plans_of(seen, "bookings.client_id =")
    assert len(expiring) == len(capped) == 1
    assert "ix_bookings_pending_created" in expiring[0], expiring
    assert "ix_bookings_pending_client" in capped[0], capped


def _index_condition(plan: str) -> str:
    """The condition the no-overlap index is searched with ("" if it is not used)."""
    lines = plan.splitlines()
    at = next((i for i, line in enumerate(lines) if "on ex_bookings_no_overlap" in line), None)
    return lines[at + 1] if at is not None and at + 1 < len(lines) else ""
