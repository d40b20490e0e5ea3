"""The production shape, started for real: the shipped nginx config in front of two
``hourbook serve`` instances (2 processes each), one ``hourbook worker``, PostgreSQL (a schema of
its own), Redis (a key prefix of its own) and localstripe as Stripe, whose signed webhooks reach
the app through nginx over TLS.

nginx comes from the distribution (``.ci/run`` installs it). Where it is missing the tests skip
with a message, unless ``HOURBOOK_REQUIRE_SERVICES=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import requests
import sqlalchemy as sa

from adapters.sql import migrate
from tests.integration.api.support import PASSWORD
from tests.integration.conftest import REDIS_URL, fresh_schema, service_unavailable
from tests.integration.deploy import nginx

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "whsec_shape_" + "y" * 24
TIMEOUT = 30.0
# Settings that would point a child at the developer's services; the stack sets its own.
_OUTSIDE = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "SMTP_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on {port} after {seconds:.0f} s: {log.read_text()[-3000:]}")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Client:
    """An HTTPS client of nginx whose socket is bound to ``address`` (all of 127/8 is local)."""

    port: int
    address: str = "127.0.0.1"
    headers: dict[str, str] = field(default_factory=dict)

    def call(
        self, method: str, path: str, body: object = None, *, chunks: Iterable[bytes] | None = None,
        **headers: str,
    ) -> Reply:  # fmt: skip
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # nginx's certificate is made up for the test
        connection = HTTPSConnection(
            "127.0.0.1", self.port, timeout=TIMEOUT, context=context,
            source_address=(self.address, 0),
        )  # fmt: skip
        try:
            sent = {**self.headers, **headers}
            if body is not None or chunks is not None:
                sent["Content-Type"] = "application/json"
            data = json.dumps(body).encode() if body is not None else chunks
            connection.request(method, path, body=data, headers=sent,
                               encode_chunked=chunks is not None)  # fmt: skip
            response = connection.getresponse()
            raw = response.read()
            headers_in = {name.lower(): value for name, value in response.getheaders()}
            is_json = raw and "json" in headers_in.get("content-type", "")
            return Reply(response.status, headers_in, json.loads(raw) if is_json else raw)
        finally:
            connection.close()

    def signed_up(self, role: str, mail: Path) -> Client:
        """A new account of ``role`` made from this client's address, its address verified
        through the link mailed into ``mail`` (production requires it before booking), and
        logged in."""
        email = f"{role}-{uuid4().hex[:12]}@example.com"
        body: dict[str, str] = {"email": email, "password": PASSWORD, "role": role}
        if role == "client":
            body["name"] = "Cleo Client"
        registered = self.call("POST", "/auth/register", body)
        assert registered.status == 202, registered.body
        followed = self.call("GET", verification_link(mail, email))
        assert followed.body == {"status": "verified", "email": email}, followed.body
        login = self.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        token = {"Authorization": f"Bearer {login.body['access_token']}"}
        return Client(self.port, self.address, {**self.headers, **token})


_LINK = re.compile(r"https://\S+(/auth/verify-email\?token=\S+)")


def verification_link(mail: Path, address: str, seconds: float = 10) -> str:
    """The path and query of the verification link an instance mailed to ``address``."""
    deadline = time.monotonic() + seconds
    while True:
        for path in mail.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address and isinstance(message, EmailMessage):
                text = message.get_body(preferencelist=("plain",))
                found = _LINK.search(text.get_content()) if text is not None else None
                assert found, f"no verification link in {path}"
                return found.group(1)
        if time.monotonic() > deadline:
            pytest.fail(f"no verification link mailed to {address} within {seconds:.0f} s")
        time.sleep(0.1)


@dataclass
class Stack:
    nginx: nginx.Nginx
    instances: list[subprocess.Popen[bytes]]
    instance_ports: list[int]
    engine: sa.Engine
    localstripe: str
    folder: Path

    def client(self, address: str = "127.0.0.1") -> Client:
        return Client(self.nginx.ports.https, address)

    def signed_up(self, role: str, address: str) -> Client:
        """A verified, logged-in account of ``role`` from ``address``."""
        return self.client(address).signed_up(role, self.folder / "mail")

    def kill_instance(self, index: int) -> None:
        """SIGKILL an instance's whole process group: master and workers, no goodbye. Returns
        once its port refuses connections (every process holding the socket is gone)."""
        process = self.instances[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.instance_ports[index]), 0.5).close()
            except OSError:
                return
            assert time.monotonic() < deadline, "the killed instance still accepts connections"
            time.sleep(0.05)

    def instance_log(self, index: int) -> str:
        return (self.folder / f"serve-{index}.log").read_text(errors="replace")


def require_nginx() -> str:
    binary = nginx.nginx_binary()
    if binary is None:
        message = "nginx is not installed (`apt-get install -y nginx`; .ci/run does it)"
        if os.environ.get("HOURBOOK_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def schema_url(postgres_admin: tuple[sa.Engine, str]) -> Iterator[str]:
    with fresh_schema(postgres_admin) as url:
        yield url


@pytest.fixture(scope="module")
def module_redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        service_unavailable("Redis", "start redis-server or point REDIS_URL at one", error)
    prefix = f"hourbook-test:{uuid4().hex}:"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def _start(
    command: list[str], env: dict[str, str], log: Path, **options: Any
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, **options,
        )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@pytest.fixture(scope="module")
def stack(
    schema_url: str, module_redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    binary = require_nginx()
    folder = tmp_path_factory.mktemp("production-shape")
    ports = nginx.Ports(http=free_port(), https=free_port())
    public = f"https://127.0.0.1:{ports.https}"
    processes: list[subprocess.Popen[bytes]] = []
    edge: nginx.Nginx | None = None
    try:
        # localstripe trusts our made-up certificate (aiohttp reads SSL_CERT_FILE), so its
        # webhooks reach the app the way Stripe's do: HTTPS to nginx.
        nginx.self_signed_certificate(folder)
        stripe_port = free_port()
        stripe_env = {**os.environ, "SSL_CERT_FILE": str(folder / "fullchain.pem")}
        localstripe = _start(
            [sys.executable, "-m", "tests.integration.payments.localstripe_server",
             str(stripe_port)], stripe_env, folder / "localstripe.log",
        )  # fmt: skip
        processes.append(localstripe)
        wait_for_port(stripe_port, localstripe, folder / "localstripe.log", 20)
        stripe_url = f"http://127.0.0.1:{stripe_port}"
        registered = requests.post(
            f"{stripe_url}/_config/webhooks/hourbook-shape",
            data={"url": f"{public}/stripe/webhook", "secret": WEBHOOK_SECRET}, timeout=5,
        )  # fmt: skip
        registered.raise_for_status()

        migrate.upgrade(schema_url)
        env = {name: value for name, value in os.environ.items() if name not in _OUTSIDE}
        env.update(
            HOURBOOK_ENV="production",
            HOURBOOK_INSTANCE_DIR=str(folder / "instance"),
            DATABASE_URL=schema_url,
            REDIS_URL=REDIS_URL,
            HOURBOOK_REDIS_PREFIX=module_redis_prefix,
            HOURBOOK_SECRET_KEY="production-shape-secret-" + "z" * 24,
            HOURBOOK_METRICS_TOKEN="metrics-token-" + "m" * 24,
            STRIPE_API_KEY="sk_test_production_shape",
            STRIPE_API_BASE=stripe_url,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            HOURBOOK_PUBLIC_URL=public,
            HOURBOOK_TRUSTED_PROXIES="127.0.0.1/32",  # nginx, and only nginx
            HOURBOOK_MAIL_DIR=str(folder / "mail"),
        )
        instance_ports = [free_port(), free_port()]
        for index, port in enumerate(instance_ports):
            processes.append(_start(
                [sys.executable, "-m", "entrypoints.cli.main", "serve",
                 "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
                env, folder / f"serve-{index}.log",
            ))  # fmt: skip
        # Every Redis key, RQ's included, is under the module's own HOURBOOK_REDIS_PREFIX, so
        # this worker takes only this stack's jobs on the shared Redis.
        processes.append(_start(
            [sys.executable, "-m", "entrypoints.cli.main", "worker"], env, folder / "worker.log"
        ))  # fmt: skip
        for index, port in enumerate(instance_ports):
            wait_for_port(port, processes[1 + index], folder / f"serve-{index}.log", 60)
        edge = nginx.start(
            binary, upstreams=[f"127.0.0.1:{port}" for port in instance_ports], ports=ports,
            folder=folder,
        )  # fmt: skip
        engine = sa.create_engine(schema_url, poolclass=sa.pool.NullPool)
        up = Stack(edge, processes[1:3], instance_ports, engine, stripe_url, folder)
        _wait_until_served(up)
        yield up
        engine.dispose()
    finally:
        if edge is not None:
            edge.stop()
        for process in reversed(processes):
            _stop(process)


def _wait_until_served(stack: Stack) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if stack.nginx.process.poll() is not None:
            pytest.fail(f"nginx exited: {(stack.folder / 'nginx.out').read_text()}")
        try:
            if stack.client().call("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("nginx did not answer /healthz within 30 s")
