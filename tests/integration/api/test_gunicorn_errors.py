"""Errors gunicorn raises before the app sees the request come back in the API's JSON shape,
under the gunicorn configuration ``hourbook serve`` uses (``entrypoints.serve.gunicorn_conf``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sql import migrate
from tests.integration.api.test_over_http import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("gunicorn-errors")
    database = f"sqlite+pysqlite:///{folder / 'db.sqlite3'}"
    migrate.upgrade(database)
    chosen = free_port()
    env = {
        name: value for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_API_BASE")
    }  # fmt: skip
    env.update(
        HOURBOOK_ENV="development", DATABASE_URL=database, HOURBOOK_SECRET_KEY="k" * 48,
        HOURBOOK_INSTANCE_DIR=str(folder), HOURBOOK_BIND=f"127.0.0.1:{chosen}",
        HOURBOOK_WORKERS="1", HOURBOOK_THREADS="2",
    )  # fmt: skip
    log = (folder / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:entrypoints.serve.gunicorn_conf",
         "entrypoints.serve.wsgi:application()"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (folder / "gunicorn.log").read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", chosen), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not listen within 30 s"
                time.sleep(0.1)
        yield chosen
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], object]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
         431, "request_header_fields_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", 400, "bad_request"),
        (b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "bad_request"),
    ],
    ids=["long request line", "big header", "control character", "negative length"],
)
def test_gunicorns_own_errors_answer_in_the_api_error_shape(
    port: int, request_bytes: bytes, status: int, code: str
) -> None:
    answered, headers, body = raw(port, request_bytes)

    assert answered == status
    assert headers["Content-Type"] == "application/json"
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("trusted", "allowed"),
    [("", "0.0.0.0/32"), ("127.0.0.1/32,10.0.0.0/8", "127.0.0.1/32,10.0.0.0/8"), ("1", "*")],
)
def test_gunicorn_believes_scheme_headers_from_exactly_the_proxies_the_app_trusts(
    trusted: str, allowed: str
) -> None:
    env = {**os.environ, "HOURBOOK_TRUSTED_PROXIES": trusted, "HOURBOOK_WORKERS": "1"}
    show = (
        "import entrypoints.serve.gunicorn_conf as c; print(c.forwarded_allow_ips, c.worker_class)"
    )
    shown = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", show],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert shown.stdout.split() == [allowed, "entrypoints.serve.gunicorn_worker.JsonErrorsWorker"]
