"""HTTP against a real gunicorn on loopback: the server, a keep-alive client, and bookers."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPConnection, RemoteDisconnected
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from bench.bookers import Booker, BookerFactory
from bench.seed import DURATION

TIMEOUT = 30.0
PASSWORD = "bench password 1"  # noqa: S105 - an account on a throwaway database
_RETRYABLE = (RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class HttpClient:
    """One keep-alive connection, reopened when the server closed it (worker recycling)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection: HTTPConnection | None = None

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body)
        sent = dict(headers or {})
        if data is not None:
            sent["Content-Type"] = "application/json"

        for attempt in (1, 2):
            connection = self._connection or HTTPConnection("127.0.0.1", self.port, TIMEOUT)
            try:
                connection.request(method, path, body=data, headers=sent)
                response = connection.getresponse()
                raw = response.read()
            except _RETRYABLE:
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise
                continue
            self._connection = None if response.will_close else connection
            if response.will_close:
                connection.close()
            return response.status, json.loads(raw or b"null")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    log: Path
    pid: int  # gunicorn's master; its workers are its children


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(app: str, environment: Mapping[str, str], log: Path) -> Iterator[Server]:
    """``app`` under ``entrypoints.serve.gunicorn_conf`` on a free loopback port, stopped after."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:entrypoints.serve.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", app,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            command, env={**os.environ, **environment}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(port, process, log)
            yield Server(port, log, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    client = HttpClient(port)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            if client.call("GET", "/healthz")[0] == 200:
                client.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s: {log.read_text()[-3000:]}")


@dataclass(frozen=True, slots=True)
class Account:
    client_id: UUID
    headers: dict[str, str]


def register_client(port: int) -> Account:
    """A client account over the API, logged in: what a real client does first."""
    client = HttpClient(port)
    email = f"client-{uuid4().hex[:12]}@bench.example"
    body = {"email": email, "password": PASSWORD, "role": "client", "name": "Bench Client"}
    status, made = client.call("POST", "/auth/register", body)
    if status != 202:
        raise RuntimeError(f"register answered {status}: {made}")
    status, tokens = client.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login answered {status}: {tokens}")
    client.close()
    token = str(tokens["access_token"])
    payload = token.split(".")[1]  # the account id is the token's subject (a client's own id)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return Account(UUID(claims["sub"]), {"Authorization": f"Bearer {token}"})


def _booking_body(professional_id: UUID, start: datetime) -> dict[str, object]:
    return {
        "professional_id": str(professional_id),
        "start_time": start.isoformat(),
        "duration_minutes": DURATION // timedelta(minutes=1),
    }


def _outcome(status: int, body: Any) -> bool:
    if status == 201:
        return True
    if status == 409:
        return False
    raise RuntimeError(f"POST /bookings answered {status}: {body}")


def api(port: int, accounts: list[Account]) -> BookerFactory:
    """``POST /bookings`` with the client's token and a fresh Idempotency-Key."""

    def factory(index: int) -> Booker:
        client = HttpClient(port)
        account = accounts[index]

        def book(professional_id: UUID, start: datetime) -> bool:
            headers = {**account.headers, "Idempotency-Key": uuid4().hex}
            return _outcome(*client.call(
                "POST", "/bookings", _booking_body(professional_id, start), headers
            ))

        return book

    return factory


def floor_app(port: int, client_ids: list[UUID]) -> BookerFactory:
    """Floor (b): the same request to the one-INSERT Flask app (``bench.floor_app``)."""

    def factory(index: int) -> Booker:
        client = HttpClient(port)
        client_id = str(client_ids[index])

        def book(professional_id: UUID, start: datetime) -> bool:
            body = {**_booking_body(professional_id, start), "client_id": client_id}
            return _outcome(*client.call("POST", "/bookings", body))

        return book

    return factory
