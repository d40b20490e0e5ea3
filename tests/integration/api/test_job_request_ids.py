"""A request's id reaches the jobs it causes: the worker's log lines carry it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.jobs import rq_tasks
from adapters.jobs.inline_runner import InlineJobRunner
from adapters.jobs.outbox_relay import OutboxRelay
from adapters.jobs.rq_tasks import OutboxEnqueuer
from adapters.jobs.tasks import JobContext
from adapters.memory import ListNotifier
from adapters.notifications.sent_log import InMemorySentLog
from entrypoints.api.request_ids import HEADER
from entrypoints.bootstrap import Container
from entrypoints.worker.main import work
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.conftest import FULL_STACK
from tests.integration.api.support import Api, booking_body
from tests.integration.jobs.test_request_ids_in_jobs import request_id_of_each_job
from tests.json_logs import capture_json_log


@pytest.fixture
def notifier() -> ListNotifier:
    return ListNotifier()


@pytest.fixture
def jobs(container: Container, notifier: ListNotifier) -> JobContext:
    return JobContext(
        engine=container.engine, uow=container.uow, payments=container.payments,
        notifier=notifier, clock=container.clock, sent_log=InMemorySentLog(),
    )  # fmt: skip


def book_and_cancel(api: Api, clock: FixedClock) -> None:
    """A client books (request "req-book") and cancels (request "req-cancel")."""
    clock.current = MONDAY - timedelta(days=3)  # no reminders due
    _, pro = api.professional()
    client = api.register()
    booked = api.client.post(
        "/bookings", json=booking_body(pro["id"], at(MONDAY, 10)),
        headers={**client.headers, "Idempotency-Key": str(uuid4()), HEADER: "req-book"},
    )  # fmt: skip
    assert booked.status_code == 201, booked.get_json()
    cancelled = api.client.post(
        f"/bookings/{booked.get_json()['id']}/cancel",
        headers={**client.headers, HEADER: "req-cancel"},
    )
    assert cancelled.status_code == 200, cancelled.get_json()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_the_inline_runner_logs_each_job_with_the_id_of_the_request_that_caused_it(
    api: Api, clock: FixedClock, jobs: JobContext, notifier: ListNotifier
) -> None:
    book_and_cancel(api, clock)

    with capture_json_log() as log:
        InlineJobRunner(jobs).run_pending()

    assert request_id_of_each_job(log) == {
        "BookingRequested": "req-book",
        "BookingCancelled": "req-cancel",
    }
    assert notifier.sent  # the cancellation was mailed


@pytest.fixture
def queue_name(container: Container) -> Iterator[str]:
    name = f"hourbook-test-{uuid4().hex}"
    yield name
    assert container.redis is not None
    for key in container.redis.scan_iter(match=f"*{name}*"):
        container.redis.delete(key)


@pytest.mark.parametrize("settings", [FULL_STACK], indirect=True)
def test_an_rq_worker_logs_each_job_with_the_id_of_the_request_that_caused_it(
    api: Api, clock: FixedClock, container: Container, jobs: JobContext, queue_name: str
) -> None:
    book_and_cancel(api, clock)
    assert container.redis is not None
    queue = rq_tasks.queue(queue_name, container.redis)
    OutboxRelay(container.engine).relay_once(OutboxEnqueuer(queue))

    with capture_json_log() as log:
        work(jobs, container.redis, queue_name, burst=True)

    assert request_id_of_each_job(log) == {
        "BookingRequested": "req-book",
        "BookingCancelled": "req-cancel",
    }
