"""The app under gunicorn on a real port: a booking over HTTP, and 20 clients racing for a slot."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from adapters.sql import migrate
from entrypoints.config import Settings
from tests.integration.api.support import PASSWORD, PROFILE

TIMEOUT = 30.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Server:
    port: int

    def call(self, method: str, path: str, body: object = None, **headers: str) -> Reply:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            data = None if body is None else json.dumps(body)
            if data is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            return Reply(response.status, dict(response.getheaders()), json.loads(raw or "null"))
        finally:
            connection.close()

    def account(self, role: str) -> dict[str, str]:
        email = f"{role}-{uuid4().hex[:12]}@example.com"
        body: dict[str, str] = {"email": email, "password": PASSWORD, "role": role}
        if role == "client":
            body["name"] = "Cleo Client"
        assert self.call("POST", "/auth/register", body).status == 202
        login = self.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        return {"Authorization": f"Bearer {login.body['access_token']}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "HOURBOOK_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "HOURBOOK_SECRET_KEY": settings.secret_key,
        "HOURBOOK_RATE_LIMIT_DEFAULT": "100000/minute",
        "HOURBOOK_RATE_LIMIT_LOGIN": "100000/minute",
        "HOURBOOK_RATE_LIMIT_BOOKING": "100000/minute",
        "HOURBOOK_RATE_LIMIT_REGISTER": "100000/minute",
        "HOURBOOK_REDIS_PREFIX": settings.redis_prefix,
    }
    env.pop("REDIS_URL", None)
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    migrate.upgrade(settings.database_url)
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", "2", "--threads", "8",
            "--timeout", "30", "--graceful-timeout", "5",
            "entrypoints.api.app:create_app()",
        ],
        env=environment(settings), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(Server(port), process, tmp_path / "gunicorn.log")
        yield Server(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def wait_until_up(server: Server, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if server.call("GET", "/healthz").status == 200:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 30 s: {log.read_text()[-2000:]}")


def tomorrow_at(hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def professional(server: Server) -> str:
    owner = server.account("professional")
    created = server.call("POST", "/professionals", PROFILE, **owner)
    assert created.status == 201, created.body
    return str(created.body["id"])


def test_a_client_books_over_real_http_under_gunicorn(server: Server) -> None:
    pro_id = professional(server)
    client = server.account("client")
    slots = server.call(
        "GET", f"/professionals/{pro_id}/slots?duration_minutes=60"
        f"&from={tomorrow_at(9).replace('+', '%2B')}&to={tomorrow_at(12).replace('+', '%2B')}",
    )
    start = slots.body["slots"][0]["start_time"]

    booked = server.call(
        "POST", "/bookings",
        {"professional_id": pro_id, "start_time": start, "duration_minutes": 60},
        **client, **{"Idempotency-Key": "http-1"},
    )
    replayed = server.call(
        "POST", "/bookings",
        {"professional_id": pro_id, "start_time": start, "duration_minutes": 60},
        **client, **{"Idempotency-Key": "http-1"},
    )
    read = server.call("GET", f"/bookings/{booked.body['id']}", **client)

    assert booked.status == 201, booked.body
    assert booked.body["status"] == "pending"
    assert booked.body["total_price_cents"] == 6000
    assert replayed.status == 201
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert read.body["id"] == booked.body["id"]


def test_twenty_parallel_requests_for_one_slot_make_exactly_one_booking(server: Server) -> None:
    pro_id = professional(server)
    clients = [server.account("client") for _ in range(20)]
    body = {"professional_id": pro_id, "start_time": tomorrow_at(10), "duration_minutes": 60}
    barrier = threading.Barrier(len(clients))

    def attempt(headers: dict[str, str]) -> int:
        barrier.wait(timeout=TIMEOUT)
        reply = server.call(
            "POST", "/bookings", body, **headers, **{"Idempotency-Key": str(uuid4())}
        )
        return reply.status

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        statuses = list(pool.map(attempt, clients))

    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == len(clients) - 1, statuses
