"""Helpers that drive the API like a user would; each asserts the status code it expects."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import verify_jwt_in_request
from werkzeug.test import TestResponse

import adapters.jobs.tasks as jobs
from adapters.jobs.outbox_relay import OutboxRelay
from entrypoints.api.context import container
from entrypoints.api.idempotency import record_of
from entrypoints.bootstrap import Container, make_job_context

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's
Json = dict[str, Any]

# Available 09:00-17:00 UTC every day, bookable without notice, in 30-minute steps.
PROFILE: Json = {
    "name": "Ada Plumber",
    "email": "ada@example.com",
    "category": "plumbing",
    "hourly_rate_cents": 6000,
    "currency": "eur",
    "time_zone": "UTC",
    "location": {"lat": 52.52, "lng": 13.405},
    "policy": {"minimum_notice_minutes": 0},
    "availability": [
        {"day_of_week": day, "start": "09:00", "end": "17:00"} for day in range(7)
    ],
}


def token_claims(token: str) -> Json:
    """A JWT's claims, read without checking the signature (the app checks it)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: TestResponse) -> str:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


@dataclass
class Account:
    id: str
    email: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class Api:
    client: FlaskClient

    def register(self, role: str = "client", **extra: Any) -> Account:
        email = f"{role}-{uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": PASSWORD, "role": role, **extra}
        if role == "client":
            body.setdefault("name", "Cleo Client")
        response = self.client.post("/auth/register", json=body)
        assert response.status_code == 202, response.get_json()
        return self.login(email)

    def login(self, email: str) -> Account:
        response = self.client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        tokens = response.get_json()
        account_id = str(token_claims(tokens["access_token"])["sub"])
        return Account(account_id, email, tokens["access_token"], tokens["refresh_token"])

    def professional(self, **changes: Any) -> tuple[Account, Json]:
        """A professional account with its profile (PROFILE with ``changes``)."""
        account = self.register("professional")
        response = self.client.post(
            "/professionals", json={**PROFILE, **changes}, headers=account.headers
        )
        assert response.status_code == 201, response.get_json()
        return account, response.get_json()

    def book(
        self,
        who: Account,
        professional_id: str,
        start: datetime,
        minutes: int = 60,
        *,
        key: str | None = None,
        expect: int = 201,
    ) -> TestResponse:
        response = self.client.post(
            "/bookings",
            json=booking_body(professional_id, start, minutes),
            headers={**who.headers, "Idempotency-Key": key or str(uuid4())},
        )
        assert response.status_code == expect, response.get_json()
        return response


def booking_body(professional_id: str, start: datetime, minutes: int = 60) -> Json:
    return {
        "professional_id": professional_id,
        "start_time": start.isoformat(),
        "duration_minutes": minutes,
    }


def start_running(
    app: Flask, method: str, path: str, key: str, *, json: Json | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Claim ``key`` for this request as its first attempt would, and leave it running (no
    answer stored): a request sent now with the same key finds it in flight. The scope and
    key, to complete or release it."""
    with app.test_request_context(path, method=method, json=json, headers=headers or {}):
        verify_jwt_in_request(optional=True)
        scope, fingerprint = record_of(key)
        assert container().idempotency.claim(scope, key, fingerprint) is None
    return scope, key


def deliver_mail(wired: Container) -> int:
    """Run the notification job of every outbox row not handed on yet, as the worker would
    (mailing with the notifier ``wired``'s settings name); how many emails went."""
    context, relay = make_job_context(wired), OutboxRelay(wired.engine)
    sent = 0
    for outbox_id in relay.pending():
        sent += jobs.send_notifications(context, outbox_id)
        relay.mark_done(outbox_id)
    return sent
