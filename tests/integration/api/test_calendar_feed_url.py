"""The private calendar feed: its URL carries a random token that the professional (or an admin)
makes and can rotate, shown once; the feed serves the professional's bookings as an ICS
calendar, reading their clients in one query."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import sqlalchemy as sa

from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Account, Api, Json, error_code
from tests.integration.support import statements


@pytest.fixture
def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


def rotate(api: Api, who: Account, professional_id: str, expect: int = 201) -> str:
    response = api.client.post(
        f"/professionals/{professional_id}/calendar-feed/rotate", headers=who.headers
    )
    assert response.status_code == expect, response.get_json()
    return str(response.get_json()["calendar_feed_url"]) if expect == 201 else ""


def fetch(api: Api, url: str) -> int:
    parts = urlsplit(url)
    return api.client.get(f"{parts.path}?{parts.query}").status_code


def test_the_professional_gets_an_absolute_feed_url_that_serves_their_bookings(
    api: Api, container: Container
) -> None:
    account, pro = api.professional(hourly_rate_cents=0)  # free: confirmed at once
    booking = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()

    made = api.client.post(
        f"/professionals/{pro['id']}/calendar-feed/rotate", headers=account.headers
    )
    url = urlsplit(made.get_json()["calendar_feed_url"])
    feed = api.client.get(f"{url.path}?{url.query}")

    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    assert f"{url.scheme}://{url.netloc}" == container.settings.public_url
    assert url.path == f"/professionals/{pro['id']}/calendar.ics"
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    assert "BEGIN:VCALENDAR" in feed.text
    assert f"UID:{booking['id']}" in feed.text


def test_rotating_makes_a_new_url_and_the_old_one_stops_working(api: Api) -> None:
    account, pro = api.professional()
    old = rotate(api, account, pro["id"])

    new = rotate(api, account, pro["id"])

    assert new != old
    assert fetch(api, old) == 404
    assert fetch(api, new) == 200


def test_before_any_rotation_there_is_no_feed_not_even_with_the_old_hmac_token(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    legacy = hmac.new(
        container.settings.secret_key.encode(),
        f"calendar-feed:{pro['id']}".encode(),
        hashlib.sha256,
    ).hexdigest()

    for token in (legacy, "", "x"):
        path = f"/professionals/{pro['id']}/calendar.ics?token={token}"
        assert api.client.get(path).status_code == 404


def test_the_token_is_stored_hashed_never_as_given(api: Api, container: Container) -> None:
    account, pro = api.professional()
    token = urlsplit(rotate(api, account, pro["id"])).query.removeprefix("token=")

    with container.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT token_sha256 FROM calendar_feed_tokens"))
        values = [row[0] for row in stored]

    assert values and token not in values


def test_an_admin_may_rotate_anyones_feed(api: Api, admin: Account) -> None:
    account, pro = api.professional()
    own = rotate(api, account, pro["id"])

    by_admin = rotate(api, admin, pro["id"])

    assert fetch(api, own) == 404
    assert fetch(api, by_admin) == 200


def test_nobody_else_may_rotate_or_see_the_feed_url(api: Api) -> None:
    owner, pro = api.professional()
    url = rotate(api, owner, pro["id"])
    other_professional, _ = api.professional()
    client = api.register()

    rotate(api, other_professional, pro["id"], expect=403)
    rotate(api, client, pro["id"], expect=403)
    anonymous = api.client.post(f"/professionals/{pro['id']}/calendar-feed/rotate")

    assert anonymous.status_code == 401
    assert fetch(api, url) == 200  # none of them changed it
    for who in (owner.headers, other_professional.headers, client.headers, {}):
        answer = api.client.get(f"/professionals/{pro['id']}", headers=who)
        assert answer.status_code == 200
        assert "calendar_feed_url" not in answer.get_json()
    listed = api.client.get("/professionals", headers=client.headers).get_json()
    assert all("calendar_feed_url" not in item for item in listed["items"])


def test_an_admin_rotating_an_unknown_professionals_feed_gets_404(
    api: Api, admin: Account
) -> None:
    response = api.client.post(
        f"/professionals/{uuid4()}/calendar-feed/rotate", headers=admin.headers
    )

    assert response.status_code == 404


def test_the_feed_url_with_another_professionals_token_is_not_found(api: Api) -> None:
    owner, pro = api.professional()
    other_owner, other = api.professional()
    rotate(api, other_owner, other["id"])
    query = urlsplit(rotate(api, owner, pro["id"])).query

    borrowed = api.client.get(f"/professionals/{other['id']}/calendar.ics?{query}")

    assert borrowed.status_code == 404


def test_the_feed_reads_the_clients_of_all_its_bookings_in_one_query(
    api: Api, container: Container
) -> None:
    account, pro = api.professional(hourly_rate_cents=0)
    tuesday = MONDAY + timedelta(days=1)
    booked: list[Json] = [  # seven bookings, each by a client of its own
        api.book(api.register(), pro["id"], at(tuesday, hour)).get_json() for hour in range(9, 16)
    ]
    url = urlsplit(rotate(api, account, pro["id"]))

    with statements(container.engine) as seen:
        feed = api.client.get(f"{url.path}?{url.query}")

    assert feed.status_code == 200
    assert all(f"UID:{b['id']}" in feed.text for b in booked)
    assert "Booking with Cleo Client" in feed.text
    assert len([s for s in seen if "FROM clients" in s]) == 1


def test_a_bad_token_on_the_public_profile_answers_401_rather_than_passing_as_anonymous(
    api: Api,
) -> None:
    _, pro = api.professional()

    response = api.client.get(
        f"/professionals/{pro['id']}", headers={"Authorization": "Bearer not-a-token"}
    )

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
