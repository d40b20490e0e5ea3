"""Running ``hourbook`` as a user does: a child process, in a folder of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Settings that would point a child at outside services; each test sets what it means to use.
_SERVICES = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "SMTP_URL")


def environment(folder: Path, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _SERVICES}
    env.update(HOURBOOK_INSTANCE_DIR=str(folder / "instance"), **settings)
    return env


def sqlite_in(folder: Path) -> str:
    return f"sqlite+pysqlite:///{folder / 'cli.sqlite3'}"


def hourbook(
    *args: str, env: dict[str, str], cwd: Path, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "entrypoints.cli.main", *args],
        env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_when_up(url: str, server: subprocess.Popen[str], *, seconds: float = 60) -> object:
    """The JSON ``url`` answers once ``server`` is up; fails the test if it exits or stays down."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{server.args} exited: {server.communicate()[0][-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nothing answered {url} within {seconds:.0f} s")
