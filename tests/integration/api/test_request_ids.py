"""Every request has an id: the caller's if sane, else a new one; echoed, and on every log line."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from adapters.request_context import current_request_id
from entrypoints.api.request_ids import HEADER
from tests.json_logs import capture_json_log

# Nothing here depends on the storage: the embedded stack is enough.
pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


def test_an_incoming_request_id_is_echoed_and_carried_by_every_log_line(
    app: Flask, client: FlaskClient
) -> None:
    @app.get("/test/logs-something")
    def logs_something() -> str:
        current_app.logger.warning("inside the view")
        return "ok"

    with capture_json_log() as log:
        response = client.get("/test/logs-something", headers={HEADER: "abc-123"})

    assert response.headers[HEADER] == "abc-123"
    lines = log.lines()
    assert {line["logger"] for line in lines} >= {"hourbook", "hourbook.access"}
    assert all(line["request_id"] == "abc-123" for line in lines)


def test_the_access_line_names_method_path_status_and_duration(client: FlaskClient) -> None:
    with capture_json_log() as log:
        client.get("/healthz?probe=1", headers={HEADER: "probe-1"})

    [access] = log.from_logger("hourbook.access")
    assert access["message"] == "GET /healthz 200"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)
    assert access["duration_ms"] >= 0
    assert access["request_id"] == "probe-1"


def test_a_request_without_an_id_gets_a_fresh_one_on_its_answer_and_its_log(
    client: FlaskClient,
) -> None:
    with capture_json_log() as log:
        first = client.get("/healthz")
        second = client.get("/healthz")

    ids = [first.headers[HEADER], second.headers[HEADER]]
    assert ids[0] != ids[1] and all(len(found) == 32 for found in ids)
    assert [line["request_id"] for line in log.from_logger("hourbook.access")] == ids


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 65, "two words", "<script>", "caf\u00e9", "semi;colon", "quote\"d"],
)
def test_an_incoming_id_that_is_not_a_short_token_is_replaced(
    client: FlaskClient, incoming: str
) -> None:
    response = client.get("/healthz", headers={HEADER: incoming})

    assert response.headers[HEADER] != incoming
    assert len(response.headers[HEADER]) == 32


@pytest.mark.parametrize(
    "incoming", ["6f1c0a4e-3b1f-4a53-9b0c-2f4b3d2e1a00", "Root=1-5759e988", "a", "x" * 64]
)
def test_the_ids_proxies_send_are_kept_as_they_are(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={HEADER: incoming})

    assert response.headers[HEADER] == incoming


def test_error_answers_carry_the_request_id_too(client: FlaskClient) -> None:
    missing = client.get("/no/such/page", headers={HEADER: "lost-1"})
    unauthorized = client.get("/bookings", headers={HEADER: "lost-2"})

    assert (missing.status_code, missing.headers[HEADER]) == (404, "lost-1")
    assert (unauthorized.status_code, unauthorized.headers[HEADER]) == (401, "lost-2")


def test_the_id_is_unbound_when_the_request_ends(client: FlaskClient) -> None:
    client.get("/healthz", headers={HEADER: "done-1"})

    assert current_request_id() is None


def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(
    app: Flask, client: FlaskClient
) -> None:
    @app.get("/test/explodes")
    def explodes() -> str:
        raise RuntimeError("boom")

    with capture_json_log(logging.ERROR) as log:
        response = client.get("/test/explodes", headers={HEADER: "boom-1"})

    assert response.status_code == 500
    [error] = log.from_logger("entrypoints.api.errors")
    assert error["request_id"] == "boom-1"
    assert "RuntimeError: boom" in error["exception"]


def test_a_request_made_inside_another_has_its_own_id_and_leaves_none_bound(
    app: Flask, client: FlaskClient
) -> None:
    @app.get("/test/outer")
    def outer() -> str:  # as the payment simulator delivers its webhook to this very app
        inner = client.get("/healthz", headers={HEADER: "inner-1"})
        current_app.logger.warning("after the inner request")
        return inner.headers[HEADER]

    with capture_json_log() as log:
        response = client.get("/test/outer", headers={HEADER: "outer-1"})

    assert (response.text, response.headers[HEADER]) == ("inner-1", "outer-1")
    assert [line["request_id"] for line in log.from_logger("hourbook")] == ["outer-1"]
    assert [line["request_id"] for line in log.from_logger("hourbook.access")] == [
        "inner-1",
        "outer-1",
    ]
    assert current_request_id() is None
