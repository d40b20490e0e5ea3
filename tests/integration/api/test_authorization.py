"""Who may see and do what; others' objects answer 404 as if they did not exist."""

from __future__ import annotations

from uuid import uuid4

import pytest

from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, PROFILE, Account, Api, error_code


@pytest.fixture
def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


def test_another_clients_booking_answers_404_like_a_missing_one(api: Api) -> None:
    _, pro = api.professional()
    owner, stranger = api.register(), api.register()
    booking_id = api.book(owner, pro["id"], at(MONDAY, 10)).get_json()["id"]

    theirs = api.client.get(f"/bookings/{booking_id}", headers=stranger.headers)
    missing = api.client.get(f"/bookings/{uuid4()}", headers=stranger.headers)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()


def test_a_client_cannot_cancel_another_clients_booking(api: Api) -> None:
    _, pro = api.professional()
    owner, stranger = api.register(), api.register()
    booking_id = api.book(owner, pro["id"], at(MONDAY, 10)).get_json()["id"]

    response = api.client.post(f"/bookings/{booking_id}/cancel", headers=stranger.headers)

    assert response.status_code == 404
    still = api.client.get(f"/bookings/{booking_id}", headers=owner.headers).get_json()
    assert still["status"] == "pending"


def test_a_client_lists_only_their_own_bookings(api: Api) -> None:
    _, pro = api.professional()
    mine, theirs = api.register(), api.register()
    my_booking = api.book(mine, pro["id"], at(MONDAY, 10)).get_json()["id"]
    api.book(theirs, pro["id"], at(MONDAY, 12))

    listed = api.client.get("/bookings", headers=mine.headers).get_json()

    assert [b["id"] for b in listed["items"]] == [my_booking]


def test_a_professional_sees_and_cancels_bookings_made_with_them(api: Api) -> None:
    pro_account, pro = api.professional()
    client = api.register()
    booking_id = api.book(client, pro["id"], at(MONDAY, 10)).get_json()["id"]

    listed = api.client.get("/bookings", headers=pro_account.headers).get_json()
    cancelled = api.client.post(f"/bookings/{booking_id}/cancel", headers=pro_account.headers)

    assert [b["id"] for b in listed["items"]] == [booking_id]
    assert cancelled.get_json()["cancellation_reason"] == "professional"


def test_another_professional_does_not_see_the_booking(api: Api) -> None:
    _, pro = api.professional()
    other_pro, _ = api.professional()
    booking_id = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()["id"]

    response = api.client.get(f"/bookings/{booking_id}", headers=other_pro.headers)
    listed = api.client.get("/bookings", headers=other_pro.headers).get_json()

    assert response.status_code == 404
    assert listed["items"] == []


def test_an_admin_sees_and_cancels_everything(api: Api, admin: Account) -> None:
    _, pro = api.professional()
    booking_id = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()["id"]

    seen = api.client.get(f"/bookings/{booking_id}", headers=admin.headers)
    cancelled = api.client.post(f"/bookings/{booking_id}/cancel", headers=admin.headers)

    assert seen.status_code == 200
    assert cancelled.get_json()["cancellation_reason"] == "admin"


def test_only_clients_book(api: Api, admin: Account) -> None:
    pro_account, _ = api.professional()

    for who in (pro_account, admin):
        response = api.client.post(
            "/bookings", json={}, headers={**who.headers, "Idempotency-Key": "k"}
        )
        assert response.status_code == 403
        assert error_code(response) == "forbidden"


def test_a_professional_cannot_change_another_professionals_profile(api: Api) -> None:
    _, pro = api.professional()
    intruder, _ = api.professional()

    patch = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Mallory"}, headers=intruder.headers
    )
    availability = api.client.put(
        f"/professionals/{pro['id']}/availability", json={"windows": []},
        headers=intruder.headers,
    )

    assert patch.status_code == availability.status_code == 403
    assert api.client.get(f"/professionals/{pro['id']}").get_json()["name"] == "Ada Plumber"


def test_a_client_cannot_create_a_profile(api: Api) -> None:
    response = api.client.post("/professionals", json={}, headers=api.register().headers)

    assert response.status_code == 403


def test_a_professional_creates_one_profile_only(api: Api) -> None:
    account, _ = api.professional()

    again = api.client.post("/professionals", json=PROFILE, headers=account.headers)

    assert again.status_code == 409
    assert error_code(again) == "profile_exists"


def test_an_admin_edits_any_profile(api: Api, admin: Account) -> None:
    _, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={"hourly_rate_cents": 7000}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.get_json()["hourly_rate_cents"] == 7000


def test_clients_me_is_for_clients(api: Api) -> None:
    client = api.register(name="Cleo", phone="+49 30 1234567")
    pro_account, _ = api.professional()

    mine = api.client.get("/clients/me", headers=client.headers)
    not_a_client = api.client.get("/clients/me", headers=pro_account.headers)

    assert mine.get_json()["name"] == "Cleo"
    assert mine.get_json()["phone"] == "+49 30 1234567"
    assert not_a_client.status_code == 403


def test_a_client_changes_their_details(api: Api) -> None:
    client = api.register()

    response = api.client.patch("/clients/me", json={"name": "Cleo B."}, headers=client.headers)

    assert response.status_code == 200
    assert api.client.get("/clients/me", headers=client.headers).get_json()["name"] == "Cleo B."


def test_registering_a_taken_address_is_answered_like_a_new_one_and_changes_nothing(
    api: Api,
) -> None:
    client = api.register()
    fresh = {"email": "fresh@example.com", "password": PASSWORD, "role": "client", "name": "X"}

    again = api.client.post(
        "/auth/register",
        json={"email": client.email.upper(), "password": "another password", "role": "client",
              "name": "X"},
    )
    new = api.client.post("/auth/register", json=fresh)

    assert again.status_code == new.status_code == 202
    assert again.get_json() == new.get_json()
    assert api.login(client.email).id == client.id  # the first password still opens it


def test_nobody_registers_as_admin(api: Api) -> None:
    response = api.client.post(
        "/auth/register",
        json={"email": "root@example.com", "password": PASSWORD, "role": "admin"},
    )

    assert response.status_code == 422
