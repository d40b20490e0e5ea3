"""The embedded default (SQLite, no Redis): the in-process job runner delivers webhooks too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import uuid4

import pytest
from flask import Flask

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.sql import migrate
from entrypoints import accounts
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build, make_job_context
from entrypoints.config import Settings
from tests.factories import MONDAY, FixedClock, at
from tests.integration.api.support import PASSWORD, Api
from tests.integration.webhooks.conftest import Receiver, documented_verify
from tests.integration.webhooks.test_delivery import add_endpoint


@pytest.fixture
def embedded(settings: Settings, sqlite_url: str) -> Iterator[Container]:
    on_sqlite = replace(settings, database_url=sqlite_url, redis_url=None)
    container = build(on_sqlite, clock=FixedClock())
    migrate.upgrade(container.engine)
    yield container
    container.close()


def test_the_inline_runner_delivers_signed_events_on_sqlite(
    embedded: Container, receiver: Receiver
) -> None:
    app: Flask = create_app(embedded.settings, embedded)
    api = Api(app.test_client())
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(embedded, email, PASSWORD)
    admin = api.login(email)
    endpoint = add_endpoint(api, admin, receiver.url)
    _, pro = api.professional()
    booking = api.book(api.register(), pro["id"], at(MONDAY, 10)).get_json()

    InlineJobRunner(make_job_context(embedded)).run_pending()

    (received,) = receiver.received
    assert received.event["type"] == "booking.created"
    assert received.event["data"]["id"] == booking["id"]
    assert documented_verify()(
        received.body, received.headers["Hourbook-Signature"], endpoint["secret"]
    )
