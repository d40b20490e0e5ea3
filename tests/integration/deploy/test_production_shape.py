"""Through the shipped nginx config, in front of two instances of 2 processes each: the promises
docs/deploy.md makes about the production shape (fixtures in conftest.py)."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa
import stripe

from tests.integration.api.support import PASSWORD, PROFILE
from tests.integration.deploy import nginx
from tests.integration.deploy.conftest import Client, Reply, Stack, free_port, require_nginx

MEGABYTE = 1_000_000


def day_after_tomorrow_at(hour: int, *, days_later: int = 0) -> str:
    day = datetime.now(UTC).date() + timedelta(days=2 + days_later)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def a_professional(stack: Stack, address: str) -> str:
    owner = stack.signed_up("professional", address)
    created = owner.call("POST", "/professionals", PROFILE)
    assert created.status == 201, created.body
    return str(created.body["id"])


def book(client: Client, pro_id: str, start: str, key: str) -> Reply:
    body = {"professional_id": pro_id, "start_time": start, "duration_minutes": 60}
    return client.call("POST", "/bookings", body, **{"Idempotency-Key": key})


def wait_for_mail(stack: Stack, subject: str, seconds: float = 30) -> bool:
    """Whether the worker writes an email whose subject starts with ``subject`` in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for mail in (stack.folder / "mail").glob("*.eml"):
            parsed = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
            if str(parsed["Subject"]).strip().startswith(subject):
                return True
        time.sleep(0.3)
    return False


def active_bookings(stack: Stack, pro_id: str) -> int:
    with stack.engine.connect() as connection:
        return int(connection.execute(
            sa.text("SELECT count(*) FROM bookings WHERE professional_id = :id"
                    " AND status IN ('pending', 'confirmed')"),
            {"id": pro_id},
        ).scalar_one())  # fmt: skip


def test_fifty_parallel_bookings_of_one_slot_make_one_booking_and_forty_nine_conflicts(
    stack: Stack,
) -> None:
    pro_id = a_professional(stack, "127.0.1.200")
    # Fifty people, each with an address of their own (each registers and logs in on its own
    # budget) and one hold at most, as HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL allows.
    clients = [stack.signed_up("client", f"127.0.1.{n}") for n in range(1, 51)]
    start = day_after_tomorrow_at(10)
    barrier = threading.Barrier(len(clients))

    def attempt(client: Client) -> int:
        barrier.wait(timeout=60)
        return book(client, pro_id, start, str(uuid4())).status

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        statuses = list(pool.map(attempt, clients))

    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    assert active_bookings(stack, pro_id) == 1


def test_the_booking_is_paid_at_stripe_and_its_signed_webhook_confirms_it_through_nginx(
    stack: Stack,
) -> None:
    pro_id = a_professional(stack, "127.0.3.1")
    client = stack.signed_up("client", "127.0.3.2")
    booked = book(client, pro_id, day_after_tomorrow_at(15), str(uuid4()))
    assert booked.status == 201, booked.body
    intent_id = booked.body["payment"]["payment_intent_id"]

    stripe_client = stripe.StripeClient(
        "sk_test_browser", base_addresses={"api": stack.localstripe}, max_network_retries=0
    )
    stripe_client.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
    stripe_client.v1.payment_intents.confirm(intent_id)

    deadline = time.monotonic() + 20
    status = booked.body["status"]
    while status != "confirmed" and time.monotonic() < deadline:
        time.sleep(0.3)
        status = client.call("GET", f"/bookings/{booked.body['id']}").body["status"]
    assert status == "confirmed"
    webhook = '"POST /stripe/webhook HTTP/1.1" 200'
    assert webhook in stack.nginx.access_log(waiting_for=webhook)
    assert wait_for_mail(stack, "Booking confirmed: ")  # the worker relayed and sent it


def test_two_client_addresses_have_separate_login_budgets_that_no_token_or_header_moves(
    stack: Stack,
) -> None:
    victim = stack.signed_up("client", "127.0.0.3")
    email = victim.call("GET", "/clients/me").body["email"]
    attacker = stack.signed_up("client", "127.0.0.2")  # holds a valid token too
    wrong = {"email": email, "password": "not the password"}

    tries = [attacker.call("POST", "/auth/login", wrong).status for _ in range(10)]
    spoofed = attacker.call(
        "POST", "/auth/login", wrong,
        **{"X-Forwarded-For": "127.0.0.99", "X-Real-IP": "127.0.0.98", "Forwarded": "for=1.2.3.4"},
    )  # fmt: skip
    owner = stack.client("127.0.0.3").call(
        "POST", "/auth/login", {"email": email, "password": PASSWORD}
    )

    assert tries[:5] == [401] * 5  # five wrong passwords, then this address waits...
    assert tries[5] == 429
    assert tries[-1] == 429  # ...and, with its sign-up login, it has spent its 10 a minute
    assert spoofed.status == 429  # its token and forwarding headers bought nothing
    assert owner.status == 200  # the owner, from another address, is not locked out


def test_an_instance_killed_mid_run_leaves_every_request_answered_and_every_retry_one_booking(
    stack: Stack,
) -> None:
    pro_id = a_professional(stack, "127.0.2.200")
    # Twelve clients, one slot each: a client holds one unpaid booking per professional.
    slots = [
        (stack.signed_up("client", f"127.0.2.{n + 1}"), str(uuid4()),
         day_after_tomorrow_at(9 + n % 6, days_later=n // 6))
        for n in range(12)
    ]  # fmt: skip
    before = [book(client, pro_id, start, key) for client, key, start in slots[:6]]  # both
    stop = threading.Event()
    reads: list[tuple[float, int]] = []  # (when it started, status) of each read

    def keep_reading(reader: Client) -> None:
        # Paced (10 a second) to stay far inside one address's default limit of 300 a minute.
        while not stop.is_set():
            started = time.monotonic()
            reads.append((started, reader.call("GET", f"/professionals/{pro_id}").status))
            stop.wait(0.1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        readers = [pool.submit(keep_reading, stack.client(f"127.0.2.{n}")) for n in (101, 102)]
        try:
            _wait_until(lambda: len(reads) >= 4, "the readers to get going")
            stack.kill_instance(0)  # SIGKILL, mid-run; returns once its port refuses
            killed_at = time.monotonic()
            retried = [book(client, pro_id, start, key) for client, key, start in slots[:6]]
            after = [book(client, pro_id, start, key) for client, key, start in slots[6:]]
            _wait_until(lambda: any(started > killed_at for started, _ in reads), "a read")
        finally:
            stop.set()
        for reader in readers:
            reader.result()

    assert [reply.status for reply in before] == [201] * 6, [r.body for r in before]
    assert [reply.status for reply in retried] == [201] * 6, [r.body for r in retried]
    assert all(reply.headers.get("idempotent-replayed") == "true" for reply in retried)
    assert [r.body["id"] for r in retried] == [r.body["id"] for r in before]
    assert [reply.status for reply in after] == [201] * 6, [r.body for r in after]
    assert active_bookings(stack, pro_id) == 12  # one booking per key, retried or not
    following = [status for started, status in reads if started > killed_at]
    assert following and set(following) == {200}, following


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}"
        time.sleep(0.05)


def test_a_megabyte_chunked_body_gets_the_json_413_from_the_app_behind_nginx(
    stack: Stack,
) -> None:
    client = stack.signed_up("client", "127.0.4.1")

    answer = client.call(
        "POST", "/bookings", chunks=_megabyte_of_json(), **{"Idempotency-Key": str(uuid4())}
    )

    assert answer.status == 413
    assert answer.body["error"]["code"] == "request_entity_too_large"
    assert "x-request-id" in answer.headers  # the app's answer: it echoes the request id


def test_a_megabyte_chunked_body_gets_the_json_413_from_nginx_itself(stack: Stack) -> None:
    answer = stack.client("127.0.4.2").call("POST", "/auth/login", chunks=_megabyte_of_json())

    assert answer.status == 413
    assert answer.body == {"error": {
        "code": "request_entity_too_large",
        "message": "the body is larger than this server accepts",
    }}  # fmt: skip
    assert "x-request-id" not in answer.headers  # nginx's own page: no app saw it


def test_a_405_carries_allow_and_a_2xx_carries_no_retry_after(stack: Stack) -> None:
    client = stack.client("127.0.4.3")

    refused = client.call("DELETE", "/professionals")
    listed = client.call("GET", "/professionals")

    assert refused.status == 405
    assert refused.body["error"]["code"] == "method_not_allowed"
    assert set(refused.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert listed.status == 200
    assert "retry-after" not in listed.headers
    assert listed.headers["strict-transport-security"].startswith("max-age=")


def test_the_access_log_keeps_the_calendar_feed_token_out(stack: Stack) -> None:
    secret = uuid4().hex
    stack.client("127.0.4.4").call("GET", f"/professionals/{uuid4()}/calendar.ics?token={secret}")

    log = stack.nginx.access_log(waiting_for="calendar.ics")
    assert "/calendar.ics?[token removed]" in log
    assert secret not in log


def _megabyte_of_json() -> list[bytes]:
    head = b'{"professional_id": "' + str(uuid4()).encode() + b'", "padding": "'
    return [head, *([b"x" * 10_000] * (MEGABYTE // 10_000)), b'"}']


def test_nginx_answers_its_own_errors_in_the_api_shape(stack: Stack) -> None:
    client = stack.client("127.0.4.5")

    long_line = client.call("GET", "/professionals?q=" + "a" * 9000)
    big_header = client.call("GET", "/professionals", **{"X-Big": "b" * 9000})
    metrics = client.call("GET", "/metrics")
    two_megabytes = client.call(
        "POST", "/bookings", chunks=[b"{", *([b" " * 10_000] * 200), b"}"],
        **{"Idempotency-Key": str(uuid4())},
    )  # fmt: skip

    answers = [long_line, big_header, metrics, two_megabytes]
    assert [answer.status for answer in answers] == [414, 431, 403, 413]
    assert [answer.body["error"]["code"] for answer in answers] == [
        "uri_too_long", "request_header_fields_too_large", "forbidden",
        "request_entity_too_large",
    ]  # fmt: skip
    assert all("x-request-id" not in answer.headers for answer in answers)  # no app saw them


def test_with_every_instance_down_nginx_answers_a_json_502(tmp_path: Path) -> None:
    binary = require_nginx()
    nginx.self_signed_certificate(tmp_path)
    ports = nginx.Ports(http=free_port(), https=free_port())
    edge = nginx.start(
        binary, upstreams=[f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"],
        ports=ports, folder=tmp_path,
    )  # fmt: skip
    try:
        answer = _first_answer(Client(ports.https))
    finally:
        edge.stop()

    assert answer.status == 502
    assert answer.body["error"]["code"] == "bad_gateway"
    assert "retry-after" not in answer.headers


def _first_answer(client: Client) -> Reply:
    deadline = time.monotonic() + 10
    while True:
        try:
            return client.call("GET", "/healthz")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
