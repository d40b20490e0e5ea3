"""Events reach a real receiver signed, once per success, retried on failure, never for a change
that rolled back; the delivery log shows every attempt; redelivery, pings, rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from adapters.jobs import tasks
from adapters.sql.tables import webhook_events
from adapters.webhooks_out import signing
from entrypoints.bootstrap import Container, make_job_context
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import Account, Api
from tests.integration.webhooks.conftest import Receiver, Worker, documented_verify

BOOKING_TYPES = ["booking.created", "booking.confirmed", "booking.cancelled", "booking.refunded"]


def add_endpoint(api: Api, admin: Account, url: str, types: list[str] | None = None) -> Any:
    response = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": url, "event_types": types or BOOKING_TYPES, "description": "CRM"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(api: Api, admin: Account, endpoint_id: str) -> list[Any]:
    response = api.client.get(
        f"/admin/webhook-endpoints/{endpoint_id}/deliveries", headers=admin.headers
    )
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def ping(api: Api, admin: Account, endpoint_id: str) -> Any:
    path = f"/admin/webhook-endpoints/{endpoint_id}/test"
    response = api.client.post(path, headers=admin.headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_events_arrive_signed_and_verify_with_the_documented_snippet(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url, [*BOOKING_TYPES, "professional.created"])
    _, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    as_read = api.client.get(f"/bookings/{booking['id']}", headers=client.headers).get_json()

    worker.run()

    verify = documented_verify()
    assert [event["type"] for event in receiver.events()] == [
        "professional.created", "booking.created"
    ]  # fmt: skip
    for received in receiver.received:
        signature = received.headers["Hourbook-Signature"]
        assert verify(received.body, signature, endpoint["secret"])
        assert not verify(received.body, signature, "whsec_not-the-secret")
        assert not verify(received.body + b" ", signature, endpoint["secret"])
        assert received.headers["Hourbook-Event-Id"] == received.event["id"]
        assert received.headers["Hourbook-Event-Type"] == received.event["type"]
        assert received.headers["Content-Type"] == "application/json"
    created = receiver.events()[1]
    assert set(created) == {"id", "type", "created", "api_version", "sequence", "data"}
    # The REST API's own representation, as it was when the hold was stored: the payment is
    # opened just after, in a transaction of its own.
    opened = {**as_read, "payment": {**as_read["payment"], "payment_intent_id": None}}
    assert created["data"] == opened
    assert created["data"]["status"] == "pending"
    assert receiver.events()[0]["data"] == api.client.get(f"/professionals/{pro['id']}").get_json()


def test_the_documented_snippet_refuses_a_delivery_signed_outside_the_replay_window(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    worker.run()
    (received,) = receiver.received
    stamp = int(received.headers["Hourbook-Signature"].split(",")[0].removeprefix("t="))
    verify = documented_verify()
    header = received.headers["Hourbook-Signature"]

    assert verify(received.body, header, endpoint["secret"])
    replayed_later = header.replace(f"t={stamp}", f"t={stamp - 301}")
    assert not verify(received.body, replayed_later, endpoint["secret"])  # and not re-signable
    # signed ten minutes ago: outside the five-minute window
    old = signing.header([endpoint["secret"]], stamp - 600, received.body)
    assert not verify(received.body, old, endpoint["secret"])
    assert verify(received.body, old, endpoint["secret"], window_seconds=900)


def test_a_receiver_that_fails_three_times_gets_the_event_once_more_and_no_further(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    api.book(api.register(), pro["id"], at(MONDAY, 10))
    receiver.script = [500, 503, 404]

    worker.run(times=6)

    events = receiver.events()
    assert len(events) == 4
    assert len({event["id"] for event in events}) == 1  # the same event each time
    (delivery,) = deliveries(api, admin, endpoint["id"])
    assert delivery["state"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 404, 200]
    assert [a["outcome"] for a in delivery["attempts"]] == ["failed"] * 3 + ["succeeded"]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])
    assert delivery["attempts"][0]["response_body"] == '{"ok": false}'
    assert delivery["attempts"][-1]["response_body"] == '{"ok": true}'


def test_a_change_that_rolls_back_sends_nothing(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, container: Container
) -> None:
    add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    client = api.register()
    # Every booking now fails when its transaction commits, after the event was written in it.
    with container.engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
        ))  # fmt: skip
        connection.execute(sa.text(
            "CREATE CONSTRAINT TRIGGER refuse_bookings AFTER INSERT ON bookings"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
        ))  # fmt: skip

    response = api.book(client, pro["id"], at(MONDAY, 10), expect=500)
    worker.run()

    assert response.status_code == 500
    assert receiver.received == []
    with container.engine.connect() as connection:
        published = connection.scalars(sa.select(webhook_events.c.type)).all()
    assert "booking.created" not in published


def test_secret_rotation_signs_with_both_secrets_then_only_the_new_one(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, clock: FixedClock
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    old = endpoint["secret"]
    response = api.client.post(
        f"/admin/webhook-endpoints/{endpoint['id']}/rotate-secret",
        json={"grace_minutes": 60}, headers=admin.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    new = response.get_json()["secret"]
    assert new != old
    verify = documented_verify()

    ping(api, admin, endpoint["id"])
    worker.run()
    clock.advance(timedelta(minutes=61))
    ping(api, admin, endpoint["id"])
    worker.run()

    during, after = receiver.received
    assert during.headers["Hourbook-Signature"].count("v1=") == 2
    assert verify(during.body, during.headers["Hourbook-Signature"], new)
    assert verify(during.body, during.headers["Hourbook-Signature"], old)
    assert after.headers["Hourbook-Signature"].count("v1=") == 1
    assert verify(after.body, after.headers["Hourbook-Signature"], new)
    assert not verify(after.body, after.headers["Hourbook-Signature"], old)


def test_redeliver_sends_the_same_event_again_and_a_ping_arrives(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    api.book(api.register(), pro["id"], at(MONDAY, 10))
    worker.run()
    (first,) = deliveries(api, admin, endpoint["id"])

    response = api.client.post(
        f"/admin/webhook-endpoints/{endpoint['id']}/deliveries/{first['id']}/redeliver",
        headers=admin.headers,
    )
    assert response.status_code == 202, response.get_json()
    ping(api, admin, endpoint["id"])
    worker.run()

    original, again, pinged = receiver.events()
    assert again["id"] == original["id"] and again == original
    assert pinged["type"] == "ping"
    assert pinged["data"] == {"endpoint_id": endpoint["id"]}
    log = deliveries(api, admin, endpoint["id"])
    assert [d["event_type"] for d in log] == ["ping", "booking.created", "booking.created"]
    assert all(d["state"] == "succeeded" and len(d["attempts"]) == 1 for d in log)


def test_redelivering_another_endpoints_delivery_is_not_found(
    api: Api, admin: Account, receiver: Receiver
) -> None:
    one = add_endpoint(api, admin, receiver.url)
    other = add_endpoint(api, admin, receiver.url)
    delivery = ping(api, admin, one["id"])
    response = api.client.post(
        f"/admin/webhook-endpoints/{other['id']}/deliveries/{delivery['id']}/redeliver",
        headers=admin.headers,
    )
    assert response.status_code == 404


def test_an_endpoint_is_disabled_after_n_dead_deliveries_and_the_admins_are_emailed(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, container: Container
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    client = api.register()
    receiver.script = [500] * 10
    impatient = worker.with_settings(retry_window_hours=0, disable_after=2)  # dead at once

    api.book(client, pro["id"], at(MONDAY, 10))
    impatient.run()
    still = api.client.get(f"/admin/webhook-endpoints/{endpoint['id']}", headers=admin.headers)
    api.book(client, pro["id"], at(MONDAY, 12))
    impatient.run()
    api.book(client, pro["id"], at(MONDAY, 14))
    impatient.run()

    assert still.get_json()["enabled"] is True  # one dead delivery is not enough
    found = api.client.get(f"/admin/webhook-endpoints/{endpoint['id']}", headers=admin.headers)
    assert found.get_json()["enabled"] is False
    assert "2 deliveries" in found.get_json()["disabled_reason"]
    assert len(receiver.received) == 2  # nothing for the third booking
    assert [d["state"] for d in deliveries(api, admin, endpoint["id"])] == ["dead", "dead"]
    mails = [path.read_text() for path in container.settings.mail_dir.glob("*.eml")]
    alerts = [mail for mail in mails if "webhook endpoint was disabled" in mail]
    assert len(alerts) == 1 and admin.email in alerts[0]


def test_a_success_between_dead_deliveries_keeps_the_endpoint_enabled(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    receiver.script = [500, 200, 500]
    impatient = worker.with_settings(retry_window_hours=0, disable_after=2)
    for _ in range(3):
        ping(api, admin, endpoint["id"])
        impatient.run()
    found = api.client.get(f"/admin/webhook-endpoints/{endpoint['id']}", headers=admin.headers)
    assert found.get_json()["enabled"] is True


def test_an_address_allowed_at_creation_is_refused_at_delivery_once_no_longer_allowed(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    worker.with_settings(allowed_networks=()).run()
    assert receiver.received == []
    (delivery,) = deliveries(api, admin, endpoint["id"])
    (attempt,) = delivery["attempts"]
    assert attempt["outcome"] == "failed" and attempt["status_code"] is None
    assert "refused" in attempt["error"] and "127.0.0.1" in attempt["error"]


def test_finished_deliveries_are_purged_after_thirty_days_but_pending_ones_are_kept(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, container: Container,
    clock: FixedClock,
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    worker.run()
    receiver.script = [500]
    ping(api, admin, endpoint["id"])
    worker.run()  # failed once: pending, retried later
    clock.advance(timedelta(days=29))
    tasks.purge_expired_records(make_job_context(container))
    assert len(deliveries(api, admin, endpoint["id"])) == 2

    clock.advance(timedelta(days=2))
    tasks.purge_expired_records(make_job_context(container))

    (kept,) = deliveries(api, admin, endpoint["id"])
    assert kept["state"] == "pending" and len(kept["attempts"]) == 1


def test_a_disabled_endpoint_gets_nothing_until_enabled_again_then_what_waited(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10))  # its delivery is pending
    path = f"/admin/webhook-endpoints/{endpoint['id']}"
    assert api.client.patch(path, json={"enabled": False}, headers=admin.headers).status_code == 200
    api.book(client, pro["id"], at(MONDAY, 12))  # no delivery for a disabled endpoint
    worker.run()
    assert receiver.received == []

    assert api.client.patch(path, json={"enabled": True}, headers=admin.headers).status_code == 200
    worker.run()

    (waited,) = receiver.events()
    assert waited["data"]["start_time"] == at(MONDAY, 10).isoformat()


def test_enabling_an_endpoint_again_forgets_the_dead_deliveries_that_disabled_it(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    receiver.script = [500] * 10
    impatient = worker.with_settings(retry_window_hours=0, disable_after=2)
    path = f"/admin/webhook-endpoints/{endpoint['id']}"
    for _ in range(2):
        ping(api, admin, endpoint["id"])
        impatient.run()
    assert api.client.get(path, headers=admin.headers).get_json()["enabled"] is False

    enabled = api.client.patch(path, json={"enabled": True}, headers=admin.headers).get_json()
    ping(api, admin, endpoint["id"])
    impatient.run()

    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert api.client.get(path, headers=admin.headers).get_json()["enabled"] is True


def _audit_of(api: Api, admin: Account, endpoint_id: str) -> list[Any]:
    response = api.client.get(
        "/admin/audit", query_string={"entity": "webhook_endpoint", "entity_id": endpoint_id},
        headers=admin.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return list(reversed(response.get_json()["items"]))


def test_every_change_to_an_endpoint_is_audited_with_its_actor_and_never_its_secret(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    changed = api.client.patch(
        f"/admin/webhook-endpoints/{endpoint['id']}", json={"description": "Accounting"},
        headers=admin.headers,
    )  # fmt: skip
    rotated = api.client.post(
        f"/admin/webhook-endpoints/{endpoint['id']}/rotate-secret", json={},
        headers=admin.headers,
    )  # fmt: skip
    _, pro = api.professional()
    client = api.register()
    receiver.script = [500] * 10
    impatient = worker.with_settings(retry_window_hours=0, disable_after=1)  # dead at once
    api.book(client, pro["id"], at(MONDAY, 10))
    impatient.run()
    deleted = api.client.delete(
        f"/admin/webhook-endpoints/{endpoint['id']}", headers=admin.headers
    )

    assert (changed.status_code, rotated.status_code, deleted.status_code) == (200, 201, 204)
    entries = _audit_of(api, admin, endpoint["id"])
    assert [e["action"] for e in entries] == [
        "created", "changed", "secret_rotated", "disabled", "deleted",
    ]  # fmt: skip
    by = [(e["actor"]["kind"], e["actor"]["account_id"]) for e in entries]
    assert by == [("account", admin.id)] * 3 + [("worker", None), ("account", admin.id)]
    assert entries[0]["after"]["url"] == receiver.url and entries[0]["before"] is None
    assert (entries[1]["before"], entries[1]["after"]) == (
        {"description": "CRM"}, {"description": "Accounting"},
    )  # fmt: skip
    assert (entries[3]["before"], entries[3]["after"]) == ({"enabled": True}, {"enabled": False})
    secrets = [endpoint["secret"], rotated.get_json()["secret"]]
    assert not any(secret in str(entries) for secret in secrets)
