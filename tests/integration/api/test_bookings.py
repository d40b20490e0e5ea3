"""POST /bookings and friends: holding a slot, idempotent retries, conflicts and the rules."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from flask import Flask

from adapters.sql.tables import bookings
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import Api, booking_body, error_code, start_running


def count_bookings(container: Container) -> int:
    with container.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(bookings)).scalar_one()


def test_a_client_books_a_free_slot_and_gets_a_pending_booking_with_its_payment(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()

    response = api.book(client, pro["id"], at(MONDAY, 10), 90)

    body = response.get_json()
    assert body["status"] == "pending"
    assert body["start_time"] == "2026-06-01T10:00:00+00:00"
    assert body["end_time"] == "2026-06-01T11:30:00+00:00"
    assert body["total_price_cents"] == 9000
    assert body["currency"] == "eur"
    assert body["payment"]["payment_intent_id"].startswith("pi_")
    assert body["payment"]["client_secret"]
    assert "Idempotent-Replayed" not in response.headers


def test_the_booked_slot_is_no_longer_offered(api: Api) -> None:
    _, pro = api.professional()
    api.book(api.register(), pro["id"], at(MONDAY, 10))

    slots = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T09:00:00Z", "to": "2026-06-01T12:00:00Z",
                      "duration_minutes": 60},
    ).get_json()

    starts = [slot["start_time"] for slot in slots["slots"]]
    assert starts == ["2026-06-01T09:00:00+00:00", "2026-06-01T11:00:00+00:00"]
    assert slots["price_cents"] == 6000


def test_the_client_reads_and_lists_their_booking(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()
    booking_id = api.book(client, pro["id"], at(MONDAY, 10)).get_json()["id"]

    one = api.client.get(f"/bookings/{booking_id}", headers=client.headers)
    listed = api.client.get("/bookings", headers=client.headers, query_string={"status": "pending"})
    none = api.client.get("/bookings", headers=client.headers, query_string={"status": "confirmed"})

    assert one.status_code == 200
    assert one.get_json()["payment"]["client_secret"] is None  # only POST reveals it
    assert [b["id"] for b in listed.get_json()["items"]] == [booking_id]
    assert none.get_json()["items"] == []


def test_the_booking_list_filters_by_start_time(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10))
    late = api.book(client, pro["id"], at(MONDAY, 14)).get_json()["id"]

    listed = api.client.get(
        "/bookings", headers=client.headers, query_string={"from": "2026-06-01T12:00:00+00:00"}
    )

    assert [b["id"] for b in listed.get_json()["items"]] == [late]


def test_cancelling_frees_the_slot_for_someone_else(api: Api) -> None:
    _, pro = api.professional()
    first, second = api.register(), api.register()
    booking_id = api.book(first, pro["id"], at(MONDAY, 10)).get_json()["id"]

    cancelled = api.client.post(f"/bookings/{booking_id}/cancel", headers=first.headers)
    api.book(second, pro["id"], at(MONDAY, 10))

    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["cancellation_reason"] == "client"


def test_cancelling_twice_is_a_conflict(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()
    booking_id = api.book(client, pro["id"], at(MONDAY, 10)).get_json()["id"]
    api.client.post(f"/bookings/{booking_id}/cancel", headers=client.headers)

    again = api.client.post(f"/bookings/{booking_id}/cancel", headers=client.headers)

    assert again.status_code == 409
    assert error_code(again) == "illegal_transition"


# -- idempotency -----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "a" * 256},
                                     {"Idempotency-Key": "tab\tinside"}])
def test_a_missing_or_malformed_idempotency_key_is_a_bad_request(
    api: Api, container: Container, headers: dict[str, str]
) -> None:
    _, pro = api.professional()
    client = api.register()

    response = api.client.post(
        "/bookings", json=booking_body(pro["id"], at(MONDAY, 10)),
        headers={**client.headers, **headers},
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_header"
    assert count_bookings(container) == 0


def test_a_retry_with_the_same_key_replays_the_answer_and_books_nothing_more(
    api: Api, container: Container
) -> None:
    _, pro = api.professional()
    client = api.register()
    first = api.book(client, pro["id"], at(MONDAY, 10), key="retry-me")

    again = api.book(client, pro["id"], at(MONDAY, 10), key="retry-me")

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count_bookings(container) == 1


def test_a_structured_field_key_in_quotes_is_the_same_key(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10), key="k-1")

    again = api.book(client, pro["id"], at(MONDAY, 10), key='"k-1"')

    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_bookings(container) == 1


def test_a_replayed_error_is_marked_as_replayed(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 20), key="too-late", expect=422)

    again = api.book(client, pro["id"], at(MONDAY, 20), key="too-late", expect=422)

    assert error_code(again) == "outside_availability"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused(api: Api, container: Container) -> None:
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10), key="once")

    other = api.book(client, pro["id"], at(MONDAY, 12), key="once", expect=422)

    assert error_code(other) == "idempotency_key_reused"
    assert count_bookings(container) == 1


def test_keys_belong_to_one_client(api: Api, container: Container) -> None:
    _, pro = api.professional()
    api.book(api.register(), pro["id"], at(MONDAY, 10), key="shared")

    api.book(api.register(), pro["id"], at(MONDAY, 12), key="shared")

    assert count_bookings(container) == 2


def test_the_same_key_while_the_first_request_runs_is_a_conflict(
    api: Api, app: Flask, container: Container
) -> None:
    _, pro = api.professional()
    client = api.register()
    body = booking_body(pro["id"], at(MONDAY, 10))
    headers = {**client.headers, "Idempotency-Key": "busy"}
    # The first request is "running": its claim is held, with no answer stored yet.
    start_running(app, "POST", "/bookings", "busy", json=body, headers=headers)

    response = api.client.post("/bookings", json=body, headers=headers)

    assert response.status_code == 409
    assert error_code(response) == "request_in_progress"
    assert count_bookings(container) == 0


# -- conflicts and rules ---------------------------------------------------------------------


def test_overlapping_an_active_booking_is_a_conflict(api: Api) -> None:
    _, pro = api.professional()
    api.book(api.register(), pro["id"], at(MONDAY, 10), 120)

    response = api.book(api.register(), pro["id"], at(MONDAY, 11), expect=409)

    assert error_code(response) == "slot_unavailable"


@pytest.mark.parametrize(
    ("start_hour", "minutes", "code"),
    [
        (20, 60, "outside_availability"),
        (10, 75, "misaligned"),
        (10, 30, "duration_out_of_range"),
        (9, 9 * 60, "duration_out_of_range"),
    ],
)
def test_each_booking_rule_answers_422_with_its_reason(
    api: Api, start_hour: int, minutes: int, code: str
) -> None:
    _, pro = api.professional()

    response = api.book(api.register(), pro["id"], at(MONDAY, start_hour), minutes, expect=422)

    assert error_code(response) == code
    assert response.get_json()["error"]["message"]


def test_a_start_off_the_grid_is_misaligned(api: Api) -> None:
    _, pro = api.professional()

    response = api.book(api.register(), pro["id"], at(MONDAY, 10, 10), expect=422)

    assert error_code(response) == "misaligned"


def test_a_start_in_the_past_is_refused(api: Api, clock: FixedClock) -> None:
    _, pro = api.professional()
    clock.advance(timedelta(hours=12))

    response = api.book(api.register(), pro["id"], at(MONDAY, 10), expect=422)

    assert error_code(response) == "in_the_past"


def test_a_start_within_the_notice_period_is_too_soon(api: Api, clock: FixedClock) -> None:
    _, pro = api.professional(policy={"minimum_notice_minutes": 24 * 60})

    response = api.book(api.register(), pro["id"], at(MONDAY, 10), expect=422)

    assert error_code(response) == "too_soon"


def test_a_start_beyond_the_advance_limit_is_too_far_ahead(api: Api) -> None:
    _, pro = api.professional()

    response = api.book(api.register(), pro["id"], at(MONDAY, 10) + timedelta(days=120),
                        expect=422)

    assert error_code(response) == "too_far_ahead"


def test_booking_an_unknown_professional_is_not_found(api: Api) -> None:
    response = api.book(api.register(), str(uuid4()), at(MONDAY, 10), expect=404)

    assert error_code(response) == "professional_not_found"


def test_concurrent_requests_for_one_slot_book_it_once(api: Api, container: Container) -> None:
    _, pro = api.professional()
    clients = [api.register() for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def attempt(index: int) -> None:
        test_client = api.client.application.test_client()
        barrier.wait()
        response = test_client.post(
            "/bookings", json=booking_body(pro["id"], at(MONDAY, 10)),
            headers={**clients[index].headers, "Idempotency-Key": str(uuid4())},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * (len(clients) - 1)
    assert count_bookings(container) == 1


NIGHTS = [
    {"day_of_week": 0, "start": "18:00", "end": "00:00"},
    {"day_of_week": 1, "start": "00:00", "end": "06:00"},
]


def test_a_client_books_22_to_02_berlin_time_across_midnight(api: Api) -> None:
    _, pro = api.professional(time_zone="Europe/Berlin", availability=NIGHTS)
    client = api.register()
    ten_pm = at(MONDAY, 20)  # 22:00 in Berlin (UTC+2 in June)

    offered = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": "2026-06-01T12:00:00Z", "to": "2026-06-02T12:00:00Z",
                      "duration_minutes": 240},
    ).get_json()
    body = api.book(client, pro["id"], ten_pm, 240).get_json()

    assert "2026-06-01T20:00:00+00:00" in [s["start_time"] for s in offered["slots"]]
    assert body["start_time"] == "2026-06-01T20:00:00+00:00"
    assert body["end_time"] == "2026-06-02T00:00:00+00:00"  # 02:00 on Tuesday in Berlin
    assert body["total_price_cents"] == 4 * 6000
    again = api.book(api.register(), pro["id"], at(MONDAY, 21), 120, expect=409)
    assert error_code(again) == "slot_unavailable"


def test_a_night_that_breaks_after_midnight_is_refused_as_outside_availability(api: Api) -> None:
    broken = [NIGHTS[0], {**NIGHTS[1], "start": "01:00"}]
    _, pro = api.professional(time_zone="Europe/Berlin", availability=broken)

    response = api.book(api.register(), pro["id"], at(MONDAY, 20), 240, expect=422)

    assert error_code(response) == "outside_availability"
