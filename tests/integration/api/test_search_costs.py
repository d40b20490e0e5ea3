"""What one anonymous search may cost: a radius a person searches, at most the first 200 with
free time, one read of the search box per request, and a rate limit of its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from flask.testing import FlaskClient

from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.model import AvailabilityWindow, Location
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from tests.factories import make_professional
from tests.integration.api.support import Api, error_code
from tests.integration.support import statements

MONDAY_MORNING = {
    "available_from": "2026-06-01T10:00:00+00:00",
    "available_to": "2026-06-01T11:00:00+00:00",
    "duration_minutes": 60,
}
SUNDAYS_ONLY = (AvailabilityWindow(day_of_week=6, start=time(9), end=time(17)),)


def test_a_search_for_free_time_reads_the_search_box_once_however_many_batches(
    api: Api, container: Container
) -> None:
    with SqlUnitOfWork(container.engine) as uow:
        for metres in range(250):  # 250 near ones, none free on a Monday
            spot = Location(10.0 + metres / 111_200, 10.0)
            uow.professionals.add(
                make_professional(category="cooper", location=spot, availability=SUNDAYS_ONLY)
            )
        free = make_professional(category="cooper", location=Location(10.01, 10.0))
        uow.professionals.add(free)
        uow.commit()

    with statements(container.engine) as seen:
        found = api.client.get(
            "/professionals",
            query_string={
                "category": "cooper", "lat": 10.0, "lng": 10.0, "radius_km": 5, "limit": 1,
                **MONDAY_MORNING,
            },
        )

    assert [item["id"] for item in found.get_json()["items"]] == [str(free.id)]
    assert len([s for s in seen if "location_lat BETWEEN" in s]) == 1  # the box


def test_a_radius_above_500_km_is_refused(api: Api) -> None:
    response = api.client.get(
        "/professionals", query_string={"lat": 0, "lng": 0, "radius_km": 20_000}
    )

    assert response.status_code == 422
    assert "radius_km" in response.get_json()["error"]["details"]["query"]


def test_a_search_for_free_time_beyond_the_first_200_is_refused(api: Api) -> None:
    response = api.client.get(
        "/professionals", query_string={"offset": 10_000, "limit": 20, **MONDAY_MORNING}
    )
    without_window = api.client.get("/professionals", query_string={"offset": 10_000})

    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert "200" in str(response.get_json()["error"]["details"])
    assert without_window.status_code == 200


@pytest.fixture
def tight_search(container: Container) -> FlaskClient:
    limits = replace(container.settings.rate_limits, default="5/minute", search="2/minute")
    settings = replace(container.settings, rate_limits=limits)
    return create_app(settings, replace(container, settings=settings)).test_client()


def test_search_has_a_rate_limit_of_its_own(tight_search: FlaskClient) -> None:
    first, second = tight_search.get("/professionals"), tight_search.get("/professionals")

    third = tight_search.get("/professionals", query_string=MONDAY_MORNING)
    other = tight_search.get("/healthz")

    assert first.status_code == second.status_code == 200
    assert third.status_code == 429
    assert error_code(third) == "too_many_requests"
    assert third.headers["X-RateLimit-Limit"] == "2"
    assert other.status_code == 200
