"""Malformed, oversized, mistyped or ill-timed requests answer 4xx in the error shape, never 500."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from flask import Flask

from tests.factories import MONDAY, at
from tests.integration.api.support import (
    PROFILE,
    Account,
    Api,
    Json,
    booking_body,
    error_code,
)


@pytest.fixture
def booking_request(api: Api) -> tuple[dict[str, str], Json]:
    _, pro = api.professional()
    client = api.register()
    headers = {**client.headers, "Idempotency-Key": str(uuid4())}
    return headers, booking_body(pro["id"], at(MONDAY, 10))


def test_malformed_json_is_a_bad_request(
    api: Api, booking_request: tuple[dict[str, str], Json]
) -> None:
    headers, _ = booking_request

    response = api.client.post(
        "/bookings", data='{"professional_id": ', headers=headers,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"duration_minutes": 60.5}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
        ({"professional_id": "not-a-uuid"}, "professional_id"),
        ({"start_time": "2026-06-01T10:00:00"}, "start_time"),  # naive: which 10:00?
        ({"start_time": "next monday"}, "start_time"),
        ({"start_time": None}, "start_time"),
    ],
)
def test_bad_fields_are_unprocessable_and_named(
    api: Api, booking_request: tuple[dict[str, str], Json], change: Json, field: str
) -> None:
    headers, body = booking_request

    response = api.client.post("/bookings", json={**body, **change}, headers=headers)

    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert field in response.get_json()["error"]["details"]["json"]


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 30_000 + "]" * 30_000,  # deeper than the interpreter recurses, in 60 kB
        '{"duration_minutes": ' + "9" * 5000 + "}",  # longer than int() converts
    ],
    ids=["nested-too-deep", "integer-too-long"],
)
def test_json_python_cannot_read_is_malformed_not_a_server_error(
    api: Api, booking_request: tuple[dict[str, str], Json], raw: str
) -> None:
    headers, _ = booking_request

    response = api.client.post(
        "/bookings", data=raw, headers=headers, content_type="application/json"
    )

    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_refused(
    api: Api, booking_request: tuple[dict[str, str], Json], body: object
) -> None:
    headers, _ = booking_request

    response = api.client.post("/bookings", json=body, headers=headers)

    assert 400 <= response.status_code < 500
    assert error_code(response)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "utc "])
def test_an_unknown_time_zone_is_refused(api: Api, zone: str) -> None:
    account = api.register("professional")
    response = api.client.post(
        "/professionals", json={**PROFILE, "time_zone": zone}, headers=account.headers
    )

    assert response.status_code == 422
    assert "time_zone" in response.get_json()["error"]["details"]["json"]


@pytest.mark.parametrize(
    "location", [{"lat": 91, "lng": 0}, {"lat": 0, "lng": -181}, {"lat": "north", "lng": 0}]
)
def test_coordinates_out_of_range_are_refused(api: Api, location: Json) -> None:
    account = api.register("professional")
    response = api.client.post(
        "/professionals", json={**PROFILE, "location": location}, headers=account.headers
    )

    assert response.status_code == 422


def test_a_naive_time_in_a_query_is_refused(api: Api) -> None:
    _, pro = api.professional()

    response = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T09:00:00", "to": "2026-06-01T12:00:00Z",
                      "duration_minutes": 60},
    )

    assert response.status_code == 422
    assert "from" in response.get_json()["error"]["details"]["query"]


@pytest.mark.parametrize("path", ["/professionals", "/bookings", "/professionals/{id}/slots"])
def test_an_unknown_query_parameter_is_refused_not_ignored(api: Api, path: str) -> None:
    _, pro = api.professional()
    client = api.register()
    query = {"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", "duration_minutes": 60}

    response = api.client.get(
        path.format(id=pro["id"]),
        query_string={**(query if "slots" in path else {}), "stauts": "pending", "": ""},
        headers=client.headers,
    )

    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert set(response.get_json()["error"]["details"]["query"]) == {"stauts", ""}


# What PostgreSQL cannot store (NUL) and what no encoder can write (half a surrogate pair).
UNSTORABLE = ["a\u0000b", "a\ud800b"]


@pytest.mark.parametrize("text", UNSTORABLE, ids=["nul", "lone-surrogate"])
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/auth/register", "name"),
        ("post", "/auth/register", "password"),
        ("post", "/auth/register", "email"),
        ("post", "/auth/login", "email"),
        ("post", "/auth/login", "password"),
        ("patch", "/clients/me", "name"),
        ("post", "/professionals", "name"),
        ("put", "/professionals/{id}/time-off", "reason"),
    ],
)
def test_text_that_cannot_be_stored_is_refused_and_nothing_is_written(
    api: Api, text: str, method: str, path: str, field: str
) -> None:
    account, pro = api.professional()
    client = api.register()
    bodies: dict[str, Json] = {
        "/auth/register": {"email": "new@example.com", "password": "long enough password",
                           "role": "client", "name": "New"},
        "/auth/login": {"email": client.email, "password": "long enough password"},
        "/clients/me": {"name": "Renamed"},
        "/professionals": {**PROFILE},
        "/professionals/{id}/time-off": {
            "days_off": [{"first_day": "2026-06-02", "last_day": "2026-06-03", "reason": "off"}]
        },
    }
    headers = {"/clients/me": client.headers, "/professionals": api.register("professional")}
    body = bodies[path]
    target = body["days_off"][0] if field == "reason" else body
    target[field] = text
    who = headers.get(path, account)

    response = api.client.open(
        path.format(id=pro["id"]), method=method.upper(),
        data=json.dumps(body), content_type="application/json",  # json.dumps escapes it
        headers=who.headers if isinstance(who, Account) else who,
    )

    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "validation_failed"
    errors = response.get_json()["error"]["details"]["json"]
    assert field in (errors["days_off"]["0"] if field == "reason" else errors)
    assert api.client.get("/clients/me", headers=client.headers).get_json()["name"] == "Cleo Client"
    days_off = api.client.get(f"/professionals/{pro['id']}/time-off", headers=account.headers)
    assert days_off.get_json()["days_off"] == []


def test_a_search_for_a_category_postgresql_cannot_hold_is_refused(api: Api) -> None:
    # (A URL cannot carry a lone surrogate: its bytes are decoded with a replacement character.)
    response = api.client.get("/professionals", query_string={"category": "a\u0000b"})

    assert response.status_code == 422
    assert "category" in response.get_json()["error"]["details"]["query"]


def test_a_huge_body_is_refused_before_it_is_read(
    api: Api, booking_request: tuple[dict[str, str], Json]
) -> None:
    headers, body = booking_request

    response = api.client.post(
        "/bookings", json={**body, "padding": "x" * 200_000}, headers=headers
    )

    assert response.status_code == 413
    assert error_code(response) == "request_entity_too_large"


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: Api) -> None:
    missing = api.client.get("/nowhere")
    wrong_method = api.client.delete("/professionals")

    assert missing.status_code == 404
    assert error_code(missing) == "not_found"
    assert wrong_method.status_code == 405
    assert error_code(wrong_method) == "method_not_allowed"


def test_an_unexpected_error_answers_500_without_a_stack_trace(api: Api, app: Flask) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals /srv/app.py line 3")

    app.add_url_rule("/explode", "explode", explode)

    response = api.client.get("/explode")

    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": "something went wrong on our side"}
    }


def test_an_unknown_booking_id_format_is_not_found(api: Api) -> None:
    client = api.register()

    response = api.client.get("/bookings/12345", headers=client.headers)

    assert response.status_code == 404
    assert error_code(response) == "not_found"
