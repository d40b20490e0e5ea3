"""gunicorn configuration for ``hourbook serve`` (``gunicorn -c python:entrypoints.gunicorn_conf``).

Every value can be overridden from the environment, so one file serves a laptop and a
production host. Defaults are the ones measured in ``docs/performance.md``: the ``gthread``
worker with 2 processes × 4 threads per 2 cores, which overlaps the waits on PostgreSQL and
Redis without the memory of more processes. Each worker process builds its own app (and so its
own database pool) after the fork: ``preload_app`` stays off so no connection is shared across
processes.
"""

from __future__ import annotations

import multiprocessing
import os

from entrypoints import logs

bind = os.environ.get("HOURBOOK_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("HOURBOOK_WORKERS", str(min(multiprocessing.cpu_count(), 8))))
threads = int(os.environ.get("HOURBOOK_THREADS", "4"))
# Behind a load balancer: requests must finish well inside its idle timeout.
timeout = int(os.environ.get("HOURBOOK_WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak in a dependency cannot grow without bound.
max_requests = 10_000
max_requests_jitter = 1_000
preload_app = False
# The load balancer in front (docs/deploy.md) sets X-Forwarded-*; trust it on loopback only.
forwarded_allow_ips = os.environ.get("HOURBOOK_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app logs every request itself, as JSON with its request id
errorlog = "-"
loglevel = os.environ.get("HOURBOOK_LOG_LEVEL", "info")
logconfig_dict = logs.dict_config(loglevel)  # gunicorn's own lines as JSON too
