"""Outgoing webhooks end to end: the API on PostgreSQL + Redis, a receiver this test runs on a
free port of 127.0.0.1 (allowed by ``HOURBOOK_WEBHOOK_ALLOWED_NETWORKS``), and the real worker:
RQ's burst worker running the ``deliver_webhooks`` job, as the cron scheduler enqueues it."""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
from flask import Flask

from adapters.jobs import rq_tasks
from adapters.sql import migrate
from entrypoints import accounts
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build, make_job_context
from entrypoints.config import Environment, Settings, WebhookSettings
from entrypoints.worker.main import work
from tests.factories import FixedClock
from tests.integration.api.conftest import GENEROUS
from tests.integration.api.support import PASSWORD, Account, Api
from tests.integration.conftest import REDIS_URL
from tests.integration.support import UNCAPPED

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DOCS = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """An HTTP server that answers each POST with the next scripted status (then 200)."""

    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.script.pop(0) if receiver.script else 200
                answer = b'{"ok": %s}' % (b"true" if status < 300 else b"false")
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        return server

    def events(self) -> list[dict[str, Any]]:
        return [one.event for one in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = found.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(postgres_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        env=Environment.TEST,
        secret_key="test-secret-" * 4,
        rate_limits=GENEROUS,
        hold_limits=UNCAPPED,
        database_url=postgres_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        mail_dir=tmp_path / "mail",
        # the receiver is on loopback; retries are due at once (the clock does not move)
        webhooks=WebhookSettings(allowed_networks=LOOPBACK, retry_base_seconds=0),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    built = build(settings, clock=clock)
    migrate.upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container.settings, container)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


@pytest.fixture
def admin(api: Api, container: Container) -> Account:
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, email, PASSWORD)
    return api.login(email)


@dataclass
class Worker:
    """Runs the worker's ``deliver_webhooks`` job through RQ, as the cron scheduler would."""

    container: Container
    connection: redis.Redis
    queue_name: str

    def run(self, times: int = 1) -> None:
        for _ in range(times):
            rq_tasks.queue(self.queue_name, self.connection).enqueue(rq_tasks.deliver_webhooks)
            work(make_job_context(self.container), self.connection, self.queue_name, burst=True)

    def with_settings(self, **changes: Any) -> Worker:
        """The same worker with other webhook settings (as if restarted with them)."""
        settings = replace(
            self.container.settings, webhooks=replace(self.container.settings.webhooks, **changes)
        )
        rebuilt = replace(self.container, settings=settings)
        rebuilt.webhook_urls = replace(
            self.container.webhook_urls,
            require_https=settings.webhooks.require_https,
            allowed_networks=settings.webhooks.allowed_networks,
        )
        return Worker(rebuilt, self.connection, self.queue_name)


@pytest.fixture
def worker(container: Container, redis_client: redis.Redis, queue_name: str) -> Worker:
    return Worker(container, redis_client, queue_name)


@pytest.fixture
def queue_name(redis_client: redis.Redis) -> Iterator[str]:
    name = f"hourbook-test-{uuid4().hex}"
    yield name
    for key in redis_client.scan_iter(match=f"*{name}*"):
        redis_client.delete(key)


def documented_verify() -> Any:
    """The ``verify`` function of docs/webhooks.md, run from the document itself."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Verifying a signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "docs/webhooks.md has no verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify"]
