"""/metrics shows outgoing webhooks: the last hour's attempts by outcome, pending and recently
dead deliveries, the oldest due delivery's wait, and the disabled endpoints."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import FixedClock
from tests.integration.api.support import Account, Api
from tests.integration.webhooks.conftest import Receiver, Worker
from tests.integration.webhooks.test_delivery import add_endpoint, ping

ATTEMPTS = "hourbook_outgoing_webhook_attempts_last_hour"


def gauge(api: Api, name: str, labels: str = "") -> float:
    text = api.client.get("/metrics").get_data(as_text=True)
    pattern = rf"^{re.escape(name)}{re.escape('{' + labels + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"{name}{{{labels}}} not in /metrics"
    return float(found.group(1))


def test_the_last_hours_attempts_are_counted_by_outcome(
    api: Api, admin: Account, receiver: Receiver, worker: Worker, clock: FixedClock
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    receiver.script = [500, 500]
    ping(api, admin, endpoint["id"])
    worker.run(times=3)

    assert gauge(api, ATTEMPTS, 'outcome="failed"') == 2
    assert gauge(api, ATTEMPTS, 'outcome="succeeded"') == 1
    assert gauge(api, "hourbook_outgoing_webhook_deliveries_pending") == 0
    assert gauge(api, "hourbook_outgoing_webhooks_up") == 1
    clock.advance(timedelta(hours=1))
    assert gauge(api, ATTEMPTS, 'outcome="failed"') == 0


def test_the_queue_age_is_how_long_the_oldest_due_delivery_has_waited(
    api: Api, admin: Account, receiver: Receiver, clock: FixedClock
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    assert gauge(api, "hourbook_outgoing_webhook_oldest_due_seconds") == 0
    ping(api, admin, endpoint["id"])  # due now; no worker runs
    clock.advance(timedelta(minutes=5))
    assert gauge(api, "hourbook_outgoing_webhook_oldest_due_seconds") == 300
    assert gauge(api, "hourbook_outgoing_webhook_deliveries_pending") == 1


def test_disabled_endpoints_are_counted(
    api: Api, admin: Account, receiver: Receiver, worker: Worker
) -> None:
    endpoint = add_endpoint(api, admin, receiver.url)
    add_endpoint(api, admin, receiver.url)
    receiver.script = [500]
    ping(api, admin, endpoint["id"])
    worker.with_settings(retry_window_hours=0, disable_after=1).run()

    assert gauge(api, "hourbook_outgoing_webhook_endpoints_disabled") == 1
    assert gauge(api, "hourbook_outgoing_webhook_deliveries_dead_last_day") == 1
