"""A child process for the multiprocess metrics tests (``PROMETHEUS_MULTIPROC_DIR`` is set by
the parent before this imports prometheus_client, as gunicorn's environment would be).

``python -m tests.integration.api.metrics_process <database url> <n> [--scrape]``: answer n
health checks and one forged webhook; with ``--scrape``, then forget every other process that
left files (as gunicorn's ``child_exit`` hook does for a dead worker) and print a scrape.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from entrypoints.api.app import create_app
from entrypoints.config import Environment, Settings
from entrypoints.metrics import forget_worker, multiprocess_dir


def main(argv: Sequence[str]) -> int:
    database_url, count, *flags = argv
    settings = Settings(
        env=Environment.TEST, database_url=database_url, secret_key="test-secret-" * 4,
        rate_limits_enabled=False,
    )
    client = create_app(settings).test_client()
    for _ in range(int(count)):
        assert client.get("/healthz").status_code == 200
    assert client.post("/stripe/webhook", data=b"{}").status_code == 400
    if "--scrape" in flags:
        folder = multiprocess_dir()
        assert folder is not None
        for pid in {int(path.stem.rsplit("_", 1)[1]) for path in folder.glob("*.db")}:
            if pid != os.getpid():
                forget_worker(pid)
        sys.stdout.write(client.get("/metrics").text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
