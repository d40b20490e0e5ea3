"""Times at the ends of the calendar answer 422 with a reason, never 500, and break nobody else.

Python's datetimes end at years 1 and 9999; a day or a UTC offset past either end overflows.
The API accepts instants and days in the years 1970 to 2200 only, and the domain copes with
anything stored before that rule existed.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest
from werkzeug.test import TestResponse

from booking import catalogue
from booking.model import TimeOff
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import Api, Json, booking_body, error_code

END_OF_TIME = {"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z"}
START_OF_TIME = {"from": "0001-01-01T00:00:00+14:00", "to": "0001-01-02T00:00:00+14:00"}
JUST_AFTER_2200 = {"from": "2200-12-31T23:00:00-02:00", "to": "2201-01-02T00:00:00Z"}
JUST_BEFORE_1970 = {"from": "1970-01-01T00:30:00+01:00", "to": "1970-01-02T00:00:00Z"}


def field_errors(response: TestResponse, location: str) -> Json:
    """The field errors of a 422 ``validation_failed`` answer, by field, in ``location``."""
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "validation_failed"
    errors: Json = response.get_json()["error"]["details"][location]
    return errors


@pytest.mark.parametrize("span", [END_OF_TIME, START_OF_TIME, JUST_AFTER_2200, JUST_BEFORE_1970])
def test_slots_outside_the_years_1970_to_2200_are_refused_with_a_reason(
    api: Api, span: dict[str, str]
) -> None:
    _, pro = api.professional()

    response = api.client.get(
        f"/professionals/{pro['id']}/slots", query_string={**span, "duration_minutes": 60}
    )

    errors = field_errors(response, "query")
    assert "1970" in str(errors) and "2200" in str(errors)


@pytest.mark.parametrize("span", [END_OF_TIME, START_OF_TIME])
def test_a_search_for_free_time_outside_the_supported_years_is_refused(
    api: Api, span: dict[str, str]
) -> None:
    response = api.client.get(
        "/professionals",
        query_string={"available_from": span["from"], "available_to": span["to"]},
    )

    assert set(field_errors(response, "query")) == {"available_from", "available_to"}


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00+14:00"])
def test_a_booking_at_the_end_of_time_is_refused_and_books_nothing(api: Api, start: str) -> None:
    _, pro = api.professional()
    client = api.register()

    response = api.client.post(
        "/bookings",
        json={**booking_body(pro["id"], MONDAY), "start_time": start},
        headers={**client.headers, "Idempotency-Key": str(uuid4())},
    )

    assert "start_time" in field_errors(response, "json")
    listed = api.client.get("/bookings", headers=client.headers).get_json()
    assert listed["items"] == []


@pytest.mark.parametrize("bound", ["from", "to"])
def test_listing_bookings_from_the_start_of_time_is_refused(api: Api, bound: str) -> None:
    client = api.register()

    response = api.client.get(
        "/bookings", query_string={bound: "0001-01-01T00:00:00+14:00"}, headers=client.headers
    )

    assert bound in field_errors(response, "query")


@pytest.mark.parametrize(
    "days",
    [("2026-06-01", "9999-12-31"), ("0001-01-01", "2026-06-01"), ("2201-01-01", "2201-01-01")],
)
def test_days_off_outside_the_years_1970_to_2200_are_refused(
    api: Api, days: tuple[str, str]
) -> None:
    account, pro = api.professional()

    response = api.client.put(
        f"/professionals/{pro['id']}/time-off",
        json={"days_off": [{"first_day": days[0], "last_day": days[1]}]},
        headers=account.headers,
    )

    errors = field_errors(response, "json")
    assert "1970" in str(errors["days_off"]) and "2200" in str(errors["days_off"])
    read = api.client.get(f"/professionals/{pro['id']}/time-off", headers=account.headers)
    assert read.get_json()["days_off"] == []


def test_days_off_up_to_the_end_of_2200_are_accepted(api: Api) -> None:
    account, pro = api.professional()

    response = api.client.put(
        f"/professionals/{pro['id']}/time-off",
        json={"days_off": [{"first_day": "2026-06-02", "last_day": "2200-12-31"}]},
        headers=account.headers,
    )
    slots = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T00:00:00Z", "to": "2026-06-03T00:00:00Z",
                      "duration_minutes": 60},
    ).get_json()

    assert response.status_code == 200
    assert {s["start_time"][:10] for s in slots["slots"]} == {"2026-06-01"}


def test_a_professional_off_until_the_last_representable_day_breaks_nobodys_search(
    api: Api, container: Container
) -> None:
    """Days off stored before the API refused them must not turn every search into an error."""
    _, retired = api.professional(category="locksmith", name="Retired")
    _, working = api.professional(category="locksmith", name="Working")
    forever = TimeOff(first_day=date(1, 1, 1), last_day=date.max, reason="retired")
    catalogue.set_time_off(UUID(retired["id"]), (forever,), uow=container.uow())
    window = {"from": "2026-06-01T09:00:00Z", "to": "2026-06-01T17:00:00Z"}

    search = api.client.get(
        "/professionals",
        query_string={"category": "locksmith", "available_from": window["from"],
                      "available_to": window["to"]},
    )
    slots = api.client.get(
        f"/professionals/{retired['id']}/slots", query_string={**window, "duration_minutes": 60}
    )
    refused = api.book(api.register(), retired["id"], at(MONDAY, 10), expect=422)
    booked = api.book(api.register(), working["id"], at(MONDAY, 10))

    assert search.status_code == 200
    assert [pro["id"] for pro in search.get_json()["items"]] == [working["id"]]
    assert slots.status_code == 200 and slots.get_json()["slots"] == []
    assert error_code(refused) == "outside_availability"
    assert booked.get_json()["status"] in ("pending", "confirmed")
