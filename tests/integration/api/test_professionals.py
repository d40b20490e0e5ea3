"""Profiles, search, availability, days off and free slots through the API."""

from __future__ import annotations

import pytest

from tests.factories import MONDAY, at
from tests.integration.api.support import PROFILE, Api, error_code

BERLIN = {"lat": 52.52, "lng": 13.405}
POTSDAM = {"lat": 52.39, "lng": 13.065}  # about 27 km from Berlin
MUNICH = {"lat": 48.137, "lng": 11.575}


def test_search_by_category_and_radius_orders_by_distance(api: Api) -> None:
    category = "tiling"
    _, far = api.professional(category=category, location=POTSDAM, name="Far")
    _, near = api.professional(category=category, location=BERLIN, name="Near")
    api.professional(category=category, location=MUNICH, name="Out of range")
    api.professional(category="painting", location=BERLIN, name="Other trade")

    found = api.client.get(
        "/professionals",
        query_string={"category": category, "lat": 52.52, "lng": 13.40, "radius_km": 50},
    ).get_json()

    assert [pro["id"] for pro in found["items"]] == [near["id"], far["id"]]
    assert found["items"][0]["distance_km"] < found["items"][1]["distance_km"]


def test_search_pages_through_results(api: Api) -> None:
    for name in ("A", "B", "C"):
        api.professional(category="roofing", name=name)

    page = api.client.get(
        "/professionals", query_string={"category": "roofing", "limit": 2, "offset": 1}
    ).get_json()

    assert [pro["name"] for pro in page["items"]] == ["B", "C"]
    assert (page["limit"], page["offset"]) == (2, 1)


def test_search_for_free_time_leaves_out_the_fully_booked(api: Api) -> None:
    _, busy = api.professional(category="gardening", name="Busy")
    _, free = api.professional(category="gardening", name="Free")
    api.book(api.register(), busy["id"], at(MONDAY, 10), 60)

    found = api.client.get(
        "/professionals",
        query_string={
            "category": "gardening",
            "available_from": "2026-06-01T10:00:00+00:00",
            "available_to": "2026-06-01T11:00:00+00:00",
            "duration_minutes": 60,
        },
    ).get_json()

    assert [pro["id"] for pro in found["items"]] == [free["id"]]


def test_pages_of_a_search_for_free_time_count_only_the_free(api: Api) -> None:
    client = api.register()
    made = []
    for km, busy in [(1, True), (2, False), (3, True), (4, False), (5, False), (6, True)]:
        spot = {"lat": BERLIN["lat"] + km / 111.2, "lng": BERLIN["lng"]}
        _, pro = api.professional(category="glazing", location=spot, name=f"{km} km")
        if busy:
            api.book(client, pro["id"], at(MONDAY, 10), 60)
        made.append(pro)
    search = {
        "category": "glazing",
        **BERLIN,
        "radius_km": 10,
        "available_from": "2026-06-01T10:00:00+00:00",
        "available_to": "2026-06-01T11:00:00+00:00",
        "duration_minutes": 60,
    }

    first = api.client.get("/professionals", query_string={**search, "limit": 2}).get_json()
    second = api.client.get(
        "/professionals", query_string={**search, "limit": 2, "offset": 2}
    ).get_json()

    assert [pro["name"] for pro in first["items"]] == ["2 km", "4 km"]
    assert [pro["name"] for pro in second["items"]] == ["5 km"]


def test_a_point_without_a_radius_is_refused(api: Api) -> None:
    response = api.client.get("/professionals", query_string={"lat": 52.5, "lng": 13.4})

    assert response.status_code == 422


def test_get_returns_the_version_as_etag(api: Api) -> None:
    _, pro = api.professional()

    response = api.client.get(f"/professionals/{pro['id']}")

    assert response.headers["ETag"] == f'"{pro["version"]}"'


def test_a_patch_with_the_current_etag_applies(api: Api) -> None:
    account, pro = api.professional()
    etag = api.client.get(f"/professionals/{pro['id']}").headers["ETag"]

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"hourly_rate_cents": 8000},
        headers={**account.headers, "If-Match": etag},
    )

    assert response.status_code == 200
    assert response.get_json()["hourly_rate_cents"] == 8000
    assert response.headers["ETag"] != etag


def test_a_patch_with_a_stale_etag_is_refused_and_changes_nothing(api: Api) -> None:
    account, pro = api.professional()
    stale = api.client.get(f"/professionals/{pro['id']}").headers["ETag"]
    api.client.patch(f"/professionals/{pro['id']}", json={"name": "First"},
                     headers={**account.headers, "If-Match": stale})

    lost = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Second"},
        headers={**account.headers, "If-Match": stale},
    )

    assert lost.status_code == 412
    assert error_code(lost) == "precondition_failed"
    assert api.client.get(f"/professionals/{pro['id']}").get_json()["name"] == "First"


@pytest.mark.parametrize(
    "if_match",
    [
        '"' + "9" * 5000 + '"',  # more digits than int() converts
        '"' + "1" * 19 + '"',  # more than a version can be
        '"\u0663"',  # ARABIC-INDIC DIGIT THREE: str.isdigit() says yes
        '"\u00b3"',  # SUPERSCRIPT THREE
        "1",  # not quoted
        '"1", "2"',
        '"-1"',
        '""',
        "",
    ],
)
def test_a_malformed_if_match_is_a_bad_header_and_changes_nothing(
    api: Api, if_match: str
) -> None:
    account, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Changed"},
        headers={**account.headers, "If-Match": if_match},
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_header"
    assert api.client.get(f"/professionals/{pro['id']}").get_json()["name"] == pro["name"]


def test_a_weak_etag_never_matches_if_match_even_for_the_current_version(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Changed"},
        headers={**account.headers, "If-Match": f'W/"{pro["version"]}"'},
    )

    assert response.status_code == 412
    assert error_code(response) == "precondition_failed"
    assert api.client.get(f"/professionals/{pro['id']}").get_json()["name"] == pro["name"]


def test_if_match_star_applies_whatever_the_version(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Changed"},
        headers={**account.headers, "If-Match": "*"},
    )

    assert response.status_code == 200
    assert response.get_json()["name"] == "Changed"


def test_a_patch_rejects_fields_that_are_not_editable(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"version": 99}, headers=account.headers
    )

    assert response.status_code == 422


def test_new_availability_changes_the_free_slots(api: Api) -> None:
    account, pro = api.professional()

    put = api.client.put(
        f"/professionals/{pro['id']}/availability",
        json={"windows": [{"day_of_week": 0, "start": "14:00", "end": "16:00"}]},
        headers=account.headers,
    )
    slots = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z",
                      "duration_minutes": 60},
    ).get_json()

    assert put.status_code == 200
    assert put.get_json()["windows"] == [
        {"day_of_week": 0, "start": "14:00:00", "end": "16:00:00", "is_active": True}
    ]
    assert [s["start_time"] for s in slots["slots"]] == [
        "2026-06-01T14:00:00+00:00", "2026-06-01T14:30:00+00:00", "2026-06-01T15:00:00+00:00",
    ]


def test_a_window_ending_before_it_starts_is_refused(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.put(
        f"/professionals/{pro['id']}/availability",
        json={"windows": [{"day_of_week": 0, "start": "16:00", "end": "14:00"}]},
        headers=account.headers,
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_input"


def test_days_off_take_their_slots_away(api: Api) -> None:
    account, pro = api.professional()

    put = api.client.put(
        f"/professionals/{pro['id']}/time-off",
        json={"days_off": [{"first_day": "2026-06-01", "last_day": "2026-06-01",
                            "reason": "holiday"}]},
        headers=account.headers,
    )
    read = api.client.get(f"/professionals/{pro['id']}/time-off", headers=account.headers)
    slots = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z",
                      "duration_minutes": 60},
    ).get_json()

    assert put.status_code == 200
    assert read.get_json()["days_off"][0]["reason"] == "holiday"
    assert slots["slots"] == []


def test_slots_of_an_unknown_professional_are_not_found(api: Api) -> None:
    response = api.client.get(
        "/professionals/00000000-0000-0000-0000-000000000000/slots",
        query_string={"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z",
                      "duration_minutes": 60},
    )

    assert response.status_code == 404
    assert error_code(response) == "professional_not_found"


@pytest.mark.parametrize("currency", ["jpy", "krw", "kwd", "abc", "EUR"])
def test_a_profile_in_an_unsupported_currency_is_refused_with_the_supported_ones(
    api: Api, currency: str
) -> None:
    account = api.register("professional")

    response = api.client.post(
        "/professionals", json={**PROFILE, "currency": currency}, headers=account.headers
    )

    assert response.status_code == 422
    [reason] = response.get_json()["error"]["details"]["json"]["currency"]
    assert "not a supported currency" in reason and "eur" in reason and "usd" in reason
    assert api.client.get(f"/professionals/{account.id}").status_code == 404


def test_changing_to_an_unsupported_currency_is_refused_and_changes_nothing(api: Api) -> None:
    account, pro = api.professional()

    refused = api.client.patch(
        f"/professionals/{pro['id']}", json={"currency": "jpy"}, headers=account.headers
    )
    changed = api.client.patch(
        f"/professionals/{pro['id']}", json={"currency": "gbp"}, headers=account.headers
    )

    assert refused.status_code == 422
    assert changed.status_code == 200
    assert changed.get_json()["currency"] == "gbp"
    assert changed.get_json()["version"] == pro["version"] + 1
