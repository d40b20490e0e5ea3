"""The audit log: every change is written with its actor, in the change's own transaction, and
read back by admins (everything) and professionals (their own bookings and profile)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from flask.testing import FlaskClient

from adapters.jobs import tasks
from adapters.payments.simulator import SimulatedPayments
from booking import catalogue
from entrypoints import accounts
from entrypoints.bootstrap import Container, make_job_context
from entrypoints.email_links import RESET_LIFETIME, reset_token, token_sha256
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import PASSWORD, Account, Api, Json

Entry = dict[str, Any]


@pytest.fixture
def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


def audit(api: Api, admin: Account, **query: str) -> list[Entry]:
    response = api.client.get("/admin/audit", query_string=query, headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def about(api: Api, admin: Account, entity_id: str) -> list[Entry]:
    """The entries about one thing, oldest first."""
    return list(reversed(audit(api, admin, entity_id=entity_id)))


def actor_of(entry: Entry) -> tuple[str, str | None, str | None]:
    actor = entry["actor"]
    return actor["kind"], actor["account_id"], actor["role"]


def pay(client: FlaskClient, booking: Json) -> None:
    intent = booking["payment"]["payment_intent_id"]
    secret = booking["payment"]["client_secret"]
    answer = client.post(
        f"/simulator/payment_intents/{intent}/pay", json={"client_secret": secret}
    )
    assert answer.status_code == 200, answer.get_json()


def test_a_booking_made_by_a_client_is_logged_with_the_client_the_request_and_its_address(
    api: Api, admin: Account
) -> None:
    _, pro = api.professional()
    client = api.register()

    response = api.book(client, pro["id"], at(MONDAY, 10))

    booking = response.get_json()
    (created,) = about(api, admin, booking["id"])
    assert created["entity"] == "booking"
    assert created["action"] == "created"
    assert actor_of(created) == ("account", client.id, "client")
    assert created["before"] is None
    assert created["after"]["status"] == "pending"
    assert created["after"]["start"] == at(MONDAY, 10).isoformat()
    assert created["request_id"] == response.headers["X-Request-ID"]
    assert created["client_address"] == "127.0.0.1"


@pytest.mark.usefixtures("simulator")
def test_a_payment_confirmed_by_stripes_webhook_is_logged_as_stripe(
    api: Api, admin: Account
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()

    pay(api.client, booking)

    created, confirmed = about(api, admin, booking["id"])
    assert confirmed["action"] == "confirmed"
    assert actor_of(confirmed) == ("stripe", None, None)
    assert confirmed["before"]["status"] == "pending"
    assert confirmed["after"]["status"] == "confirmed"
    assert confirmed["after"]["paid_cents"] == created["after"]["total_price_cents"]


@pytest.mark.usefixtures("simulator")
def test_a_client_cancelling_a_paid_booking_is_logged_with_the_cancellation_and_the_refund(
    api: Api, admin: Account
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY + timedelta(days=2), 10)).get_json()
    pay(api.client, booking)

    answer = api.client.post(f"/bookings/{booking['id']}/cancel", headers=client.headers)

    assert answer.status_code == 200, answer.get_json()
    *_, cancelled, refunded = about(api, admin, booking["id"])
    assert (cancelled["action"], refunded["action"]) == ("cancelled", "refunded")
    assert actor_of(cancelled) == actor_of(refunded) == ("account", client.id, "client")
    assert cancelled["after"]["cancellation_reason"] == "client"
    assert refunded["after"]["refunded_cents"] > refunded["before"]["refunded_cents"] == 0


def test_a_hold_expired_by_the_worker_is_logged_as_worker(
    api: Api, admin: Account, container: Container, clock: FixedClock
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    clock.advance(timedelta(minutes=container.settings.hold_minutes + 1))

    assert tasks.expire_holds(make_job_context(container)) == 1

    _, expired = about(api, admin, booking["id"])
    assert expired["action"] == "expired"
    assert actor_of(expired) == ("worker", None, None)
    assert expired["after"] == {"status": "cancelled", "cancellation_reason": "hold_expired"}


def test_profile_availability_and_time_off_changes_are_each_logged_with_what_changed(
    api: Api, admin: Account
) -> None:
    owner, pro = api.professional()
    path = f"/professionals/{pro['id']}"

    patched = api.client.patch(path, json={"hourly_rate_cents": 7000}, headers=owner.headers)
    windows = [{"day_of_week": 0, "start": "08:00", "end": "12:00"}]
    put = api.client.put(f"{path}/availability", json={"windows": windows}, headers=owner.headers)
    days = [{"first_day": "2026-07-01", "last_day": "2026-07-03"}]
    off = api.client.put(f"{path}/time-off", json={"days_off": days}, headers=owner.headers)

    assert (patched.status_code, put.status_code, off.status_code) == (200, 200, 200)
    registered, created, profile, availability, time_off = about(api, admin, pro["id"])
    assert registered["entity"] == "account"  # a professional's account and profile share an id
    assert (created["entity"], created["action"]) == ("professional", "created")
    assert (profile["entity"], profile["action"]) == ("professional", "changed")
    assert profile["before"] == {"hourly_rate_cents": 6000}
    assert profile["after"] == {"hourly_rate_cents": 7000}
    assert availability["entity"] == "availability"
    assert availability["after"] == {"windows": ["0 08:00-12:00"]}
    assert time_off["entity"] == "time_off"
    assert time_off["before"] == {"days_off": []}
    assert time_off["after"] == {"days_off": ["2026-07-01..2026-07-03"]}
    for entry in (created, profile, availability, time_off):
        assert actor_of(entry) == ("account", owner.id, "professional")


def test_a_client_changing_their_details_is_logged_with_what_changed(
    api: Api, admin: Account
) -> None:
    client = api.register()

    patched = api.client.patch(
        "/clients/me", json={"phone": "+49 30 1234567", "time_zone": "Europe/Berlin"},
        headers=client.headers,
    )  # fmt: skip

    assert patched.status_code == 200, patched.get_json()
    _, changed = about(api, admin, client.id)
    assert (changed["entity"], changed["action"]) == ("client", "changed")
    assert changed["before"] == {"phone": "", "time_zone": None}
    assert changed["after"] == {"phone": "+49 30 1234567", "time_zone": "Europe/Berlin"}
    assert actor_of(changed) == ("account", client.id, "client")


def test_registering_logs_the_new_account_as_its_own_actor_with_its_address_masked(
    api: Api, admin: Account
) -> None:
    client = api.register()

    (registered,) = about(api, admin, client.id)

    assert registered["action"] == "registered"
    assert actor_of(registered) == ("account", client.id, "client")
    local, domain = client.email.split("@")
    assert registered["after"] == {"email": f"{local[0]}***@{domain}", "role": "client"}
    assert client.email not in str(registered)


def test_an_admin_made_by_the_cli_is_registered_by_system_and_their_edits_logged_as_admin(
    api: Api, admin: Account
) -> None:
    _, pro = api.professional()

    edited = api.client.patch(
        f"/professionals/{pro['id']}", json={"name": "Ada B."}, headers=admin.headers
    )

    assert edited.status_code == 200
    (registered,) = about(api, admin, admin.id)
    assert actor_of(registered) == ("system", None, None)
    assert registered["after"]["role"] == "admin"
    *_, renamed = about(api, admin, pro["id"])
    assert actor_of(renamed) == ("account", admin.id, "admin")
    assert renamed["after"] == {"name": "Ada B."}


def test_logging_out_everywhere_is_logged_for_the_account(api: Api, admin: Account) -> None:
    client = api.register()

    answer = api.client.post("/auth/logout-all", headers=client.headers)

    assert answer.status_code == 204
    _, logged_out = about(api, admin, client.id)
    assert logged_out["action"] == "logged_out_everywhere"
    assert actor_of(logged_out) == ("account", client.id, "client")


def test_a_password_reset_is_logged_by_the_account_whose_link_it_was(
    api: Api, admin: Account, container: Container
) -> None:
    client = api.register()
    reset_id, now = uuid4(), container.clock.now()
    token = reset_token(container.settings, reset_id)  # as the mailed link carries it
    container.password_resets.issue(
        reset_id=reset_id, account_id=UUID(client.id), token_sha256=token_sha256(token),
        now=now, expires_at=now + RESET_LIFETIME,
    )  # fmt: skip

    answer = api.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "a new long password"}
    )

    assert answer.status_code == 204, answer.get_json()
    _, reset, logged_out = about(api, admin, client.id)
    assert reset["action"] == "password_reset"
    assert (reset["before"], reset["after"]) == (None, None)
    assert actor_of(reset) == ("account", client.id, "client")
    assert logged_out["action"] == "logged_out_everywhere"
    assert actor_of(logged_out)[:2] == ("account", client.id)


def test_a_change_rolled_back_writes_no_entry(
    api: Api, admin: Account, container: Container
) -> None:
    _, pro = api.professional()
    before = about(api, admin, pro["id"])

    uow = container.uow()
    with uow:
        professional = uow.professionals.get(UUID(pro["id"]))
        assert professional is not None
        uow.professionals.update(replace(professional, hourly_rate_cents=9900))
        # no commit: leaving the block rolls back

    assert about(api, admin, pro["id"]) == before
    stored = catalogue.get_professional(UUID(pro["id"]), uow=container.uow())
    assert stored.hourly_rate_cents == 6000


def test_a_refused_booking_writes_no_entry(api: Api, admin: Account) -> None:
    _, pro = api.professional()
    first, second = api.register(), api.register()
    api.book(first, pro["id"], at(MONDAY, 10))
    count = len(audit(api, admin, entity="booking"))

    api.book(second, pro["id"], at(MONDAY, 10), expect=409)

    assert len(audit(api, admin, entity="booking")) == count


def test_pages_go_newest_first_and_the_cursor_reaches_every_entry_once(
    api: Api, admin: Account
) -> None:
    owner, pro = api.professional()
    for rate in range(7001, 7006):
        api.client.patch(
            f"/professionals/{pro['id']}", json={"hourly_rate_cents": rate}, headers=owner.headers
        )
    everything = audit(api, admin, entity_id=pro["id"], limit="100")

    seen, cursor, pages = [], None, 0
    while True:
        query = {"entity_id": pro["id"], "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/admin/audit", query_string=query, headers=admin.headers)
        body = page.get_json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(everything) == 7  # registered, created, and five changes
    assert seen == everything
    assert pages == 4
    ids = [entry["id"] for entry in seen]
    assert ids == sorted(ids, reverse=True)


def test_admins_filter_by_actor_entity_and_time(
    api: Api, admin: Account, simulator: SimulatedPayments
) -> None:
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    pay(api.client, booking)

    by_stripe = audit(api, admin, actor="stripe", entity_id=booking["id"])
    by_client = audit(api, admin, actor=client.id, entity="booking")
    now = datetime.now(UTC)
    soon = (now + timedelta(minutes=5)).isoformat()
    later = audit(api, admin, entity_id=booking["id"], **{"from": soon})
    earlier = audit(api, admin, entity_id=booking["id"], to=soon)

    assert [entry["action"] for entry in by_stripe] == ["confirmed"]
    assert [(entry["action"], entry["entity_id"]) for entry in by_client] == [
        ("created", booking["id"])
    ]
    assert later == []
    assert [entry["action"] for entry in earlier] == ["confirmed", "created"]


def test_a_professional_reads_their_own_bookings_and_profile_only(
    api: Api, admin: Account
) -> None:
    owner, pro = api.professional()
    _, other = api.professional()
    client = api.register()
    mine = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    api.book(client, other["id"], at(MONDAY, 10))

    answer = api.client.get(f"/professionals/{pro['id']}/audit", headers=owner.headers)

    assert answer.status_code == 200
    entries = answer.get_json()["items"]
    assert {(entry["entity"], entry["entity_id"]) for entry in entries} == {
        ("booking", mine["id"]), ("professional", pro["id"])
    }


def test_a_professional_may_not_read_another_professionals_audit(api: Api) -> None:
    owner, _ = api.professional()
    _, other = api.professional()

    answer = api.client.get(f"/professionals/{other['id']}/audit", headers=owner.headers)

    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"


def test_only_admins_read_the_whole_audit_log(api: Api) -> None:
    owner, _ = api.professional()
    client = api.register()

    for who in (owner, client):
        answer = api.client.get("/admin/audit", headers=who.headers)
        assert answer.status_code == 403
    assert api.client.get("/admin/audit").status_code == 401


def test_an_unknown_entity_or_actor_is_refused_with_a_reason(api: Api, admin: Account) -> None:
    for query in ({"entity": "planet"}, {"actor": "someone"}, {"cursor": "0"}):
        answer = api.client.get("/admin/audit", query_string=query, headers=admin.headers)
        assert answer.status_code == 422, query
        assert answer.get_json()["error"]["code"]


def test_entries_past_retention_are_purged_by_the_worker_and_newer_ones_kept(
    api: Api, admin: Account, container: Container, clock: FixedClock
) -> None:
    _, pro = api.professional()
    context = make_job_context(container)
    retention = timedelta(days=container.settings.audit_retention_days)

    clock.current = datetime.now(UTC) + retention - timedelta(hours=1)
    tasks.purge_expired_records(context)
    kept = about(api, admin, pro["id"])
    clock.current = datetime.now(UTC) + retention + timedelta(hours=1)
    tasks.purge_expired_records(context)

    assert [entry["action"] for entry in kept] == ["registered", "created"]
    assert about(api, admin, pro["id"]) == []
