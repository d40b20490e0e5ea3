"""Every unsafe request is safe to retry: with an ``Idempotency-Key`` it runs once, and a retry
gets the first answer again, marked ``Idempotent-Replayed: true`` (docs/api.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from argon2 import PasswordHasher
from flask import Flask, Response

from booking.errors import ConcurrentUpdate
from entrypoints.api.app import create_app
from entrypoints.api.idempotency import MARK, is_kept, record_of
from entrypoints.bootstrap import Container
from entrypoints.config import EmailVerification
from entrypoints.passwords import Passwords
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Api, error_code, start_running

REPLAYED = "Idempotent-Replayed"
# Their answers are login credentials, which are never stored (docs/api.md).
NOT_IDEMPOTENT = {("POST", "/auth/login"), ("POST", "/auth/refresh")}


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_retried_cancel_answers_its_first_200_again_marked_as_replayed(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    path = f"/bookings/{booking['id']}/cancel"
    first = api.client.post(path, headers=_keyed(client.headers, "cancel-1"))

    again = api.client.post(path, headers=_keyed(client.headers, "cancel-1"))
    unkeyed = api.client.post(path, headers=client.headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == first.get_json()
    assert again.get_json()["status"] == "cancelled"
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert unkeyed.status_code == 409  # without the key, the cancel runs again and is refused
    assert error_code(unkeyed) == "illegal_transition"


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(api: Api) -> None:
    client = api.register()
    api.client.patch("/clients/me", json={"name": "Ann"}, headers=_keyed(client.headers, "k"))

    other = api.client.patch(
        "/clients/me", json={"name": "Bea"}, headers=_keyed(client.headers, "k")
    )

    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_reused"
    assert api.client.get("/clients/me", headers=client.headers).get_json()["name"] == "Ann"


def test_the_same_body_written_otherwise_is_the_same_request(api: Api) -> None:
    client = api.register()
    headers = {**_keyed(client.headers, "k"), "Content-Type": "application/json"}
    api.client.patch("/clients/me", data='{"name": "Ann", "phone": "+49 30 1"}', headers=headers)

    again = api.client.patch(
        "/clients/me", data='{ "phone":"+49 30 1",  "name":"Ann" }', headers=headers
    )

    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"


def test_a_retry_while_the_first_request_runs_is_a_conflict_and_does_nothing(
    api: Api, app: Flask
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    path = f"/bookings/{booking['id']}/cancel"
    headers = _keyed(client.headers, "slow")
    start_running(app, "POST", path, "slow", headers=headers)

    response = api.client.post(path, headers=headers)

    assert response.status_code == 409
    assert error_code(response) == "request_in_progress"
    mine = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()
    assert mine["status"] == "pending"


def test_two_accounts_using_the_same_key_are_independent(api: Api) -> None:
    _, pro = api.professional()
    ann, bea = api.register(), api.register()
    bookings = [
        api.book(who, pro["id"], at(MONDAY, hour)).get_json()
        for who, hour in ((ann, 10), (bea, 12))
    ]

    answers = [
        api.client.post(f"/bookings/{booking['id']}/cancel", headers=_keyed(who.headers, "same"))
        for who, booking in zip((ann, bea), bookings, strict=True)
    ]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.get_json()["id"] for answer in answers] == [b["id"] for b in bookings]
    assert not any(REPLAYED in answer.headers for answer in answers)


def test_an_anonymous_registration_retried_is_answered_again_and_opens_one_account(
    api: Api, container: Container
) -> None:
    address = f"retry-{uuid4().hex[:8]}@example.com"
    body = {"email": address, "password": PASSWORD, "role": "client", "name": "Rita"}
    first = api.client.post("/auth/register", json=body, headers={"Idempotency-Key": "reg"})

    again = api.client.post("/auth/register", json=body, headers={"Idempotency-Key": "reg"})

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json() == first.get_json()
    assert again.headers[REPLAYED] == "true"
    assert container.users.by_email(address) is not None
    api.login(address)


def test_strangers_who_pick_the_same_key_never_meet(api: Api, container: Container) -> None:
    addresses = [f"stranger-{n}-{uuid4().hex[:8]}@example.com" for n in range(2)]

    answers = [
        api.client.post(
            "/auth/register", headers={"Idempotency-Key": "1"},
            json={"email": address, "password": PASSWORD, "role": "client", "name": "Sam"},
        )
        for address in addresses
    ]  # fmt: skip

    assert [answer.status_code for answer in answers] == [202, 202]
    assert not any(REPLAYED in answer.headers for answer in answers)  # nor a 422 reused
    for address in addresses:
        api.login(address)  # each stranger's own account was opened


def test_a_5xx_is_not_kept_so_the_retry_runs_and_succeeds(container: Container) -> None:
    passwords = Passwords(PasswordHasher(), limit=1, wait_seconds=0)
    api = Api(create_app(container.settings, replace(container, passwords=passwords)).test_client())
    address = f"busy-{uuid4().hex[:8]}@example.com"
    body = {"email": address, "password": PASSWORD, "role": "client", "name": "Bo"}
    key = {"Idempotency-Key": "busy-1"}
    assert passwords.slots.acquire(timeout=0)  # every hashing slot is taken
    busy = api.client.post("/auth/register", json=body, headers=key)
    passwords.slots.release()

    retry = api.client.post("/auth/register", json=body, headers=key)

    assert busy.status_code == 503
    assert retry.status_code == 202
    assert REPLAYED not in retry.headers
    assert container.users.by_email(address) is not None


def test_a_refusal_the_caller_can_fix_is_not_kept(api: Api, container: Container) -> None:
    verifying = replace(container.settings, email_verification=EmailVerification.REQUIRED)
    api = Api(create_app(verifying, replace(container, settings=verifying)).test_client())
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10), key="book-1", expect=403)
    container.users.mark_verified(UUID(client.id), client.email, container.clock.now())

    retry = api.book(client, pro["id"], at(MONDAY, 10), key="book-1")

    assert REPLAYED not in retry.headers
    assert retry.get_json()["status"] == "pending"


def test_a_replay_keeps_the_answers_headers(api: Api) -> None:
    owner, pro = api.professional()
    path = f"/professionals/{pro['id']}"
    first = api.client.patch(path, json={"name": "Ada P."}, headers=_keyed(owner.headers, "p"))
    api.client.patch(path, json={"name": "Ada Q."}, headers=owner.headers)  # changed since

    again = api.client.patch(path, json={"name": "Ada P."}, headers=_keyed(owner.headers, "p"))

    assert again.headers[REPLAYED] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.content_type == "application/json"
    assert again.get_json() == first.get_json()


def test_every_unsafe_operation_takes_the_key_and_says_so(app: Flask) -> None:
    spec = app.test_client().get("/openapi.json").get_json()
    unsafe = [
        (method.upper(), path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    ]

    assert len(unsafe) >= 16
    for method, path, operation in unsafe:
        if (method, path) in NOT_IDEMPOTENT:
            continue
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, (method, path)
        assert headers["Idempotency-Key"]["required"] is ((method, path) == ("POST", "/bookings"))
    views = [
        getattr(view.view_class, method.lower())
        for view in app.view_functions.values()
        if getattr(view, "view_class", None) is not None
        for method in view.view_class.methods or ()
        if method in ("POST", "PUT", "PATCH", "DELETE")
    ]
    assert all(getattr(view, MARK, False) for view in views if _in_the_doc(view))


def _in_the_doc(view: object) -> bool:
    return getattr(view, "__qualname__", "") not in ("Login.post", "Refresh.post")


@pytest.mark.parametrize(
    ("status", "error", "kept"),
    [
        (200, None, True), (201, None, True), (204, None, True), (400, None, True),
        (404, None, True), (409, None, True), (412, None, True), (422, None, True),
        (409, ConcurrentUpdate("changed meanwhile"), False), (401, None, False),
        (403, None, False), (408, None, False), (425, None, False), (429, None, False),
        (500, None, False), (503, None, False),
    ],
)  # fmt: skip
def test_which_answers_are_kept_for_retries(
    status: int, error: Exception | None, kept: bool
) -> None:
    assert is_kept(Response(status=status), error) is kept


def test_a_malformed_key_is_refused_where_the_key_is_optional(api: Api) -> None:
    client = api.register()

    response = api.client.patch(
        "/clients/me", json={"name": "Ann"}, headers=_keyed(client.headers, "tab\there")
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_header"
    assert api.client.get("/clients/me", headers=client.headers).get_json()["name"] != "Ann"


def test_if_match_is_part_of_the_request(api: Api) -> None:
    owner, pro = api.professional()
    path, body = f"/professionals/{pro['id']}", {"name": "Ada P."}
    etag = api.client.get(path).headers["ETag"]
    api.client.patch(path, json=body, headers={**_keyed(owner.headers, "m"), "If-Match": etag})

    other = api.client.patch(path, json=body, headers={**_keyed(owner.headers, "m"),
                                                         "If-Match": '"999"'})  # fmt: skip

    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_reused"


def test_fingerprints_are_keyed_by_the_deployments_secret(app: Flask, container: Container) -> None:
    other_secret = replace(container.settings, secret_key="another-secret-" * 4)
    other = create_app(other_secret, replace(container, settings=other_secret))
    body = {"email": "a@example.com", "password": PASSWORD, "role": "client", "name": "A"}

    records = []
    for each in (app, other):
        with each.test_request_context("/auth/register", method="POST", json=body):
            records.append(record_of("k"))

    assert records[0] != records[1]
    assert hashlib.sha256(json.dumps(body).encode()).hexdigest() not in records[0][1]
