"""Profiles of the paths that miss their targets, run in process on the benchmark database."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from itertools import zip_longest
from uuid import uuid4

from bench import search, seed, slots
from bench.accounts import client_accounts
from bench.phases import UNREACHABLE_RATE, Setup
from bench.profiling import Profile, profile
from bench.report import Table
from booking.calendar import Calendar
from entrypoints.api.app import create_app
from entrypoints.config import RateLimits, Settings

BOOKINGS = 200


def all_profiles(setup: Setup) -> list[Table]:
    settings = Settings(
        database_url=setup.database.url,
        redis_url=setup.redis_url,
        redis_prefix=setup.redis_prefix,
        secret_key=secrets.token_urlsafe(48),
        rate_limits=RateLimits(
            default=UNREACHABLE_RATE,
            login=UNREACHABLE_RATE,
            booking=UNREACHABLE_RATE,
            search=UNREACHABLE_RATE,
            register=UNREACHABLE_RATE,
        ),
    )
    app = create_app(settings)
    client = app.test_client()
    accounts = client_accounts(setup.database, settings, BOOKINGS)  # each books once: no caps hit
    professional = str(setup.professionals(1)[0])
    starts = seed.consecutive_starts(seed.first_day())

    def book() -> None:
        answer = client.post(
            "/bookings",
            json={"professional_id": professional, "start_time": next(starts).isoformat(),
                  "duration_minutes": 60},
            headers={**accounts.take().headers, "Idempotency-Key": uuid4().hex},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"POST /bookings answered {answer.status_code}")

    window = search.window(datetime.now(UTC).date())
    asked = iter(search.queries(40, seed=9))

    def find() -> None:
        client.get(search.api_path(next(asked), window))

    calendar, span, now = slots.filled_calendar(slots.START)

    def free() -> None:
        Calendar(calendar.professional, calendar.bookings).free_slots(span, slots.DURATION, now)

    found = [
        profile("`POST /bookings` (Flask test client)", book, BOOKINGS),
        profile("`GET /professionals` search with free time (Flask test client)", find, 40),
        profile("`Calendar.free_slots`, 1,000 bookings", free, 100),
    ]
    return [_table(one) for one in found]


def _table(found: Profile) -> Table:
    table = Table(
        f"Profile: {found.title}, {found.calls} calls,"
        f" {found.seconds / found.calls * 1e3:.1f} ms each",
        ("library (own time)", "share", "function (own time)", "share"),
    )
    for (library, share), (function, fshare) in zip_longest(
        found.by_library, found.by_function, fillvalue=("", 0.0)
    ):
        table.add(library, f"{share:.0%}", f"`{function}`" if function else "", f"{fshare:.0%}")
    return table
