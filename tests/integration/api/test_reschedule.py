"""POST /bookings/{id}/reschedule over HTTP, on SQLite and on PostgreSQL + Redis: the move
itself, who may make it and when, its errors, its Idempotency-Key, what it leaves in the
outbox and the calendar feed, and many clients racing for one free slot."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import sqlalchemy as sa
from werkzeug.test import TestResponse

from adapters.sql.event_codec import decode_event
from adapters.sql.tables import bookings, outbox
from booking import services
from booking.commands import RecordPaymentSucceeded
from booking.events import BookingRescheduled
from booking.notifications import emails_for
from booking.rescheduling import ReschedulePolicy
from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import PASSWORD, Account, Api, Json, booking_body, error_code

THURSDAY = MONDAY + timedelta(days=3)


def confirmed(api: Api, container: Container, pro: Json, start: datetime) -> tuple[Account, Json]:
    """A client with a paid booking (its payment reported as the webhook would)."""
    client = api.register()
    booking = api.book(client, pro["id"], start).get_json()
    services.record_payment_succeeded(
        RecordPaymentSucceeded(
            payment_intent_id=booking["payment"]["payment_intent_id"],
            amount_received_cents=booking["total_price_cents"], currency=booking["currency"],
        ),
        uow=container.uow(), clock=container.clock,
    )
    return client, booking


def reschedule(
    api: Api,
    who: Account,
    booking: Json,
    start: datetime,
    *,
    expect: int = 200,
    key: str | None = None,
    **extra: Any,
) -> TestResponse:
    headers = {**who.headers, **({"Idempotency-Key": key} if key else {})}
    response = api.client.post(
        f"/bookings/{booking['id']}/reschedule",
        json={"start_time": start.isoformat(), **extra}, headers=headers,
    )
    assert response.status_code == expect, response.get_json()
    return response


def slot_starts(api: Api, pro: Json, day: datetime) -> list[str]:
    response = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat(),
                      "duration_minutes": 60},
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return [slot["start_time"] for slot in response.get_json()["slots"]]


def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


# -- the move ----------------------------------------------------------------------------------


def test_a_client_moves_a_paid_booking_keeping_its_price_and_payment(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    moved = reschedule(api, client, booking, at(THURSDAY, 14)).get_json()

    assert moved["start_time"] == at(THURSDAY, 14).isoformat()
    assert moved["end_time"] == at(THURSDAY, 15).isoformat()
    assert moved["status"] == "confirmed" and moved["reschedule_count"] == 1
    assert moved["total_price_cents"] == booking["total_price_cents"]
    assert moved["payment"]["payment_intent_id"] == booking["payment"]["payment_intent_id"]
    assert moved["refund_due_cents"] == moved["refunded_cents"] == 0
    again = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()
    assert again["start_time"] == moved["start_time"]


def test_after_a_move_the_old_slot_is_offered_again_and_the_new_one_is_not(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    reschedule(api, client, booking, at(THURSDAY, 14))

    offered = slot_starts(api, pro, THURSDAY)
    assert at(THURSDAY, 10).isoformat() in offered
    assert at(THURSDAY, 14).isoformat() not in offered


def test_the_professional_and_an_admin_may_move_it_and_nobody_else_sees_it(
    api: Api, container: Container
) -> None:
    owner, pro = api.professional()
    _, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    reschedule(api, owner, booking, at(THURSDAY, 11))
    reschedule(api, admin(api, container), booking, at(THURSDAY, 12))
    stranger = reschedule(api, api.register(), booking, at(THURSDAY, 13), expect=404)

    assert error_code(stranger) == "booking_not_found"


def test_a_different_duration_is_422_because_a_price_change_is_a_new_booking(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    response = reschedule(
        api, client, booking, at(THURSDAY, 14), duration_minutes=120, expect=422
    )

    assert error_code(response) == "duration_change_refused"
    assert "a price change is a new booking" in response.get_json()["error"]["message"]
    reschedule(api, client, booking, at(THURSDAY, 14), duration_minutes=60)  # its own: fine


@pytest.mark.parametrize(
    ("start", "status", "code"),
    [
        (at(THURSDAY, 20), 422, "outside_availability"),
        (at(THURSDAY, 10, 10), 422, "misaligned"),
        (at(THURSDAY, 12), 409, "slot_unavailable"),
    ],
)
def test_the_new_slot_is_refused_like_a_new_booking_and_nothing_changes(
    api: Api, container: Container, start: datetime, status: int, code: str
) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    confirmed(api, container, pro, at(THURSDAY, 12))

    response = reschedule(api, client, booking, start, expect=status)

    assert error_code(response) == code
    again = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()
    assert again["start_time"] == at(THURSDAY, 10).isoformat()


def test_a_cancelled_booking_answers_409_with_the_reason(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    api.client.post(f"/bookings/{booking['id']}/cancel", headers=client.headers)

    response = reschedule(api, client, booking, at(THURSDAY, 14), expect=409)

    assert error_code(response) == "booking_not_active"
    assert "cancelled (client)" in response.get_json()["error"]["message"]


def test_after_the_free_cancellation_limit_only_the_professional_may_move_it(
    api: Api, container: Container, clock: FixedClock
) -> None:
    owner, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    clock.current = at(THURSDAY, 9)

    refused = reschedule(api, client, booking, at(THURSDAY, 14), expect=409)
    reschedule(api, owner, booking, at(THURSDAY, 14))

    assert error_code(refused) == "reschedule_deadline_passed"


def test_a_pending_hold_moves_while_it_lasts_then_answers_hold_expired(
    api: Api, clock: FixedClock
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(THURSDAY, 10)).get_json()
    held = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()

    moved = reschedule(api, client, booking, at(THURSDAY, 14)).get_json()
    clock.advance(timedelta(minutes=15))
    late = reschedule(api, client, booking, at(THURSDAY, 15), expect=409)

    assert moved["status"] == "pending" and moved["created_at"] == held["created_at"]
    assert error_code(late) == "hold_expired"


def test_a_configured_cap_answers_409_too_many_reschedules(
    api: Api, container: Container
) -> None:
    container.settings = replace(
        container.settings, reschedule_policy=ReschedulePolicy(max_per_booking=1)
    )
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    reschedule(api, client, booking, at(THURSDAY, 11))

    response = reschedule(api, client, booking, at(THURSDAY, 12), expect=409)

    assert error_code(response) == "too_many_reschedules"


def test_a_body_without_a_start_or_with_a_naive_one_is_422(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    path = f"/bookings/{booking['id']}/reschedule"

    missing = api.client.post(path, json={}, headers=client.headers)
    naive = api.client.post(path, json={"start_time": "2026-06-04T14:00:00"},
                            headers=client.headers)  # fmt: skip

    assert (missing.status_code, naive.status_code) == (422, 422)
    assert error_code(missing) == error_code(naive) == "validation_failed"


# -- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_answer_and_moves_nothing_more(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    first = reschedule(api, client, booking, at(THURSDAY, 14), key="move-1")
    retry = reschedule(api, client, booking, at(THURSDAY, 14), key="move-1")

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert retry.get_json() == first.get_json()
    assert retry.get_json()["reschedule_count"] == 1


def test_the_same_key_for_another_start_or_another_endpoint_is_refused(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(THURSDAY, 10), key="shared").get_json()
    reschedule(api, client, booking, at(THURSDAY, 14), key="move-2")

    other_start = reschedule(api, client, booking, at(THURSDAY, 15), key="move-2", expect=422)
    other_endpoint = reschedule(api, client, booking, at(THURSDAY, 15), key="shared",
                                expect=422)  # fmt: skip

    assert error_code(other_start) == error_code(other_endpoint) == "idempotency_key_reused"


def test_a_refusal_is_replayed_as_a_refusal(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    reschedule(api, client, booking, at(THURSDAY, 20), key="move-3", expect=422)
    retry = reschedule(api, client, booking, at(THURSDAY, 20), key="move-3", expect=422)

    assert error_code(retry) == "outside_availability"
    assert retry.headers["Idempotent-Replayed"] == "true"


# -- what it leaves behind ---------------------------------------------------------------------


def moves_in_outbox(container: Container) -> list[BookingRescheduled]:
    with container.engine.connect() as connection:
        found = connection.execute(
            sa.select(outbox.c.event_type, outbox.c.payload)
            .where(outbox.c.event_type == BookingRescheduled.__name__)
            .order_by(outbox.c.id)
        ).all()
    events = [decode_event(row.event_type, row.payload) for row in found]
    return [event for event in events if isinstance(event, BookingRescheduled)]


def test_a_move_is_in_the_outbox_and_mails_both_parties_the_old_and_the_new_time(
    api: Api, container: Container
) -> None:
    owner, pro = api.professional()
    _, booking = confirmed(api, container, pro, at(THURSDAY, 10))

    reschedule(api, owner, booking, at(THURSDAY, 14))

    [event] = moves_in_outbox(container)
    assert (event.previous_start, event.start) == (at(THURSDAY, 10), at(THURSDAY, 14))
    assert event.by == "professional" and event.sequence == 1
    emails = emails_for(event, container.uow())
    assert len(emails) == 2
    for email in emails:
        assert "from Thursday 4 June 2026, 10:00\u201311:00 (UTC, UTC+0)" in email.body
        assert "to Thursday 4 June 2026, 14:00\u201315:00 (UTC, UTC+0)" in email.body


def test_the_calendar_feed_keeps_the_uid_and_raises_the_sequence(
    api: Api, container: Container
) -> None:
    owner, pro = api.professional()
    client, booking = confirmed(api, container, pro, at(THURSDAY, 10))
    rotated = api.client.post(
        f"/professionals/{pro['id']}/calendar-feed/rotate", headers=owner.headers
    )
    assert rotated.status_code == 201, rotated.get_json()
    feed = urlsplit(rotated.get_json()["calendar_feed_url"])

    reschedule(api, client, booking, at(THURSDAY, 14))
    reschedule(api, client, booking, at(THURSDAY, 15))

    text = api.client.get(f"{feed.path}?{feed.query}").get_data(as_text=True)
    assert text.count(f"UID:{booking['id']}\r\n") == 1
    assert "DTSTART:20260604T150000Z\r\n" in text and "SEQUENCE:2\r\n" in text


# -- many at once ------------------------------------------------------------------------------


def test_many_clients_moving_into_the_same_free_slot_at_once_exactly_one_wins(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    movers = [confirmed(api, container, pro, at(THURSDAY, 9 + hour)) for hour in range(6)]
    barrier = threading.Barrier(len(movers))
    answers: list[tuple[int, str | None]] = []

    def attempt(client: Account, booking: Json) -> None:
        own_client = api.client.application.test_client()  # its own connection
        barrier.wait()
        response = own_client.post(
            f"/bookings/{booking['id']}/reschedule",
            json={"start_time": at(THURSDAY, 16).isoformat()}, headers=client.headers,
        )
        body = response.get_json()
        answers.append((response.status_code, body.get("error", {}).get("code")))

    threads = [threading.Thread(target=attempt, args=mover) for mover in movers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers, key=str) == sorted(
        [(200, None)] + [(409, "slot_unavailable")] * (len(movers) - 1), key=str
    )
    with container.engine.connect() as connection:
        at_four = connection.execute(
            sa.select(sa.func.count()).where(bookings.c.start_time == at(THURSDAY, 16))
        ).scalar_one()
    assert at_four == 1


def test_moves_and_new_bookings_racing_for_one_slot_leave_it_to_exactly_one(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    movers = [confirmed(api, container, pro, at(THURSDAY, 9 + hour)) for hour in range(3)]
    bookers = [api.register() for _ in range(3)]
    barrier = threading.Barrier(len(movers) + len(bookers))
    statuses: list[int] = []
    target = at(THURSDAY, 16)

    def move(client: Account, booking: Json) -> None:
        own_client = api.client.application.test_client()
        barrier.wait()
        statuses.append(own_client.post(
            f"/bookings/{booking['id']}/reschedule", json={"start_time": target.isoformat()},
            headers=client.headers,
        ).status_code)  # fmt: skip

    def book(client: Account) -> None:
        own_client = api.client.application.test_client()
        barrier.wait()
        statuses.append(own_client.post(
            "/bookings", json=booking_body(pro["id"], target),
            headers={**client.headers, "Idempotency-Key": str(uuid4())},
        ).status_code)  # fmt: skip

    threads = [threading.Thread(target=move, args=mover) for mover in movers]
    threads += [threading.Thread(target=book, args=(booker,)) for booker in bookers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(statuses) == 6 and statuses.count(409) == 5
    assert set(statuses) - {409} <= {200, 201}
    with container.engine.connect() as connection:
        active_at_four = connection.execute(
            sa.select(sa.func.count()).where(
                bookings.c.start_time == target, bookings.c.status != "cancelled"
            )
        ).scalar_one()
    assert active_at_four == 1
