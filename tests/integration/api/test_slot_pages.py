"""Weekly windows on one day may not overlap (touching is fine), and the public slots answer
holds at most 1,000 slots, each once, with the URL of the next page: one anonymous request
can no longer ask for hundreds of thousands."""

from __future__ import annotations

from booking.catalogue import MAX_SLOTS
from tests.integration.api.support import Api, error_code

ALL_DAY = {"start": "00:00", "end": "00:00"}
FINE_GRID = {"minimum_notice_minutes": 0, "granularity_minutes": 5, "minimum_duration_minutes": 5}
TWO_MONTHS = {"from": "2026-06-02T00:00:00Z", "to": "2026-08-03T00:00:00Z", "duration_minutes": 5}


def test_overlapping_windows_are_refused_with_a_422_that_names_them(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.put(
        f"/professionals/{pro['id']}/availability",
        json={
            "windows": [
                {"day_of_week": 0, "start": "09:00", "end": "12:00"},
                {"day_of_week": 0, "start": "11:00", "end": "14:00"},
                {"day_of_week": 1, "start": "11:00", "end": "14:00"},
            ]
        },
        headers=account.headers,
    )
    kept = api.client.get(f"/professionals/{pro['id']}/availability").get_json()

    assert response.status_code == 422
    assert error_code(response) == "overlapping_windows"
    assert "Monday 09:00-12:00 and Monday 11:00-14:00" in response.get_json()["error"]["message"]
    assert len(kept["windows"]) == 7  # unchanged


def test_a_new_profile_with_the_same_window_twice_is_refused(api: Api) -> None:
    account = api.register("professional")

    response = api.client.post(
        "/professionals",
        json={
            "name": "Twice", "email": "twice@example.com", "category": "plumbing",
            "hourly_rate_cents": 100, "time_zone": "UTC", "location": {"lat": 0, "lng": 0},
            "availability": [{"day_of_week": 2, **ALL_DAY}, {"day_of_week": 2, **ALL_DAY}],
        },
        headers=account.headers,
    )

    assert response.status_code == 422
    assert "Wednesday 00:00-24:00 and Wednesday 00:00-24:00" in response.get_json()["error"][
        "message"
    ]


def test_touching_windows_are_accepted(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.put(
        f"/professionals/{pro['id']}/availability",
        json={
            "windows": [
                {"day_of_week": 0, "start": "09:00", "end": "12:00"},
                {"day_of_week": 0, "start": "12:00", "end": "00:00"},
            ]
        },
        headers=account.headers,
    )

    assert response.status_code == 200


def test_two_months_of_five_minute_slots_come_in_pages_of_at_most_1000_each_once(
    api: Api,
) -> None:
    _, pro = api.professional(
        availability=[{"day_of_week": day, **ALL_DAY} for day in range(7)], policy=FINE_GRID
    )

    first = api.client.get(f"/professionals/{pro['id']}/slots", query_string=TWO_MONTHS)
    body = first.get_json()
    second = api.client.get(body["next"]).get_json()

    assert first.status_code == 200
    assert len(body["slots"]) == MAX_SLOTS == 1000
    starts = [s["start_time"] for s in body["slots"] + second["slots"]]
    assert len(starts) == len(set(starts)) == 2 * MAX_SLOTS
    assert starts == sorted(starts)
    assert second["slots"][0]["start_time"] == "2026-06-05T11:20:00+00:00"  # 1000 × 5 min on
    assert body["next"].startswith(f"/professionals/{pro['id']}/slots?from=2026-06-05T11")


def test_the_last_page_has_no_next(api: Api) -> None:
    _, pro = api.professional()

    body = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={
            "from": "2026-06-02T00:00:00Z", "to": "2026-06-03T00:00:00Z", "duration_minutes": 60
        },
    ).get_json()

    assert len(body["slots"]) == 15
    assert body["next"] is None
