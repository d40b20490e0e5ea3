"""Rate limits: per caller, stricter on login and booking, answered 429 with Retry-After."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from entrypoints.config import RateLimits
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Api, booking_body, error_code


@pytest.fixture
def tight(container: Container) -> FlaskClient:
    """An app whose login and booking allow 2 attempts a minute and everything else 5."""
    limits = RateLimits(default="5/minute", login="2/minute", booking="2/minute")
    settings = replace(container.settings, rate_limits=limits)
    return create_app(settings, replace(container, settings=settings)).test_client()


def test_the_third_login_in_a_minute_is_rate_limited(tight: FlaskClient) -> None:
    attempt = {"email": "someone@example.com", "password": PASSWORD}
    first, second = tight.post("/auth/login", json=attempt), tight.post("/auth/login", json=attempt)

    third = tight.post("/auth/login", json=attempt)

    assert first.status_code == second.status_code == 401
    assert third.status_code == 429
    assert error_code(third) == "too_many_requests"
    assert int(third.headers["Retry-After"]) > 0


def test_the_third_booking_in_a_minute_is_rate_limited_and_books_nothing(
    tight: FlaskClient,
) -> None:
    api = Api(tight)
    _, pro = api.professional()
    client = api.register()
    for hour in (10, 12):
        api.book(client, pro["id"], at(MONDAY, hour))

    third = tight.post(
        "/bookings",
        json=booking_body(pro["id"], at(MONDAY, 14)),
        headers={**client.headers, "Idempotency-Key": str(uuid4())},
    )

    assert third.status_code == 429  # though the default budget (5) has room left
    assert error_code(third) == "too_many_requests"
    assert int(third.headers["Retry-After"]) > 0
    assert third.headers["X-RateLimit-Limit"] == "2"
    listed = tight.get("/bookings", headers=client.headers).get_json()
    assert sorted(item["start_time"] for item in listed["items"]) == [
        at(MONDAY, 10).isoformat(), at(MONDAY, 12).isoformat()
    ]


def test_other_endpoints_have_their_own_budget(tight: FlaskClient) -> None:
    for _ in range(2):
        tight.post("/auth/login", json={"email": "a@example.com", "password": PASSWORD})

    search = tight.get("/professionals")

    assert search.status_code == 200
    assert "X-RateLimit-Limit" in search.headers


def test_each_account_has_its_own_budget(tight: FlaskClient) -> None:
    api = Api(tight)
    first, second = api.register(), api.register()  # registers and logs in from one address
    for _ in range(5):
        tight.get("/clients/me", headers=first.headers)

    limited = tight.get("/clients/me", headers=first.headers)
    other = tight.get("/clients/me", headers=second.headers)

    assert limited.status_code == 429
    assert other.status_code == 200


def test_health_checks_are_never_limited(tight: FlaskClient) -> None:
    statuses = {tight.get("/healthz").status_code for _ in range(10)}

    assert statuses == {200}


def test_with_rate_limits_turned_off_login_and_booking_still_work(container: Container) -> None:
    settings = replace(container.settings, rate_limits_enabled=False)
    api = Api(create_app(settings, replace(container, settings=settings)).test_client())
    _, pro = api.professional()
    client = api.register()  # logs in too

    for hour in (10, 11, 12):
        booked = api.book(client, pro["id"], at(MONDAY, hour))
        assert "X-RateLimit-Limit" not in booked.headers


def test_register_has_its_own_strict_limit_per_address(container: Container) -> None:
    limits = RateLimits(default="50/minute", login="50/minute", booking="50/minute",
                        register="2/minute")  # fmt: skip
    settings = replace(container.settings, rate_limits=limits)
    client = create_app(settings, replace(container, settings=settings)).test_client()
    bodies = [
        {"email": f"r{n}-{uuid4().hex[:8]}@example.com", "password": PASSWORD,
         "role": "professional"}
        for n in range(3)
    ]  # fmt: skip

    answers = [client.post("/auth/register", json=body) for body in bodies]

    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert error_code(answers[2]) == "too_many_requests"
    assert int(answers[2].headers["Retry-After"]) > 0
    login = client.post("/auth/login", json={"email": bodies[0]["email"], "password": PASSWORD})
    assert login.status_code == 200  # the default budget has room: only register is spent


def test_requests_that_mail_a_link_share_the_register_budget_and_others_do_not_count(
    container: Container,
) -> None:
    limits = RateLimits(default="50/minute", login="50/minute", booking="50/minute",
                        register="2/minute")  # fmt: skip
    settings = replace(container.settings, rate_limits=limits)
    api = Api(create_app(settings, replace(container, settings=settings)).test_client())
    client = api.register()

    def patch(body: dict[str, str]) -> int:
        return api.client.patch("/clients/me", json=body, headers=client.headers).status_code

    renamed = [patch({"name": f"Cleo {n}"}) for n in range(3)]
    mailed = [patch({"email": f"new-{n}@example.com"}) for n in range(2)]
    resend = api.client.post("/auth/verification", headers=client.headers)

    assert renamed == [200, 200, 200]
    assert mailed == [200, 200]
    assert resend.status_code == 429  # the budget is shared between the mailing endpoints
    assert patch({"name": "Cleo again"}) == 200
