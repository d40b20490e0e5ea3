"""Reads go to a streaming standby, its writer reads from the primary, and an unfit standby
is skipped: against a real primary and hot standby built for this module (cluster.py)."""

from __future__ import annotations

import logging
from typing import cast

import pytest
from flask import Flask

from adapters.sql.unit_of_work import SqlUnitOfWork
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import Api
from tests.integration.replicas.cluster import Cluster, wait_until
from tests.integration.replicas.support import in_recovery, replica_settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROUTING_LOG = "adapters.sql.replicas"


def read_by(container: Container, *, primary: bool = False) -> bool:
    """Whether a read-only unit of work's connection reaches a standby."""
    with cast(SqlUnitOfWork, container.reader(primary=primary)) as uow:
        return in_recovery(uow.connection)


def skipped(app: Flask, reason: str) -> float:
    """hourbook_replica_skipped_total for ``reason``, as /metrics shows it."""
    text = app.test_client().get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith("hourbook_replica_skipped_total{") and f'reason="{reason}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_reads_are_served_by_the_standby_and_writes_by_the_primary(
    container: Container,
) -> None:
    with cast(SqlUnitOfWork, container.uow()) as writer:
        writes_on_standby = in_recovery(writer.connection)

    assert read_by(container) is True
    assert read_by(container, primary=True) is False
    assert writes_on_standby is False


def test_public_reads_through_the_api_come_from_the_standby(
    api: Api, cluster: Cluster
) -> None:
    _, seen = api.professional()
    cluster.wait_for_replay()

    with cluster.replay_paused():
        _, unseen = api.professional()
        replayed = api.client.get(f"/professionals/{seen['id']}")
        not_replayed = api.client.get(f"/professionals/{unseen['id']}")
        found = api.client.get("/professionals?category=plumbing&limit=100").get_json()
    cluster.wait_for_replay()
    later = api.client.get(f"/professionals/{unseen['id']}")

    assert replayed.status_code == 200
    assert not_replayed.status_code == 404  # the primary has it; the standby not yet
    assert seen["id"] in [pro["id"] for pro in found["items"]]
    assert unseen["id"] not in [pro["id"] for pro in found["items"]]
    assert later.status_code == 200


def test_a_client_reads_their_booking_at_once_though_the_standby_has_not_replayed_it(
    api: Api, cluster: Cluster
) -> None:
    _, pro = api.professional()
    client = api.register()
    slots_url = (
        f"/professionals/{pro['id']}/slots?from={at(MONDAY, 10).isoformat()}"
        f"&to={at(MONDAY, 11).isoformat()}&duration_minutes=60"
    ).replace("+", "%2B")
    cluster.wait_for_replay()

    with cluster.replay_paused():
        booked = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
        mine = api.client.get("/bookings", headers=client.headers).get_json()
        one = api.client.get(f"/bookings/{booked['id']}", headers=client.headers)
        public = api.client.get(slots_url).get_json()  # anonymous: from the standby

    assert [item["id"] for item in mine["items"]] == [booked["id"]]
    assert one.status_code == 200
    assert [slot["start_time"] for slot in public["slots"]] == [at(MONDAY, 10).isoformat()]


def test_a_standby_behind_by_more_than_the_bound_is_skipped_with_a_metric_and_a_log_line(
    cluster: Cluster, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replica_settings(
        cluster, redis_prefix, max_lag_seconds=0.0, read_your_writes_seconds=0.0
    )
    container = build(settings, clock=FixedClock())
    app = create_app(settings, container)
    api = Api(app.test_client())
    cluster.wait_for_replay()
    caplog.set_level(logging.INFO, logger=ROUTING_LOG)

    try:
        with cluster.replay_paused():
            api.professional()
            wait_until(cluster.received, "the standby to receive the write")
            behind = read_by(container)
        wait_until(lambda: read_by(container), "the standby to be fit again")
        counted = skipped(app, "lagging")
    finally:
        container.close()

    assert behind is False  # the primary answered
    assert counted >= 1
    assert "skipped (lagging" in caplog.text
    assert "is fit again" in caplog.text


def test_a_stopped_standby_is_skipped_and_not_tried_again_until_the_retry_period_ends(
    cluster: Cluster, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replica_settings(cluster, redis_prefix, retry_after_seconds=600.0)
    container = build(settings, clock=FixedClock())
    app = create_app(settings, container)
    api = Api(app.test_client())
    _, pro = api.professional()
    cluster.wait_for_replay()
    assert read_by(container) is True  # the pool holds a standby connection now
    caplog.set_level(logging.INFO, logger=ROUTING_LOG)

    cluster.standby.stop()
    try:
        profile = api.client.get(f"/professionals/{pro['id']}")
        again = read_by(container)
        counted = skipped(app, "down")
    finally:
        cluster.standby.start()
    restarted_but_not_retried = read_by(container)
    container.close()

    assert profile.status_code == 200
    assert again is False
    assert restarted_but_not_retried is False
    assert counted == 2  # the first read found it down, the second did not try it again
    assert "skipped (down" in caplog.text
