"""Search over 100,000 professionals: category + 10 km radius + free in a window.

The professionals are copied straight into the migrated schema with ``COPY``. Most live around
five cities (a normal spread of 15 km), the rest anywhere in Germany; half of them are booked
for the whole searched window, so the free-time filter has real work to do.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from adapters.sql import rows
from bench.database import Database
from bench.floors import search_with_psycopg
from bench.measure import Latency, timed
from booking import catalogue
from booking.catalogue import FreeTime
from booking.model import AvailabilityWindow, Location, Professional
from booking.ports import Clock, SearchCriteria, UnitOfWork
from booking.slot import Slot

PROFESSIONALS = 100_000
CATEGORIES = (
    "plumbing", "electrics", "tutoring", "cleaning", "gardening",
    "massage", "photography", "moving", "painting", "it-support",
)
CITIES = (  # Berlin, Hamburg, Munich, Cologne, Frankfurt
    (52.520, 13.405), (53.551, 9.994), (48.137, 11.575), (50.938, 6.960), (50.110, 8.682),
)
SPREAD_KM = 15.0
RADIUS_KM = 10.0
ZONE = "Europe/Berlin"
OPEN, CLOSE = time(9), time(17)
DURATION = timedelta(minutes=60)
KM_PER_DEGREE = 111.2


@dataclass(frozen=True, slots=True)
class Query:
    category: str
    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class SearchResults:
    service: Latency
    floor: Latency
    candidates: float  # professionals of the category within the radius, per query
    found: float  # of them free in the window, per query (the page holds at most 20)


def window(today: date) -> Slot:
    """09:00-17:00 in Berlin a week from ``today``: inside every professional's hours."""
    zone = ZoneInfo(ZONE)
    day = today + timedelta(days=7)
    return Slot(
        datetime.combine(day, OPEN, tzinfo=zone).astimezone(UTC),
        datetime.combine(day, CLOSE, tzinfo=zone).astimezone(UTC),
    )


def seed(database: Database, span: Slot, count: int = PROFESSIONALS, seed: int = 3) -> None:
    """``count`` professionals with their weekly hours; every other one booked for ``span``."""
    rng = random.Random(seed)
    template = rows.professional_values(_template())
    columns = [*template, "created_at", "updated_at"]
    now = datetime.now(UTC)
    client = uuid4()
    ids = [uuid4() for _ in range(count)]
    with database.connect() as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY professionals ({', '.join(columns)}) FROM STDIN") as copy:
            for professional_id in ids:
                lat, lng = _place(rng)
                values = template | {
                    "id": professional_id,
                    "category": rng.choice(CATEGORIES),
                    "location_lat": lat,
                    "location_lng": lng,
                }
                copy.write_row([*values.values(), now, now])
        windows = "professional_id, position, day_of_week, start_time, end_time, is_active"
        with cursor.copy(f"COPY availabilities ({windows}) FROM STDIN") as copy:
            for professional_id in ids:
                for day in range(7):
                    copy.write_row((professional_id, day, day, OPEN, CLOSE, True))
        cursor.execute(
            "INSERT INTO clients (id, name, email, phone, created_at, updated_at)"
            " VALUES (%s, 'Busy', 'busy@bench.example', '', %s, %s)",
            (client, now, now),
        )
        with cursor.copy(_COPY_BOOKINGS) as copy:
            for professional_id in ids[::2]:
                copy.write_row(_busy_row(professional_id, client, span, now))
        connection.commit()
    with database.connect(autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


_COPY_BOOKINGS = (
    "COPY bookings (id, professional_id, client_id, start_time, end_time, blocked_until,"
    " buffer_minutes, total_price_cents, currency, status, refund_due_cents, refunded_cents,"
    " version, created_at, updated_at) FROM STDIN"
)


def _busy_row(professional: UUID, client: UUID, span: Slot, now: datetime) -> tuple[object, ...]:
    return (
        uuid4(), professional, client, span.start, span.end, span.end, 0, 48000, "eur",
        "confirmed", 0, 0, 1, now, now,
    )


def _template() -> Professional:
    return Professional(
        id=uuid4(),
        name="Searchable Professional",
        email="found@bench.example",
        category=CATEGORIES[0],
        hourly_rate_cents=5000,
        currency="eur",
        time_zone=ZONE,
        location=Location(*CITIES[0]),
        availability=tuple(
            AvailabilityWindow(day_of_week=d, start=OPEN, end=CLOSE) for d in range(7)
        ),
    )


def _place(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.6:
        lat, lng = rng.choice(CITIES)
        north, east = rng.gauss(0, SPREAD_KM), rng.gauss(0, SPREAD_KM)
        return (
            lat + north / KM_PER_DEGREE,
            lng + east / (KM_PER_DEGREE * math.cos(math.radians(lat))),
        )
    return rng.uniform(47.5, 54.5), rng.uniform(6.0, 15.0)


def queries(count: int, seed: int = 5) -> list[Query]:
    """Searches from points within 3 km of a city centre, for a random category."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        lat, lng = rng.choice(CITIES)
        found.append(Query(
            rng.choice(CATEGORIES),
            lat + rng.uniform(-3, 3) / KM_PER_DEGREE,
            lng + rng.uniform(-3, 3) / (KM_PER_DEGREE * math.cos(math.radians(lat))),
        ))
    return found


def through_service(
    query: Query, span: Slot, uow: UnitOfWork, clock: Clock
) -> list[tuple[Professional, float | None]]:
    criteria = SearchCriteria(
        category=query.category, near=Location(query.lat, query.lng), radius_km=RADIUS_KM
    )
    free = FreeTime(span=span, duration=DURATION)
    return catalogue.search_professionals(criteria, uow=uow, clock=clock, free=free)


def api_path(query: Query, span: Slot) -> str:
    return "/professionals?" + urlencode({
        "category": query.category,
        "lat": f"{query.lat:.6f}",
        "lng": f"{query.lng:.6f}",
        "radius_km": RADIUS_KM,
        "available_from": span.start.isoformat(),
        "available_to": span.end.isoformat(),
        "duration_minutes": DURATION // timedelta(minutes=1),
    })


def run(
    database: Database,
    uow: Callable[[], UnitOfWork],
    clock: Clock,
    span: Slot,
    count: int = 100,
) -> SearchResults:
    asked = queries(count)
    found = [len(through_service(q, span, uow(), clock)) for q in asked[:20]]
    service = _latency(iter(asked), lambda q: through_service(q, span, uow(), clock), count)
    with database.connect() as connection:
        candidates = [
            len(search_with_psycopg(connection, q.category, q.lat, q.lng, RADIUS_KM, 10**6))
            for q in asked[:20]
        ]
        floor = _latency(
            iter(asked * 2),
            lambda q: search_with_psycopg(connection, q.category, q.lat, q.lng, RADIUS_KM),
            count * 2,
        )
    return SearchResults(
        service=service,
        floor=floor,
        candidates=statistics.mean(candidates),
        found=statistics.mean(found),
    )


def _latency(asked: Iterator[Query], search: Callable[[Query], object], count: int) -> Latency:
    return Latency.of(timed(lambda: search(next(asked)), count))
