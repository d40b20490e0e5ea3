"""The floors: the least work that gives the same result, with plain psycopg and SQL.

* booking: an overlap check and an insert of the same ``bookings`` row in one transaction;
* search: a bounding-box query on ``(category, lat, lng)``, exact distance in Python, one page.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg

from adapters.memory import EARTH_RADIUS_KM, great_circle_km

OVERLAP = """
SELECT 1 FROM bookings
WHERE professional_id = %s AND status <> 'cancelled'
  AND start_time < %s AND blocked_until > %s
LIMIT 1
"""

INSERT_BOOKING = """
INSERT INTO bookings (
    id, professional_id, client_id, start_time, end_time, blocked_until, buffer_minutes,
    total_price_cents, currency, status, refund_due_cents, refunded_cents, version,
    created_at, updated_at
) VALUES (%s, %s, %s, %s, %s, %s, 0, %s, 'eur', 'pending', 0, 0, 1, %s, %s)
"""


def booking_row(
    professional_id: UUID, client_id: UUID, start: datetime, duration: timedelta
) -> tuple[object, ...]:
    """The values of ``INSERT_BOOKING``: the row the service would store (no buffer)."""
    now = datetime.now(UTC)
    end = start + duration
    price = 6000 * (duration // timedelta(minutes=1)) // 60
    return (uuid4(), professional_id, client_id, start, end, end, price, now, now)


def book_with_psycopg(
    connection: psycopg.Connection,
    professional_id: UUID,
    client_id: UUID,
    start: datetime,
    duration: timedelta,
) -> bool:
    """Check for an overlap and insert, in one transaction; False if the time was taken."""
    try:
        with connection.transaction():
            end = start + duration
            if connection.execute(OVERLAP, (professional_id, end, start)).fetchone():
                return False
            connection.execute(INSERT_BOOKING, booking_row(professional_id, client_id, start,
                                                           duration))
    except psycopg.errors.ExclusionViolation:
        return False
    return True


BOUNDING_BOX = """
SELECT id, location_lat, location_lng FROM professionals
WHERE category = %s AND location_lat BETWEEN %s AND %s AND location_lng BETWEEN %s AND %s
"""


def search_with_psycopg(
    connection: psycopg.Connection,
    category: str,
    lat: float,
    lng: float,
    radius_km: float,
    limit: int = 20,
) -> list[tuple[float, UUID]]:
    """The nearest ``limit`` professionals of ``category`` within ``radius_km`` (no pole or
    antimeridian handling: the benchmark's points are far from both)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlng = dlat / math.cos(math.radians(lat))
    rows = connection.execute(
        BOUNDING_BOX, (category, lat - dlat, lat + dlat, lng - dlng, lng + dlng)
    ).fetchall()
    found = [(great_circle_km(lat, lng, r[1], r[2]), r[0]) for r in rows]
    return sorted(d for d in found if d[0] <= radius_km)[:limit]
