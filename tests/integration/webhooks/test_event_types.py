"""Each change sends its event type, with the resource as the API shows it after the change."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient

from adapters.payments.simulator import SimulatedPayments
from adapters.sql.tables import webhook_events
from entrypoints.bootstrap import Container
from entrypoints.payments import webhook_secret
from tests.factories import MONDAY, at
from tests.integration.api.support import Account, Api
from tests.integration.webhooks.conftest import Receiver, Worker
from tests.integration.webhooks.test_delivery import add_endpoint

EVERYTHING = [
    "booking.created", "booking.confirmed", "booking.cancelled", "booking.refunded",
    "professional.created", "professional.updated",
]  # fmt: skip


def pay_through_the_simulator(container: Container, client: FlaskClient) -> None:
    """Payments are simulated, their webhook delivered to this app (as in the demo)."""

    def deliver(payload: bytes, signature: str) -> None:
        answer = client.post("/stripe/webhook", data=payload,
                             headers={"Stripe-Signature": signature})  # fmt: skip
        assert answer.status_code == 200, answer.get_json()

    container.payments = SimulatedPayments(webhook_secret(container.settings), sink=deliver)


def test_a_booking_held_paid_cancelled_and_refunded_sends_each_event_with_the_booking(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, container: Container
) -> None:
    pay_through_the_simulator(container, api.client)
    add_endpoint(api, admin, receiver.url, EVERYTHING)
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    intent = booking["payment"]["payment_intent_id"]
    paid = api.client.post(f"/simulator/payment_intents/{intent}/pay",
                           json={"client_secret": booking["payment"]["client_secret"]})  # fmt: skip
    assert paid.status_code == 200, paid.get_json()
    cancelled = api.client.post(f"/bookings/{booking['id']}/cancel", headers=client.headers)
    assert cancelled.status_code == 200, cancelled.get_json()
    final = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()

    worker.run()

    events = [e for e in receiver.events() if e["type"].startswith("booking.")]
    assert [e["type"] for e in events] == [
        "booking.created", "booking.confirmed", "booking.cancelled", "booking.refunded"
    ]  # fmt: skip
    statuses = [e["data"]["status"] for e in events]
    assert statuses == ["pending", "confirmed", "cancelled", "cancelled"]
    assert events[2]["data"]["cancellation_reason"] == "client"
    assert events[-1]["data"] == final
    assert final["refunded_cents"] > 0
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    assert all(e["data"]["id"] == booking["id"] for e in events)


def test_a_profile_created_and_changed_sends_created_then_updated_with_the_new_version(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    add_endpoint(api, admin, receiver.url, ["professional.created", "professional.updated"])
    owner, pro = api.professional()
    changed = api.client.patch(
        f"/professionals/{pro['id']}", json={"hourly_rate_cents": 7000}, headers=owner.headers
    )
    assert changed.status_code == 200

    worker.run()

    created, updated = receiver.events()
    assert (created["type"], updated["type"]) == ("professional.created", "professional.updated")
    assert updated["data"] == api.client.get(f"/professionals/{pro['id']}").get_json()
    assert updated["data"]["hourly_rate_cents"] == 7000
    assert updated["data"]["version"] == created["data"]["version"] + 1
    assert updated["sequence"] > created["sequence"]


def test_an_endpoint_gets_only_the_event_types_it_asked_for(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    add_endpoint(api, admin, receiver.url, ["booking.created"])
    _, pro = api.professional()
    booking = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()
    worker.run()
    (only,) = receiver.events()
    assert only["type"] == "booking.created" and only["data"]["id"] == booking["id"]




def test_without_an_endpoint_that_wants_them_no_events_are_stored(
    api: Api, admin: Account, receiver: Receiver, container: Container
) -> None:
    _, pro = api.professional()
    add_endpoint(api, admin, receiver.url, ["booking.refunded"])
    api.book(api.register(), pro["id"], at(MONDAY, 10))
    with container.engine.connect() as connection:
        stored = connection.scalar(sa.select(sa.func.count()).select_from(webhook_events))
    assert stored == 0


def test_changing_availability_or_time_off_sends_professional_updated(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    owner, pro = api.professional()
    add_endpoint(api, admin, receiver.url, ["professional.updated"])
    windows = [{"day_of_week": 0, "start": "10:00", "end": "12:00"}]
    path = f"/professionals/{pro['id']}"
    put = api.client.put(f"{path}/availability", json={"windows": windows}, headers=owner.headers)
    assert put.status_code == 200, put.get_json()
    days_off = [{"first_day": "2026-06-08", "last_day": "2026-06-09"}]
    off = api.client.put(f"{path}/time-off", json={"days_off": days_off}, headers=owner.headers)
    assert off.status_code == 200, off.get_json()

    worker.run()

    versions = [event["data"]["version"] for event in receiver.events()]
    assert [event["type"] for event in receiver.events()] == ["professional.updated"] * 2
    assert versions == [pro["version"] + 1, pro["version"] + 2]


def test_a_move_sends_booking_rescheduled_with_the_new_times(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    add_endpoint(api, admin, receiver.url, ["booking.rescheduled"])
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()

    moved = api.client.post(
        f"/bookings/{booking['id']}/reschedule",
        json={"start_time": at(MONDAY, 14).isoformat()}, headers=client.headers,
    )  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    worker.run()

    [event] = receiver.events()
    assert event["type"] == "booking.rescheduled"
    assert event["data"]["start_time"] == moved.get_json()["start_time"]
    assert event["data"]["reschedule_count"] == 1
