"""Prices are stored as 32-bit integers: rates and fees are capped so that every price a
profile can quote fits, and the dearest booking there can be is stored and answered exactly."""

from __future__ import annotations

from datetime import timedelta

from booking.model import MAX_HOURLY_RATE_CENTS, MAX_TRAVEL_FEE_CENTS
from tests.factories import MONDAY
from tests.integration.api.support import Api, error_code

ALL_DAY = [{"day_of_week": day, "start": "00:00", "end": "00:00"} for day in range(7)]
LONGEST = {"minimum_notice_minutes": 0, "maximum_duration_minutes": 24 * 60}


def test_the_dearest_booking_there_can_be_is_held_at_its_exact_price(api: Api) -> None:
    _, pro = api.professional(
        hourly_rate_cents=MAX_HOURLY_RATE_CENTS,
        travel_mode="travel",
        travel_fee_cents=MAX_TRAVEL_FEE_CENTS,
        availability=ALL_DAY,
        policy=LONGEST,
    )

    held = api.book(api.register(), pro["id"], MONDAY + timedelta(days=1), minutes=24 * 60)

    assert held.get_json()["total_price_cents"] == 24 * MAX_HOURLY_RATE_CENTS + MAX_TRAVEL_FEE_CENTS
    assert held.get_json()["total_price_cents"] < 2**31


def test_a_rate_above_the_cap_is_refused_with_a_422_naming_the_field(api: Api) -> None:
    account = api.register("professional")

    created = api.client.post(
        "/professionals",
        json={
            "name": "Midas", "email": "midas@example.com", "category": "gold",
            "hourly_rate_cents": 100_000_000, "time_zone": "UTC",
            "location": {"lat": 0, "lng": 0}, "availability": ALL_DAY, "policy": LONGEST,
        },
        headers=account.headers,
    )

    assert created.status_code == 422
    assert error_code(created) == "validation_failed"
    assert "hourly_rate_cents" in created.get_json()["error"]["details"]["json"]


def test_raising_the_rate_above_the_cap_is_refused_and_changes_nothing(api: Api) -> None:
    account, pro = api.professional(availability=ALL_DAY, policy=LONGEST)

    changed = api.client.patch(
        f"/professionals/{pro['id']}",
        json={"hourly_rate_cents": MAX_HOURLY_RATE_CENTS + 1},
        headers=account.headers,
    )

    assert changed.status_code == 422
    assert api.client.get(f"/professionals/{pro['id']}").get_json()["hourly_rate_cents"] == (
        pro["hourly_rate_cents"]
    )
