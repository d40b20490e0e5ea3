"""Several processes, one set of numbers: prometheus_client's multiprocess mode, on its own and
under gunicorn with the project's configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from adapters.sql import migrate
from entrypoints.metrics import clear_multiprocess_dir
from tests.integration.api.test_metrics import LATENCY, Scrape
from tests.integration.api.test_over_http import free_port

ROOT = Path(__file__).resolve().parents[3]
HEALTH = {"endpoint": "/healthz", "method": "GET", "status": "200"}


def child(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    env.pop("REDIS_URL", None)
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.integration.api.metrics_process", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_a_scrape_adds_up_the_counts_of_every_process_even_one_that_exited(
    tmp_path: Path, sqlite_url: str
) -> None:
    migrate.upgrade(sqlite_url)
    folder = tmp_path / "prometheus"
    folder.mkdir()

    child(folder, sqlite_url, "3")  # a worker that served and died
    metrics = Scrape(child(folder, sqlite_url, "4", "--scrape").stdout)

    assert len({path.stem.rsplit("_", 1)[1] for path in folder.glob("*.db")}) == 2
    assert metrics.value(f"{LATENCY}_count", **HEALTH) == 7
    assert metrics.value("hourbook_webhook_rejected_total") == 2
    assert metrics.value("hourbook_jobs_queued") == 0  # read at scrape time, not per process


def test_under_gunicorn_every_worker_answers_the_total_and_logs_json_with_request_ids(
    tmp_path: Path, sqlite_url: str
) -> None:
    migrate.upgrade(sqlite_url)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {  # no PROMETHEUS_MULTIPROC_DIR: with two workers the configuration makes one
        **{name: value for name, value in os.environ.items()
           if name not in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")},
        "HOURBOOK_BIND": f"127.0.0.1:{port}", "HOURBOOK_WORKERS": "2", "HOURBOOK_THREADS": "2",
        "HOURBOOK_ENV": "test", "DATABASE_URL": sqlite_url,
        "HOURBOOK_SECRET_KEY": "test-secret-" * 4, "HOURBOOK_RATE_LIMITS_ENABLED": "false",
    }  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:entrypoints.serve.gunicorn_conf",
             "entrypoints.api.app:create_app()"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, server, log)
            for number in range(20):  # a connection each, so both workers get some
                answer = requests.get(f"{base}/healthz", timeout=10,
                                      headers={"X-Request-ID": f"probe-{number}"})  # fmt: skip
                assert answer.headers["X-Request-ID"] == f"probe-{number}"
            scrapes = [Scrape(requests.get(f"{base}/metrics", timeout=10).text) for _ in range(6)]
        finally:
            server.terminate()
            server.wait(timeout=20)

    assert [found.value(f"{LATENCY}_count", **HEALTH) for found in scrapes] == [20] * 6
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = {line["request_id"] for line in lines if line["logger"] == "hourbook.access"}
    assert {f"probe-{number}" for number in range(20)} <= access
    [folder] = [line["message"].rsplit(" ", 1)[1] for line in lines
                if line["logger"] == "gunicorn.error" and "add up in" in line["message"]]
    assert not Path(folder).exists()  # removed when the server stopped


def test_the_folder_is_emptied_of_values_from_a_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    clear_multiprocess_dir()

    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 30 s: {log.read_text()[-3000:]}")
