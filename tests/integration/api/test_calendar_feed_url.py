"""The private calendar feed URL: given to the professional and admins with the profile, to
nobody else, and it serves the professional's bookings as an ICS calendar."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Account, Api, error_code


@pytest.fixture
def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


def test_the_professional_gets_an_absolute_feed_url_that_serves_their_bookings(
    api: Api, container: Container
) -> None:
    account, pro = api.professional(hourly_rate_cents=0)  # free: confirmed at once
    booking = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()

    profile = api.client.get(f"/professionals/{pro['id']}", headers=account.headers)
    url = urlsplit(profile.get_json()["calendar_feed_url"])
    feed = api.client.get(f"{url.path}?{url.query}")

    assert f"{url.scheme}://{url.netloc}" == container.settings.public_url
    assert url.path == f"/professionals/{pro['id']}/calendar.ics"
    assert profile.headers["Cache-Control"] == "private, no-store"
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    assert "BEGIN:VCALENDAR" in feed.text
    assert f"UID:{booking['id']}" in feed.text


def test_an_admin_gets_the_same_feed_url(api: Api, admin: Account) -> None:
    account, pro = api.professional()
    own = api.client.get(f"/professionals/{pro['id']}", headers=account.headers).get_json()

    seen = api.client.get(f"/professionals/{pro['id']}", headers=admin.headers).get_json()

    assert seen["calendar_feed_url"] == own["calendar_feed_url"]


def test_nobody_else_sees_the_feed_url(api: Api) -> None:
    _, pro = api.professional()
    other_professional, _ = api.professional()
    client = api.register()

    answers = [
        api.client.get(f"/professionals/{pro['id']}", headers=who)
        for who in (other_professional.headers, client.headers, {})
    ]

    for answer in answers:
        assert answer.status_code == 200
        assert "calendar_feed_url" not in answer.get_json()
        assert "Authorization" in answer.headers["Vary"]
    listed = api.client.get("/professionals", headers=client.headers).get_json()
    assert all("calendar_feed_url" not in item for item in listed["items"])


def test_the_feed_url_with_another_professionals_token_is_not_found(api: Api) -> None:
    owner, pro = api.professional()
    _, other = api.professional()
    url = urlsplit(
        api.client.get(f"/professionals/{pro['id']}", headers=owner.headers)
        .get_json()["calendar_feed_url"]
    )

    borrowed = api.client.get(f"/professionals/{other['id']}/calendar.ics?{url.query}")

    assert borrowed.status_code == 404


def test_a_bad_token_on_the_public_profile_answers_401_rather_than_passing_as_anonymous(
    api: Api,
) -> None:
    _, pro = api.professional()

    response = api.client.get(
        f"/professionals/{pro['id']}", headers={"Authorization": "Bearer not-a-token"}
    )

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
