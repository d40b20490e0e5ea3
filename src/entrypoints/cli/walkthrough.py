"""The demo's walk-through: one booking end to end over the real HTTP API, step by step.

It does what a client application would, in the same requests the README shows with ``curl``:
sign up, log in, search, list free slots, book (and retry the booking with the same
``Idempotency-Key``), pay through the simulator (whose signed webhook confirms the booking),
then wait for the confirmation email the job runner writes.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

DEMO_EMAIL = "demo.client@example.com"
DEMO_PASSWORD = "demo password 1234"  # noqa: S105 - a published demo account, not a secret
# The walk-through books a plumber near Berlin: the seeded catalogue has several there.
CATEGORY, CITY, LAT, LNG, ZONE = "plumbing", "Berlin", 52.52, 13.405, "Europe/Berlin"


class WalkthroughFailed(RuntimeError):
    """A step did not get the answer it needed; the message says which and what came back."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class JsonClient:
    """Just enough HTTP for the walk-through, on the standard library."""

    def __init__(self, base_url: str, *, timeout: float = 15) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        sent = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - the demo's own http URL
            self.base_url + path, data=data, method=method, headers=sent
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return _answer(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as error:
            return _answer(error.code, error.read(), error.headers)

    def expect(self, status: int, method: str, path: str, body: object = None, **kw: Any) -> Any:
        answer = self.call(method, path, body, **kw)
        if answer.status != status:
            raise WalkthroughFailed(
                f"{method} {path} answered {answer.status}, expected {status}: {answer.body}"
            )
        return answer.body


def _answer(status: int, raw: bytes, headers: Any) -> Answer:
    body = json.loads(raw) if raw else None
    return Answer(status, body, {key.lower(): value for key, value in headers.items()})


def walk(base_url: str, mail_dir: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Book, pay and confirm one appointment; the confirmed booking."""
    api = JsonClient(base_url)
    step = _Steps(say)

    step("Sign up a client and log in")
    answer = api.call(
        "POST",
        "/auth/register",
        {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "role": "client", "name": "Demo Client"},
    )
    if answer.status != 202:  # also for an account left by an earlier run
        raise WalkthroughFailed(f"POST /auth/register answered {answer.status}: {answer.body}")
    login = api.expect(200, "POST", "/auth/login", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    api.token = login["access_token"]
    say(f"   {DEMO_EMAIL} has an access token for {login['expires_in'] // 60} minutes")

    window_start = _tomorrow_midnight(ZONE)
    window = {
        "available_from": window_start.isoformat(),
        "available_to": (window_start + timedelta(days=7)).isoformat(),
    }
    step(f"Search: {CATEGORY} within 10 km of {CITY}, free for an hour in the next 7 days")
    query = {"category": CATEGORY, "lat": LAT, "lng": LNG, "radius_km": 10, **window}
    found = api.expect(200, "GET", "/professionals?" + urllib.parse.urlencode(query))["items"]
    if not found:
        raise WalkthroughFailed("the search found nobody: was the catalogue seeded?")
    for pro in found[:3]:
        say(
            f"   {pro['name']:<20} {pro['distance_km']:5.1f} km  "
            f"{_money(pro['hourly_rate_cents'], pro['currency'])}/h  {pro['time_zone']}"
        )
    pro = found[0]

    step(f"Free one-hour slots of {pro['name']}")
    slots_query = urllib.parse.urlencode(
        {"from": window["available_from"], "to": window["available_to"], "duration_minutes": 60}
    )
    offer = api.expect(200, "GET", f"/professionals/{pro['id']}/slots?{slots_query}")
    if not offer["slots"]:
        raise WalkthroughFailed(f"{pro['name']} was found free but lists no slot")
    local = ZoneInfo(pro["time_zone"])
    for slot in offer["slots"][:3]:
        start = datetime.fromisoformat(slot["start_time"]).astimezone(local)
        say(f"   {start:%a %d %b %H:%M} local  {_money(offer['price_cents'], offer['currency'])}")
    chosen = offer["slots"][0]

    step("Book the first slot (POST /bookings with an Idempotency-Key)")
    request = {"professional_id": pro["id"], "start_time": chosen["start_time"],
               "duration_minutes": 60}  # fmt: skip
    key = {"Idempotency-Key": str(uuid4())}
    booking = api.expect(201, "POST", "/bookings", request, headers=key)
    say(f"   booking {booking['id']} is {booking['status']}, the slot is held")
    retry = api.call("POST", "/bookings", request, headers=key)
    if retry.status != 201 or retry.body["id"] != booking["id"]:
        raise WalkthroughFailed(f"the retried booking answered {retry.status}: {retry.body}")
    replayed = retry.headers.get("idempotent-replayed")
    say(f"   the same request again: the same booking back (Idempotent-Replayed: {replayed})")

    step("Pay with the test card pm_card_visa (the simulator signs and sends the webhook)")
    payment = booking["payment"]
    paid = api.expect(
        200,
        "POST",
        f"/simulator/payment_intents/{payment['payment_intent_id']}/pay",
        {"client_secret": payment["client_secret"], "payment_method": "pm_card_visa"},
    )
    say(f"   payment {paid['id']} {paid['status']}; Stripe-style event delivered")

    step("The signed webhook confirmed the booking")
    confirmed = _until(
        lambda: api.expect(200, "GET", f"/bookings/{booking['id']}"),
        lambda b: b["status"] == "confirmed",
        what="the booking to be confirmed",
    )
    say(f"   booking {confirmed['id']} is {confirmed['status']}")

    step("The job runner wrote the confirmation emails")
    mails = _until(
        lambda: [path for path in _mails(mail_dir) if booking["id"] in _mail_text(path)],
        lambda found: len(found) >= 2,  # one to the client, one to the professional
        what=f"the confirmation emails in {mail_dir}",
    )
    for path in mails:
        say(f"   {path}")
    return dict(confirmed)


class _Steps:
    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.number = 0

    def __call__(self, title: str) -> None:
        self.number += 1
        self.say(f"\n{self.number}. {title}")


def _until(
    fetch: Callable[[], Any], done: Callable[[Any], bool], *, what: str, seconds: float = 20
) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise WalkthroughFailed(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def _mails(mail_dir: Path) -> list[Path]:
    return sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []


def _mail_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always makes one
        return ""
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def _tomorrow_midnight(zone: str) -> datetime:
    now = datetime.now(ZoneInfo(zone))
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency.upper()}"
