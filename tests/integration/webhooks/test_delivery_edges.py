"""The edges of delivery: no redirects followed, the checked address is the one connected to,
a crash mid-send is retried after the lease, pings reach a disabled endpoint, unknown ids 404."""

from __future__ import annotations

import socket
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.webhooks_out import transport
from adapters.webhooks_out.addresses import Target
from entrypoints.bootstrap import make_webhook_deliverer
from tests.factories import FixedClock
from tests.integration.api.support import Account, Api
from tests.integration.webhooks.conftest import Receiver, Worker
from tests.integration.webhooks.test_delivery import add_endpoint, deliveries, ping


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    receiver.script = [302]
    ping(api, admin, endpoint["id"])
    worker.run()
    assert len(receiver.received) == 1
    (delivery,) = deliveries(api, admin, endpoint["id"])
    assert delivery["state"] == "pending"
    assert [(a["status_code"], a["outcome"]) for a in delivery["attempts"]] == [(302, "failed")]


def test_the_post_goes_to_the_checked_address_with_the_urls_host_name(
    receiver: Receiver,
) -> None:
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    # The name does not resolve anywhere: only the pinned address can have been connected to.
    target = Target(scheme="http", host="hooks.invalid", port=port, path="/in", address="127.0.0.1")
    answer = transport.post(target, b"{}", {"Content-Type": "application/json"}, timeout=10)
    assert answer.status == 200
    (received,) = receiver.received
    assert received.headers["Host"] == f"hooks.invalid:{port}"


def test_a_worker_that_dies_mid_send_leaves_the_delivery_to_be_sent_after_the_lease(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, clock: FixedClock
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    dying = make_webhook_deliverer(worker.container)

    def crash(*_: object) -> transport.Answer:
        raise SystemExit("killed while sending")

    dying.post = crash
    with pytest.raises(SystemExit):
        dying.deliver_due()
    worker.run()
    clock.advance(timedelta(minutes=4, seconds=59))
    worker.run()
    assert receiver.received == []  # claimed: left alone during the lease

    clock.advance(timedelta(seconds=1))
    worker.run()

    assert [event["type"] for event in receiver.events()] == ["ping"]


def test_a_ping_reaches_a_disabled_endpoint(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    path = f"/admin/webhook-endpoints/{endpoint['id']}"
    api.client.patch(path, json={"enabled": False}, headers=admin.headers)
    ping(api, admin, endpoint["id"])
    worker.run()
    assert [event["type"] for event in receiver.events()] == ["ping"]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("get", "", None), ("patch", "", {"enabled": False}), ("delete", "", None),
     ("post", "/rotate-secret", {}), ("post", "/test", None), ("get", "/deliveries", None),
     ("post", "/deliveries/1/redeliver", None)],
)  # fmt: skip
def test_an_unknown_endpoint_is_not_found(
    api: Api, admin: Account, method: str, suffix: str, body: object
) -> None:
    path = f"/admin/webhook-endpoints/{uuid4()}{suffix}"
    response = getattr(api.client, method)(path, json=body, headers=admin.headers)
    assert response.status_code == 404, response.get_json()


def test_a_deleted_endpoint_is_sent_nothing_more(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    deleted = api.client.delete(f"/admin/webhook-endpoints/{endpoint['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    worker.run()
    assert receiver.received == []


def test_a_receiver_that_never_answers_is_a_failed_attempt_after_the_timeout(
    api: Api, admin: Account, worker: Worker
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hooks"
        endpoint = add_endpoint(api, admin, url)
        ping(api, admin, endpoint["id"])
        worker.with_settings(timeout_seconds=0.2).run()

    (delivery,) = deliveries(api, admin, endpoint["id"])
    (attempt,) = delivery["attempts"]
    assert attempt["outcome"] == "failed" and attempt["status_code"] is None
    assert "timed out" in attempt["error"]


def test_an_unexpected_error_in_one_send_is_a_failed_attempt_and_the_others_still_go(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    ping(api, admin, endpoint["id"])
    ping(api, admin, endpoint["id"])
    sender = make_webhook_deliverer(worker.container)

    def broken(*_: object) -> transport.Answer:
        raise ValueError("a bug in the sender")

    sender.post = broken
    assert sender.deliver_due() == 2

    log = deliveries(api, admin, endpoint["id"])
    assert [len(d["attempts"]) for d in log] == [1, 1]
    assert all("ValueError" in d["attempts"][0]["error"] for d in log)
