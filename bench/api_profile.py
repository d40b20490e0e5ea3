"""Where an API process spends its CPU on ``POST /bookings``, sampled by py-spy under load.

py-spy samples the gunicorn workers from outside (``--subprocesses``), and only threads holding
the GIL (``--gil``), so the shares are of the Python CPU of the API processes while four clients
book, as in the throughput runs. Each sample goes to the first part, in the order of ``PARTS``,
whose frame is on its stack: the token check runs inside the rate limiter's caller key, so it
is looked for first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Frames = list[str]
SAMPLES_PER_SECOND = 200


def _under(*markers: str) -> Callable[[Frames], bool]:
    return lambda frames: any(marker in frame for frame in frames for marker in markers)


_SERVICE = "create_booking (booking/services.py"
# (part, is the sample in it); "in the booking service" rows are indented under it.
PARTS: tuple[tuple[str, Callable[[Frames], bool]], ...] = (
    ("the token (PyJWT, revocation lookup)", _under("verify_token (entrypoints/api/security.py")),
    ("booking service: reading the locked calendar", _under("lock_calendar (adapters/sql")),
    ("booking service: the insert, the outbox row, the commit",
     _under("SqlBookings.add (adapters/sql", "SqlUnitOfWork.commit (adapters/sql")),
    ("booking service: idempotency claim and record (Redis)",
     _under("RedisIdempotencyStore.claim", "RedisIdempotencyStore.complete")),
    ("booking service: opening and attaching the payment",
     _under("_open_payment (booking/services.py")),
    ("booking service: the rest (rules, units of work)", _under(_SERVICE)),
    ("rate limit (flask-limiter: Redis scripts, headers)",
     _under("_check_request_limit (flask_limiter", "__inject_headers (flask_limiter")),
    ("the view's own code (command, answer)", _under("Bookings.post (entrypoints/api/bookings")),
    ("request parsing and response (webargs, marshmallow)",
     _under("Parser.parse (webargs", "Schema.dump (marshmallow", "Schema.load (marshmallow")),
    ("Flask, the view's decorators, the app's hooks (JSON log, metrics)",
     _under("Flask.wsgi_app (flask/app.py")),
    ("gunicorn (HTTP, threads)", lambda frames: True),
)


@dataclass(frozen=True, slots=True)
class Shares:
    samples: int
    by_part: dict[str, float]  # share of the samples, in PARTS order


def _py_spy() -> str | None:
    """py-spy from PATH, or from this interpreter's venv (run without activating it)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def available() -> bool:
    return _py_spy() is not None


def record(server_pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start sampling the server's workers for ``seconds``; wait for the returned process."""
    command = [
        _py_spy() or "py-spy", "record", "--pid", str(server_pid), "--subprocesses", "--gil",
        "--nonblocking", "--rate", str(SAMPLES_PER_SECOND), "--duration", str(round(seconds)),
        "--format", "raw", "--output", str(output),
    ]
    return subprocess.Popen(  # noqa: S603 - a fixed command on our own server's pid
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def shares(raw: Path) -> Shares:
    """The share of samples in each part, from py-spy's raw output (``stack count`` lines)."""
    counted: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        for part, contains in PARTS:
            if contains(frames):
                counted[part] += int(count)
                break
    total = sum(counted.values())
    return Shares(total, {part: counted[part] / total if total else 0.0 for part, _ in PARTS})
