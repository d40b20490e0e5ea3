"""The scale benchmark's data: professionals, clients and two years of bookings, by ``COPY``.

At each size the database holds ``professionals`` professionals (open around the clock, spread
over five cities and the countryside in ten categories, as the search benchmark's) and
``bookings`` bookings spread evenly over them: two years of history up to yesterday and two
months ahead from the day after tomorrow, about 20% cancelled. Beside them, the same at every
size, so that an operation's own work does not change and only the table around it grows:

- a busy professional, booked every 9 hours for two years and three weeks ahead (~2,000);
- a busy client, with one booking at each of 1,000 professionals;
- 100 holds left unpaid an hour ago (what the hold-expiry job ends);
- 50 confirmed bookings starting within 24 hours (what the reminder job mails about).

The hours from yesterday to the day after tomorrow are kept free of the spread bookings, so the
last two groups never collide with them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from adapters.sql import rows
from bench import search, seed
from bench.database import Database

HISTORY = timedelta(days=730)
AHEAD = timedelta(days=60)
QUIET_FROM, QUIET_TO = timedelta(days=-1), timedelta(days=2)
BUSY_PROFESSIONAL_BOOKINGS = 2_000
BUSY_EVERY = timedelta(hours=9)
BUSY_CLIENT_BOOKINGS = 1_000
STALE_HOLDS = 100
DUE_REMINDERS = 50
CANCELLED_SHARE = 0.2
HOUR = timedelta(hours=1)
PRICE = 6000


@dataclass(frozen=True, slots=True)
class Loaded:
    now: datetime  # the hour the data was laid out around
    professionals: list[UUID]  # [0] is the busy professional
    busy_client: UUID
    booking_professionals: list[UUID]  # with history, for the booking runs (far ahead)
    bookings: int


_BOOKING_COLUMNS = (
    "id, professional_id, client_id, start_time, end_time, blocked_until, buffer_minutes,"
    " total_price_cents, currency, status, cancellation_reason, refund_due_cents,"
    " refunded_cents, version, created_at, updated_at"
)


def load(database: Database, professionals: int, bookings: int, seed_: int = 17) -> Loaded:
    rng = random.Random(seed_)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    pro_ids = [uuid4() for _ in range(professionals)]
    client_count = max(2_000, bookings // 20)
    client_ids = [uuid4() for _ in range(client_count)]
    busy_client = client_ids[0]
    with database.connect() as connection, connection.cursor() as cursor:
        _copy_professionals(cursor, pro_ids, rng, now)
        with cursor.copy(
            "COPY clients (id, name, email, phone, created_at, updated_at) FROM STDIN"
        ) as copy:
            for client_id in client_ids:
                copy.write_row((client_id, "Scale Client", "c@bench.example", "", now, now))
        made = 0
        rebuild = _drop_booking_indexes(cursor)
        with cursor.copy(f"COPY bookings ({_BOOKING_COLUMNS}) FROM STDIN") as copy:
            for row in _bookings(rng, now, pro_ids, client_ids, bookings):
                copy.write_row(row)
                made += 1
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for statement in rebuild:  # the constraint is checked here, over every row at once
            cursor.execute(statement)
        connection.commit()
    with database.connect(autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")
    return Loaded(now, pro_ids, busy_client, pro_ids[-8:], made)


def _drop_booking_indexes(cursor: Any) -> list[str]:
    """Drop the bookings' indexes and no-overlap constraint (not the primary key); return the
    statements that make them again. Building an index once is far cheaper than keeping it up
    to date through millions of inserted rows."""
    cursor.execute(
        "SELECT 'ALTER TABLE bookings ADD CONSTRAINT ' || quote_ident(conname) || ' '"
        " || pg_get_constraintdef(oid), conname FROM pg_constraint"
        " WHERE conrelid = 'bookings'::regclass AND contype = 'x'"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), c.relname FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'bookings'::regclass"
        " AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        " WHERE k.conindid = i.indexrelid)"
    )
    indexes = cursor.fetchall()
    for _, name in constraints:
        cursor.execute(f'ALTER TABLE bookings DROP CONSTRAINT "{name}"')
    for _, name in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [statement for statement, _ in (*indexes, *constraints)]


def _copy_professionals(cursor: object, ids: list[UUID], rng: random.Random,
                        now: datetime) -> None:  # fmt: skip
    template = rows.professional_values(seed.always_open())
    columns = [*template, "created_at", "updated_at"]
    with cursor.copy(f"COPY professionals ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        for professional_id in ids:
            lat, lng = search._place(rng)
            values = template | {
                "id": professional_id,
                "category": rng.choice(search.CATEGORIES),
                "location_lat": lat,
                "location_lng": lng,
            }
            copy.write_row([*values.values(), now, now])
    window_columns = "professional_id, position, day_of_week, start_time, end_time, is_active"
    with cursor.copy(f"COPY availabilities ({window_columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        for professional_id in ids:
            for window in seed.ALWAYS_OPEN:
                copy.write_row((professional_id, window.day_of_week, window.day_of_week,
                                window.start, window.end, True))  # fmt: skip


def _bookings(
    rng: random.Random, now: datetime, pros: list[UUID], clients: list[UUID], total: int
) -> Iterator[tuple[object, ...]]:
    busy_pro, busy_client = pros[0], clients[0]
    # The fixed groups first.
    start = now - HISTORY
    for _ in range(BUSY_PROFESSIONAL_BOOKINGS):
        if not QUIET_FROM <= start - now < QUIET_TO:
            yield _row(rng, busy_pro, clients[1 + rng.randrange(len(clients) - 1)], start, now)
        start += BUSY_EVERY
    for index in range(STALE_HOLDS):
        pro = pros[1 + index % (len(pros) - 1)]
        yield _row(rng, pro, clients[1 + index], now + timedelta(hours=26 + index % 20), now,
                   status="pending", created=now - HOUR)  # fmt: skip
    for index in range(DUE_REMINDERS):
        pro = pros[1 + (STALE_HOLDS + index) % (len(pros) - 1)]
        yield _row(rng, pro, clients[1 + index], now + timedelta(hours=1 + index % 20), now,
                   status="confirmed")  # fmt: skip
    # The spread: each other professional's share, evenly over the span, the busy client's
    # one booking first at each of the first 1,000.
    others = pros[1:]
    spread = max(total - BUSY_PROFESSIONAL_BOOKINGS - STALE_HOLDS - DUE_REMINDERS, 0)
    span_hours = int((HISTORY + AHEAD) / HOUR)
    for number, pro in enumerate(others):
        share = spread // len(others) + (1 if number < spread % len(others) else 0)
        step = span_hours // share if share else span_hours
        offset = rng.randrange(max(step - 1, 1))
        for j in range(share):
            start = now - HISTORY + HOUR * (offset + j * step)
            if QUIET_FROM <= start - now < QUIET_TO:
                start += QUIET_TO - QUIET_FROM
            if j == 0 and number < BUSY_CLIENT_BOOKINGS:
                client = busy_client
            else:
                client = clients[1 + rng.randrange(len(clients) - 1)]
            yield _row(rng, pro, client, start, now)


def _row(
    rng: random.Random,
    professional: UUID,
    client: UUID,
    start: datetime,
    now: datetime,
    *,
    status: str | None = None,
    created: datetime | None = None,
) -> tuple[object, ...]:
    if status is None:
        status = "cancelled" if rng.random() < CANCELLED_SHARE else "confirmed"
    created = created or min(start - timedelta(days=3), now)
    reason = "client" if status == "cancelled" else None
    return (
        uuid4(), professional, client, start, start + HOUR, start + HOUR, 0, PRICE, "eur",
        status, reason, 0, 0, 1, created, created,
    )
